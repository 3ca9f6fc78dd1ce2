// The `ec2-runner` CLI as a child process (node dist/cli.js) against the sandbox, configured only
// through the standard AWS environment variables, as a user's terminal or CI would.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ALTERNATING_LINES,
  ALTERNATING_SCRIPT,
  eventually,
  nothingLeftRunning,
  runCli,
  runCliMerged,
  startCli,
} from '../support/runChecks';
import { MIN_AGENT_EXECUTION_TIMEOUT_SECONDS } from '../../src/core/defaults';
import { assertClientTimeoutCancelled, latestCommandId, withSandbox, type SandboxFixture } from '../support/sandbox';
import { makeTempDir } from '../support/tempDirs';

// At module level: withSandbox registers its own stop with node:test's root `after`.
const sandboxReady = withSandbox({ instances: 4 });

const COMMAND_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const JSON_KEYS = ['instanceId', 'status', 'statusDetails', 'exitCode', 'stdout', 'stderr', 'result'];

function assertOneCleanErrorLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line, got: ${stderr}`);
  assert.match(lines[0], /^ec2-runner: /);
  assert.match(lines[0], pattern);
  assert.ok(!/\n\s+at /.test(stderr), 'no stack trace');
}

describe('ec2-runner CLI on the sandbox', () => {
  let fx: SandboxFixture;
  let env: NodeJS.ProcessEnv;
  let online: string[];
  let offline: string;
  let dir: string;
  const file = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  before(async () => {
    fx = await sandboxReady;
    env = fx.env;
    online = fx.onlineInstanceIds;
    offline = fx.info.instances.find((i) => i.pingStatus !== 'Online')!.instanceId;
    dir = makeTempDir('ec2-runner-cli-test-');
  });

  test('exec, fire and forget: --no-wait prints the command id at once; status picks it up', async () => {
    const sent = await runCli(['exec', '--instance', online[0], '--no-wait', '--', 'sleep 0.5; echo later'], env);
    assert.equal(sent.code, 0, sent.stderr);
    const commandId = sent.stdout.toString().trim();
    assert.match(commandId, COMMAND_ID);
    const done = await eventually(
      'the run to succeed',
      async () => {
        const status = await runCli(['status', commandId, '--json'], env);
        const doc = JSON.parse(status.stdout.toString());
        return doc.invocations[0]?.status === 'Success' ? doc : undefined;
      },
      20_000,
      300,
    );
    assert.equal(done.invocations[0].stdout, 'later\n');
    await nothingLeftRunning(commandId);
  });

  test('exec, exit code: remote stdout to stdout, stderr to stderr, remote exit code', async () => {
    const r = await runCli(['exec', '--instance', online[0], '--', 'echo out; echo err >&2; exit 3'], env);
    assert.equal(r.stdout.toString(), 'out\n');
    // The command id comes first (plain: this is not a terminal), then the remote stderr unchanged.
    assert.match(r.stderr, /^ec2-runner: command [0-9a-f-]{36} on (\S+ )?i-\w+\nerr\n$/);
    assert.equal(r.code, 3);
  });

  test('run FILE: alternating stdout and stderr lines keep their order on the terminal', async () => {
    const r = await runCliMerged(['run', file('alternate.py', ALTERNATING_SCRIPT), '--instance', online[0]], env);
    assert.equal(r.code, 0, r.output);
    // The command-id line comes first on stderr (printed before any output), then the script's lines in order.
    const [idLine, ...rest] = r.output.split(/(?<=\n)/);
    assert.match(idLine, new RegExp(`^ec2-runner: command [0-9a-f-]{36} on ${online[0]}\n$`));
    assert.equal(rest.join(''), ALTERNATING_LINES.map((line) => `${line.replace(/^\S+ /, '')}\n`).join(''));
  });

  test('exec, exit code and data: --json prints exactly the documented document', async () => {
    const r = await runCli(
      ['exec', '--instance', online[0], '--json', '--', 'echo \'{"answer": 42}\' > "$EC2_RUNNER_RESULT"; echo hello'],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout.toString());
    assert.deepEqual(Object.keys(doc), ['commandId', 'invocations']);
    assert.match(doc.commandId, COMMAND_ID);
    assert.deepEqual(Object.keys(doc.invocations[0]), JSON_KEYS);
    assert.deepEqual(doc.invocations[0], {
      instanceId: online[0],
      status: 'Success',
      statusDetails: 'Success',
      exitCode: 0,
      stdout: 'hello\n',
      stderr: '',
      result: { answer: 42 },
    });
  });

  test('run FILE, fire and forget', async () => {
    const sent = await runCli(
      ['run', file('bg.sh', 'sleep 0.3\necho background\n'), '--instance', online[0], '--no-wait'],
      env,
    );
    assert.equal(sent.code, 0, sent.stderr);
    const commandId = sent.stdout.toString().trim();
    assert.match(commandId, COMMAND_ID);
    const attached = await runCli(['attach', commandId], env);
    assert.equal(attached.stdout.toString(), 'background\n');
    assert.equal(attached.code, 0);
  });

  test('run FILE, exit code, arguments verbatim', async () => {
    const script = file('exit.py', 'import sys\nprint(repr(sys.argv[1:]))\nsys.exit(int(sys.argv[1]))\n');
    const r = await runCli(['run', script, '--instance', online[0], '--', '9', 'two words', '$(id)', "it's"], env);
    assert.equal(r.stdout.toString(), `['9', 'two words', '$(id)', "it's"]\n`);
    assert.equal(r.code, 9);
  });

  test('run FILE, exit code and data: --json with the structured result, env and cwd', async () => {
    const script = file(
      'data.py',
      'import json, os\njson.dump({"greeting": os.environ["GREETING"], "cwd": os.getcwd()}, ' +
        'open(os.environ["EC2_RUNNER_RESULT"], "w"))\nprint("ok")\n',
    );
    const r = await runCli(
      ['run', script, '--instance', online[0], '--env', 'GREETING=hi there', '--cwd', '/tmp', '--json'],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout.toString());
    assert.deepEqual(doc.invocations[0].result, { greeting: 'hi there', cwd: '/tmp' });
    assert.equal(doc.invocations[0].stdout, 'ok\n');
  });

  test('200,000 characters and non-UTF-8 bytes reach stdout complete and unchanged', async () => {
    const big = await runCli(
      ['run', file('big.py', 'for i in range(20000):\n    print("%09d" % i)\n'), '--instance', online[0]],
      env,
    );
    assert.equal(big.code, 0, big.stderr);
    assert.equal(
      big.stdout.toString(),
      Array.from({ length: 20000 }, (_, i) => `${String(i).padStart(9, '0')}\n`).join(''),
    );
    const raw = await runCli(['exec', '--instance', online[0], '--', "printf '\\377\\000\\376'"], env);
    assert.deepEqual([...raw.stdout], [0xff, 0x00, 0xfe]);
  });

  test('several targets: lines prefixed with the instance, a summary line, non-zero when one failed', async () => {
    const r = await runCli(
      [
        'exec',
        '--instance',
        online[0],
        '--instance',
        online[1],
        '--',
        `echo "hello"; [ "$AWS_SSM_INSTANCE_ID" = "${online[1]}" ] && exit 2; true`,
      ],
      env,
    );
    const lines = r.stdout.toString().trim().split('\n').sort();
    const name = (id: string) => fx.info.instances.find((i) => i.instanceId === id)!.name;
    assert.deepEqual(
      lines,
      [`[${name(online[0])} ${online[0]}] hello`, `[${name(online[1])} ${online[1]}] hello`].sort(),
    );
    assert.match(r.stderr, /1 of 2 instances succeeded/);
    assert.match(r.stderr, new RegExp(`${online[1]}\\] Failed: exited with code 2`));
    assert.equal(r.code, 2);
  });

  test('tag target', async () => {
    const r = await runCli(['exec', '--tag', 'Role=worker', '--json', '--', 'echo tagged'], env);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout.toString());
    assert.deepEqual(doc.invocations.map((i: { instanceId: string }) => i.instanceId).sort(), [...online].sort());
  });

  test('Ctrl-C cancels the remote command, reports Cancelled and exits 130', async () => {
    const cli = startCli(['exec', '--instance', online[0], '--', 'echo started; sleep 30; echo never'], env);
    await cli.waitFor(/started/);
    cli.kill('SIGINT');
    const r = await cli.result;
    assert.equal(r.code, 130);
    assert.match(r.stderr, /cancelling command/);
    assert.match(r.stderr, /Cancelled: cancelled/);
    const commandId = /cancelling command ([0-9a-f-]{36})/.exec(r.stderr)![1];
    await nothingLeftRunning(commandId);
  });

  test('--timeout cancels the remote command and exits 124 with a reason', async () => {
    fx.sandbox.resetStats();
    const r = await runCli(['exec', '--instance', online[0], '--timeout', '2', '--', 'sleep 30'], env);
    assert.equal(r.code, 124);
    assert.match(r.stderr, /TimedOut: timed out after 2 s; the command was cancelled/);
    // The agent's executionTimeout is at least 5 s: the CLI's 2 s must be what cancelled it.
    await assertClientTimeoutCancelled(
      fx,
      await latestCommandId(fx),
      online[0],
      2,
      MIN_AGENT_EXECUTION_TIMEOUT_SECONDS,
    );
  });

  test('attach from another process follows a run started with --no-wait', async () => {
    const sent = await runCli(
      [
        'exec',
        '--instance',
        online[0],
        '--no-wait',
        '--',
        'for i in 1 2 3; do echo "n $i"; sleep 0.4; done; echo done >&2; exit 6',
      ],
      env,
    );
    const commandId = sent.stdout.toString().trim();
    const attached = await runCli(['attach', commandId], env);
    assert.equal(attached.stdout.toString(), 'n 1\nn 2\nn 3\n');
    assert.equal(attached.stderr, 'done\n');
    assert.equal(attached.code, 6);
    const status = await runCli(['status', commandId], env);
    assert.match(status.stdout.toString(), new RegExp(`${online[0]}  Failed  exit 6`));
    await nothingLeftRunning(commandId);
  });

  test('instances: table and JSON with names and ping status', async () => {
    const table = await runCli(['instances'], env);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout.toString(), /^INSTANCE\s+NAME\s+PING/, `stderr: ${table.stderr}`);
    assert.match(table.stdout.toString(), new RegExp(`${offline}\\s+sandbox-offline\\s+ConnectionLost`));
    const doc = JSON.parse((await runCli(['instances', '--json'], env)).stdout.toString());
    assert.equal(doc.length, 4);
    assert.ok(doc.every((i: { name?: string }) => i.name?.startsWith('sandbox-')));
  });

  test('errors are one actionable line, no stack trace, non-zero exit', async () => {
    const unknown = await runCli(['exec', '--instance', 'i-0123456789abcdef0', '--', 'true'], env);
    assert.equal(unknown.code, 254, 'not run');
    assertOneCleanErrorLine(unknown.stderr, /i-0123456789abcdef0 is not an SSM managed instance/);

    const down = await runCli(['exec', '--instance', offline, '--', 'true'], env);
    assert.equal(down.code, 254, 'not run');
    assertOneCleanErrorLine(down.stderr, /offline to SSM \(PingStatus ConnectionLost/);

    const bucket = await runCli(
      ['exec', '--bucket', 'no-such-ec2-runner-bucket', '--instance', online[0], '--', 'true'],
      env,
    );
    assert.equal(bucket.code, 253, 'configuration');
    assertOneCleanErrorLine(bucket.stderr, /no-such-ec2-runner-bucket does not exist/);

    const { AWS_ACCESS_KEY_ID: _id, AWS_SECRET_ACCESS_KEY: _secret, ...noKeys } = env;
    const creds = await runCli(['instances'], noKeys);
    assert.equal(creds.code, 253, 'configuration');
    assertOneCleanErrorLine(creds.stderr, /No AWS credentials found/);

    const usage = await runCli(['exec', '--', 'true'], env);
    assert.equal(usage.code, 252, 'usage');
    assertOneCleanErrorLine(usage.stderr, /No target: pass --instance ID/);

    const missing = await runCli(['run', join(dir, 'nope.py'), '--instance', online[0]], env);
    assert.equal(missing.code, 252, 'usage');
    assertOneCleanErrorLine(missing.stderr, /No such file: .*nope\.py\. Check the path/);
  });

  test('--help, --version and the bucket command', async () => {
    const help = await runCli(['run', '--help'], env);
    assert.equal(help.code, 0);
    assert.match(help.stdout.toString(), /^Usage: ec2-runner run FILE/);
    assert.match((await runCli(['--version'], env)).stdout.toString(), /^\d+\.\d+\.\d+\n$/);
    const bucket = await runCli(['bucket'], env);
    assert.equal(bucket.stdout.toString(), `${fx.info.bucket}: exists in ${fx.info.region}\n`);
  });
});
