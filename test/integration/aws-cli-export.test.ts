// "Copy as AWS CLI Command" (`ec2-runner run|exec … --print-aws-cli`): the printed sh script, run
// with the real `aws` CLI against the sandbox, reproduces the run: the same output, the same exit
// code, arguments with quotes, spaces and `$` intact; a file too large to travel in the command is
// staged with `aws s3 cp` and fetched by the instance with its role (modelled here by an `aws` on the
// instance's PATH that carries the sandbox's credentials, as an instance profile would).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DEFAULT_INSTANCE_PATH } from '../../src/sandbox/agent';
import { sandboxEnvironment } from '../../src/sandbox/environment';
import { withSandbox } from '../support/sandbox';

const CLI = resolve(__dirname, '..', '..', '..', 'dist', 'cli.js');

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<Outcome> {
  return new Promise((done) => {
    execFile(file, args, { env, maxBuffer: 16 * 1024 * 1024, timeout: 400_000 }, (error, stdout, stderr) => {
      const failure = error as (Error & { code?: unknown; signal?: string }) | null;
      const code = !failure ? 0 : typeof failure.code === 'number' ? failure.code : -1;
      // Not an exit status (killed, a timeout): say what happened in the assertion's message.
      done({
        code,
        stdout,
        stderr: code === -1 ? `${stderr}\n${failure?.message} (signal ${failure?.signal})` : stderr,
      });
    });
  });
}

describe('--print-aws-cli: the printed aws commands reproduce the run', async () => {
  const work = mkdtempSync(join(tmpdir(), 'ec2-runner-aws-cli-'));
  after(() => rmSync(work, { recursive: true, force: true }));
  // The instance's "role": an aws on its PATH with the sandbox's credentials (the agent gives scripts no AWS_*
  // variables).
  const roleBin = join(work, 'role-bin');
  mkdirSync(roleBin);
  const realAws = execFileSync('sh', ['-c', 'command -v aws'], { encoding: 'utf8' }).trim();
  const fx = await withSandbox({ instancePath: `${roleBin}:${DEFAULT_INSTANCE_PATH}` });
  const roleEnv = Object.entries({
    ...sandboxEnvironment(fx.info),
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    HOME: process.env.HOME ?? '/root',
  })
    .map(([k, v]) => `export ${k}='${v}'`)
    .join('\n');
  writeFileSync(join(roleBin, 'aws'), `#!/bin/sh\n${roleEnv}\nexec '${realAws}' "$@"\n`);
  chmodSync(join(roleBin, 'aws'), 0o755);
  const instanceId = fx.onlineInstanceIds[0];
  const cli = (...args: string[]) => run(process.execPath, [CLI, ...args], fx.env);

  /** Prints the script for `args`, runs it with sh, and runs the same with ec2-runner itself. */
  async function both(args: string[]): Promise<{ script: string; viaAws: Outcome; direct: Outcome }> {
    const dash = args.includes('--') ? args.indexOf('--') : args.length;
    const printed = await cli(...args.slice(0, dash), '--print-aws-cli', ...args.slice(dash));
    assert.equal(printed.code, 0, printed.stderr);
    const scriptFile = join(work, `script-${randomBytes(4).toString('hex')}.sh`);
    writeFileSync(scriptFile, printed.stdout);
    const [viaAws, direct] = await Promise.all([run('sh', [scriptFile], fx.env), cli(...args)]);
    return { script: printed.stdout, viaAws, direct };
  }

  test('a file with awkward arguments and an environment variable: same output, same exit code', async () => {
    const file = join(work, 'args.py');
    writeFileSync(
      file,
      'import os, sys\nfor a in sys.argv[1:]:\n    print("arg", repr(a))\nprint("env", ' +
        'os.environ["GREETING"])\nsys.stderr.write("to stderr\\n")\nsys.exit(3)\n',
    );
    const { script, viaAws, direct } = await both([
      'run',
      file,
      '--instance',
      instanceId,
      '--env',
      'GREETING=hi there',
      '--',
      "it's",
      'a "b"',
      '$HOME',
      'x;y',
    ]);
    assert.doesNotMatch(script, /aws s3 cp/, 'a small file travels in the command: nothing to stage');
    assert.match(script, /--cli-input-json "file:\/\/\$ec2r_json"/);
    assert.equal(direct.code, 3, direct.stderr);
    assert.equal(viaAws.code, 3, `${viaAws.stderr}\n${script.slice(0, 400)}`);
    assert.equal(viaAws.stdout.trimEnd(), direct.stdout.trimEnd());
    assert.match(viaAws.stdout, /^arg "it's"$/m);
    assert.match(viaAws.stdout, /^arg '\$HOME'$/m);
    assert.match(viaAws.stdout, /^env hi there$/m);
    assert.match(viaAws.stderr, /to stderr/);
  });

  test('a file too large for the command is staged with aws s3 cp and fetched with the instance role', async () => {
    const file = join(work, 'big.py');
    // Random text does not compress: well over the inline budget.
    writeFileSync(
      file,
      `# ${randomBytes(60_000).toString('base64')}\nprint("big file ran", len(open(__file__).read()))\n`,
    );
    const { script, viaAws, direct } = await both(['run', file, '--instance', instanceId]);
    assert.match(script, /s3 cp --only-show-errors '?[^\n]*big\.py'? s3:\/\/[^\n]+\/staged\/[0-9a-f]{64}\/big\.py/);
    assert.equal(direct.code, 0, direct.stderr);
    assert.equal(viaAws.code, 0, `${viaAws.stderr}\n${viaAws.stdout}`);
    assert.match(viaAws.stdout, /^big file ran \d+$/m);
    assert.equal(viaAws.stdout.trimEnd(), direct.stdout.trimEnd());
  });

  test("exec: a shell command with quotes; its exit code is the script's status", async () => {
    const { viaAws, direct } = await both(['exec', '--instance', instanceId, '--', 'echo "a  b" \'$c\'; exit 4']);
    assert.equal(direct.code, 4);
    assert.equal(viaAws.code, 4, viaAws.stderr);
    assert.equal(viaAws.stdout.trimEnd(), 'a  b $c');
    assert.equal(viaAws.stdout.trimEnd(), direct.stdout.trimEnd());
  });

  test('a project folder is refused with one line; --no-wait does not combine', async () => {
    const project = join(work, 'proj');
    mkdirSync(project);
    writeFileSync(join(project, 'main.py'), 'print(1)\n');
    const refused = await cli('run', project, '--entry', 'main.py', '--instance', instanceId, '--print-aws-cli');
    assert.equal(refused.code, 252);
    assert.match(refused.stderr, /covers files, selections and shell commands/);
    const usage = await cli('exec', '--instance', instanceId, '--no-wait', '--print-aws-cli', '--', 'true');
    assert.equal(usage.code, 252);
    assert.match(usage.stderr, /--no-wait does not apply with --print-aws-cli/);
  });
});
