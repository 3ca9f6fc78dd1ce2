// `ec2-runner run` with a project folder, a script on stdin and --artifacts, as a child process on the sandbox.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../support/runChecks';
import { withSandbox, type SandboxFixture } from '../support/sandbox';
import { tempDir, writeTree } from '../support/projectFixtures';

const sandboxReady = withSandbox({ instances: 1 });
const CLI = join(__dirname, '..', '..', '..', 'dist', 'cli.js');

/** The CLI with `input` on its stdin. */
function runCliWithInput(
  args: string[],
  env: NodeJS.ProcessEnv,
  input: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

describe('ec2-runner run: projects, stdin and artifacts', () => {
  let fx: SandboxFixture;
  let instance: string;
  let root: string;

  before(async () => {
    fx = await sandboxReady;
    instance = fx.info.instances[0].instanceId;
    root = writeTree(tempDir(), {
      'app/main.py':
        'import os, sys\nfrom tools import ' +
        'double\nprint(double(int(sys.argv[1])))\nopen(os.path.join(os.environ["EC2_RUNNER_ARTIFACTS"], ' +
        '"out.csv"), "w").write("a,b\\n1,2\\n")\n',
      'app/tools.py': 'def double(x):\n    return 2 * x\n',
      'requirements.txt': 'this-would-fail-to-install\n',
    });
  });

  test('run DIR --entry FILE --no-deps --artifacts OUT runs the project and saves its artifacts', async () => {
    const out = join(tempDir(), 'out');
    const r = await runCli(
      ['run', root, '--entry', 'app/main.py', '--no-deps', '--instance', instance, '--artifacts', out, '--', '21'],
      fx.env,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.toString(), '42\n');
    // A fresh folder per run and instance: OUT/<commandId>/<instanceId>/.
    const saved = /saved 1 artifact\(s\) to (.*out\/[0-9a-f-]{36}\/i-[0-9a-f]+\/): out\.csv \(8 B\)/.exec(r.stderr);
    assert.ok(saved, r.stderr);
    assert.equal(readFileSync(join(saved[1], 'out.csv'), 'utf8'), 'a,b\n1,2\n');
  });

  test('run DIR/FILE --project DIR is the same run; without --artifacts the artifacts are mentioned', async () => {
    const r = await runCli(
      ['run', join(root, 'app', 'main.py'), '--project', root, '--no-deps', '--instance', instance, '--', '5'],
      fx.env,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.toString(), '10\n');
    assert.match(r.stderr, /1 artifact\(s\): out\.csv \(8 B\); pass --artifacts DIR to save them/);
  });

  test('run - --language python reads the script from stdin', async () => {
    const r = await runCliWithInput(
      ['run', '-', '--language', 'python', '--instance', instance, '--', 'x y'],
      fx.env,
      'import sys\nprint("stdin", sys.argv[1:])\n',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "stdin ['x y']\n");
  });

  test('a malformed pyproject.toml: one line naming the file and the TOML error, exit 252; --no-deps does not read it', async () => {
    const project = writeTree(tempDir(), {
      'pyproject.toml': '[project]\ndependencies = "requests"\nname = \n',
      'main.py': 'print("ran")\n',
    });
    const r = await runCli(['run', project, '--entry', 'main.py', '--instance', instance], fx.env);
    assert.equal(r.code, 252);
    assert.equal(r.stdout.toString(), '');
    assert.equal(
      r.stderr,
      `ec2-runner: ${join(project, 'pyproject.toml')}: not valid TOML (line 3, column 8: invalid value): fix ` +
        `the file, or run without installing dependencies (--no-deps).\n`,
    );
    const skipped = await runCli(['run', project, '--entry', 'main.py', '--no-deps', '--instance', instance], fx.env);
    assert.equal(skipped.code, 0, skipped.stderr);
    assert.equal(skipped.stdout.toString(), 'ran\n');
  });

  test('usage mistakes get one clear line', async () => {
    const folder = await runCli(['run', root, '--instance', instance], fx.env);
    assert.equal(folder.code, 252);
    assert.match(folder.stderr, /is a folder: name the file to run with --entry FILE/);
    const noLanguage = await runCliWithInput(['run', '-', '--instance', instance], fx.env, 'print(1)\n');
    assert.equal(noLanguage.code, 252);
    assert.match(noLanguage.stderr, /needs its language: ec2-runner run - --language python/);
    const outside = await runCli(['run', '/etc/hostname', '--project', root, '--instance', instance], fx.env);
    assert.equal(outside.code, 252);
    assert.match(outside.stderr, /is not inside the project folder/);
  });
});
