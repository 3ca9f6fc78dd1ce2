// The script on the instance as the attacker: it reads the run's POST policy from the agent's own
// `_script.sh` (as root on EC2 it can; on the sandbox it is the same user) and uploads live-output
// objects of its own under the run's prefix: an artifacts frame for the "instance" `..` (the old
// traversal: files landed next to the chosen folder), frames for an instance SSM never targeted (the
// old hang: a tag-target run waited forever for SSM to confirm it). Played through the CLI with
// `--artifacts` and through the extension's Download Artifacts path (saveRunArtifacts).
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine } from '../../src/core';
import { saveRunArtifacts } from '../../src/extension/artifactList';
import { makeTempDir } from '../support/tempDirs';
import { nothingLeftRunning, runCli } from '../support/runChecks';
import { engineOnSandbox } from '../support/engineOnSandbox';
import type { SandboxFixture } from '../support/sandbox';

const sandboxReady = engineOnSandbox({ instances: 2 });

/** Python run on the instance: finds the policy in its own command, forges objects, leaves one real artifact. */
const ATTACK_PY = String.raw`
import base64, io, json, os, re, struct, sys, tarfile, urllib.request, uuid, zlib

def command_text():
    pid = os.getppid()
    while pid > 1:
        for arg in open("/proc/%d/cmdline" % pid, "rb").read().split(b"\0"):
            if b"_script.sh" in arg:
                return open(arg.strip(b"'").decode(), "r").read()
        pid = int(open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[1])
    sys.exit("no _script.sh among my ancestors")

text = command_text()
packed = re.search(r'zlib\.decompress\(base64\.b64decode\(\n?((?:"[A-Za-z0-9+/=]*"\n?)+)\)\)', text)
if packed:
    text = zlib.decompress(base64.b64decode(re.sub(r'["\n]', "", packed.group(1)))).decode()
spec = json.loads(base64.b64decode(re.search(r'^SPEC_BASE64 = "([A-Za-z0-9+/=]+)"$', text, re.M).group(1)))
output = spec["output"]

def frame(letter, payload):
    return letter + struct.pack(">I", len(payload)) + payload

def tar_of(name, content):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        info = tarfile.TarInfo(name)
        info.size = len(content)
        archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()

def post(key, body):
    boundary = uuid.uuid4().hex
    data = b""
    for name, value in output["fields"]:
        part = (boundary, name, key if name == "key" else value)
        data += ("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n" % part).encode()
    if "key" not in [name for name, _ in output["fields"]]:
        data += ("--%s\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\n%s\r\n" % (boundary, key)).encode()
    data += ("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x\"\r\n\r\n" % boundary).encode()
    data += body + ("\r\n--%s--\r\n" % boundary).encode()
    request = urllib.request.Request(output["url"], data=data, method="POST")
    request.add_header("Content-Type", "multipart/form-data; boundary=" + boundary)
    urllib.request.urlopen(request, timeout=30).read()

prefix = output["keyPrefix"]
forged = {
    "../00000000": frame(b"S", b"{}") + frame(b"a", tar_of("pwned-dotdot.txt", b"escaped")) + frame(b"x", b"0"),
    "..\\..\\escape/00000000": frame(b"S", b"{}") + frame(b"a", tar_of("pwned-backslash.txt", b"escaped"))
    + frame(b"x", b"0"),
    "i-00000000deadbeef0/00000000": frame(b"S", b"{}") + frame(b"o", b"forged output\n")
    + frame(b"a", tar_of("pwned-unknown.txt", b"x")),
}
uploaded = 0
for suffix, body in forged.items():
    try:
        post(prefix + suffix, body)
        uploaded += 1
    except Exception as error:
        print("upload refused: %s" % error, file=sys.stderr)
print("forged %d objects" % uploaded, flush=True)
open(os.path.join(os.environ["EC2_RUNNER_ARTIFACTS"], "real.txt"), "w").write("genuine")
`;

describe('security: a hostile script forges live-output objects under its run prefix', () => {
  let fx: SandboxFixture;
  let engine: Engine;
  let base: string;
  let commandId: string;
  let online: string[];
  before(async () => {
    ({ fx, engine } = await sandboxReady);
    online = [...fx.onlineInstanceIds].sort();
    base = makeTempDir('ec2-runner-hostile-');
  });

  test("CLI, tag target, --artifacts: the run ends, reports only SSM's instances and writes only inside OUT/<commandId>/<instanceId>/", async () => {
    const script = join(base, 'attack.py');
    writeFileSync(script, ATTACK_PY);
    const out = join(base, 'out');
    writeFileSync(join(base, 'sentinel'), 'untouched');
    const started = Date.now();
    // Before the fix the run waited for SSM to confirm the forged instance until the client-side
    // timeout (900 s here), then reported it TimedOut: the CLI is killed long before that (no exit code).
    const r = await runCli(
      ['run', script, '--tag', 'Role=worker', '--json', '--timeout', '900', '--artifacts', out],
      fx.env,
      400_000,
    );
    const seconds = (Date.now() - started) / 1000;
    assert.equal(r.code, 0, `after ${seconds} s: ${r.stderr}`);
    const doc = JSON.parse(r.stdout.toString()) as {
      commandId: string;
      invocations: Array<{ instanceId: string; stdout: string }>;
    };
    commandId = doc.commandId;
    assert.deepEqual(
      doc.invocations.map((i) => i.instanceId).sort(),
      online,
      'only the instances SSM targeted are reported',
    );
    for (const i of doc.invocations)
      assert.match(i.stdout, /forged 3 objects/, 'the forged uploads were accepted by S3 (the attack really happened)');
    assert.deepEqual(readdirSync(base).sort(), ['attack.py', 'out', 'sentinel']);
    assert.deepEqual(readdirSync(out), [commandId]);
    assert.deepEqual(readdirSync(join(out, commandId)).sort(), online);
    for (const id of online) {
      assert.deepEqual(readdirSync(join(out, commandId, id)), ['real.txt']);
      assert.equal(readFileSync(join(out, commandId, id, 'real.txt'), 'utf8'), 'genuine');
    }
    assert.match(r.stderr, new RegExp(`saved 2 artifact\\(s\\) to .*out/${commandId}/: real\\.txt`));
    assert.equal(readFileSync(join(base, 'sentinel'), 'utf8'), 'untouched');
    await nothingLeftRunning(commandId);
  });

  test('CLI, --artifacts into a git repository: an artifact .git/config is refused, the repository is untouched', async () => {
    const repo = makeTempDir('ec2-runner-repo-');
    mkdirSync(join(repo, '.git'));
    writeFileSync(join(repo, '.git', 'config'), '[core]\n\trepositoryformatversion = 0\n');
    const script = join(base, 'plant.sh');
    writeFileSync(
      script,
      'mkdir -p "$EC2_RUNNER_ARTIFACTS/.git" && printf "[core]\\n\\tfsmonitor = touch /tmp/pwned\\n" > ' +
        '"$EC2_RUNNER_ARTIFACTS/.git/config"\necho planted > "$EC2_RUNNER_ARTIFACTS/notes.txt"\n',
    );
    const r = await runCli(['run', script, '--instance', online[0], '--artifacts', repo], fx.env, 120_000);
    // The script ran and succeeded: not 254 ("not run") but 251, "ran, artifacts not saved", with the reason.
    assert.equal(r.code, 251, r.stderr);
    assert.match(
      r.stderr,
      /ec2-runner: the run ended \(exit code 0\) but its artifacts were not saved: Refusing to save artifact "\.git\/config": "\.git" is a control folder/,
    );
    assert.equal(readFileSync(join(repo, '.git', 'config'), 'utf8'), '[core]\n\trepositoryformatversion = 0\n');
    assert.deepEqual(readdirSync(repo), ['.git'], 'nothing is saved when one name is refused');
    // A script that failed keeps its own exit code; the refusal is still said.
    writeFileSync(script, `${readFileSync(script, 'utf8')}exit 3\n`);
    const failed = await runCli(['run', script, '--instance', online[0], '--artifacts', repo], fx.env, 120_000);
    assert.equal(failed.code, 3, failed.stderr);
    assert.match(
      failed.stderr,
      /the run ended \(exit code 3\) but its artifacts were not saved: Refusing to save artifact/,
    );
    assert.deepEqual(readdirSync(repo), ['.git']);
  });

  test("Download Artifacts (the extension's path): the same forged run writes only the real artifacts into a fresh folder", async () => {
    assert.ok(commandId, 'the CLI test ran first');
    const workspace = makeTempDir('ec2-runner-hostile-ws-');
    const root = join(workspace, '.ec2-runner', 'artifacts');
    const { folder, written } = await saveRunArtifacts(engine, commandId, root);
    assert.equal(folder, join(root, commandId));
    assert.deepEqual(
      written.map((f) => f.slice(folder.length + 1)).sort(),
      online.map((id) => join(id, 'real.txt')),
    );
    assert.deepEqual(readdirSync(workspace), ['.ec2-runner']);
    assert.deepEqual(readdirSync(root), [commandId]);
    assert.equal(existsSync(join(root, 'pwned-dotdot.txt')), false);
    // A second download never overwrites the first.
    await assert.rejects(saveRunArtifacts(engine, commandId, root), { code: 'ArtifactsFolderExists' });
    // A crafted command id (a Runs item, a command link) never becomes a path either.
    mkdirSync(join(workspace, 'x'));
    await assert.rejects(saveRunArtifacts(engine, '../../x', join(workspace, 'x')), (error: Error) =>
      /not an SSM command id|InvalidCommandId|not a valid|command/i.test(error.message),
    );
    assert.deepEqual(readdirSync(join(workspace, 'x')), []);
  });
});
