// `ec2-runner run FILE --interactive` and `ec2-runner forward` as child processes against the
// sandbox (real SDK client, real WebSocket, the sandbox's pty and ports), configured only through
// the standard AWS environment variables.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer } from 'node:net';
import { join } from 'node:path';
import { eventually, runCli } from '../support/runChecks';
import { withSandbox, type SandboxFixture } from '../support/sandbox';
import { makeTempDir } from '../support/tempDirs';

const sandboxReady = withSandbox();
const CLI = join(__dirname, '..', '..', '..', 'dist', 'cli.js');

/** Runs the CLI with `input` piped to its stdin. */
function runWithInput(args: string[], env: NodeJS.ProcessEnv, input: string, timeoutMs = 60_000) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.end(input);
  });
}

describe('ec2-runner Session Manager commands on the sandbox', () => {
  let fx: SandboxFixture;
  let dir: string;
  before(async () => {
    fx = await sandboxReady;
    dir = makeTempDir('ec2-runner-cli-session-');
  });

  test("run --interactive: the script reads two lines from stdin and prints their sum; the exit status is the script's", async () => {
    const script = join(dir, 'sum.py');
    writeFileSync(
      script,
      'import sys\na = int(input())\nb = int(input())\nprint(a + b)\nprint("args", sys.argv[1:])\nsys.exit(5)\n',
    );
    const r = await runWithInput(
      ['run', script, '--interactive', '--instance', fx.onlineInstanceIds[0], '--', 'x y', '$HOME'],
      fx.env,
      '3\n4\n',
    );
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, "7\nargs ['x y', '$HOME']\n");
    assert.equal(r.code, 5);
  });

  test('run --interactive: end of input reaches the script as EOF, after a partial last line', async () => {
    const script = join(dir, 'count.sh');
    writeFileSync(script, 'echo "bytes=$(wc -c)"\n');
    const r = await runWithInput(
      ['run', script, '--interactive', '--instance', fx.onlineInstanceIds[0]],
      fx.env,
      'a\nb\nc',
    );
    assert.equal(r.stdout, 'bytes=5\n', 'a last line without newline arrives too, then EOF');
    assert.equal(r.code, 0);
  });

  test('run --interactive refuses what it cannot do, in one line', async () => {
    const script = join(dir, 'x.py');
    writeFileSync(script, 'print(1)\n');
    const two = await runCli(['run', script, '--interactive', '--instance', 'i-1', '--instance', 'i-2'], fx.env);
    assert.equal(two.code, 252);
    assert.match(two.stderr, /^ec2-runner: `run --interactive` needs exactly one --instance ID/);
    const json = await runCli(
      ['run', script, '--interactive', '--instance', fx.onlineInstanceIds[0], '--json'],
      fx.env,
    );
    assert.equal(json.code, 252);
    assert.match(json.stderr, /--json does not apply to an interactive run/);
    fx.sandbox.configure({ deny: ['ssm:StartSession'] });
    try {
      const denied = await runWithInput(
        ['run', script, '--interactive', '--instance', fx.onlineInstanceIds[0]],
        fx.env,
        '',
      );
      assert.equal(denied.code, 254);
      assert.match(
        denied.stderr,
        /^ec2-runner: Access denied for ssm:StartSession on i-\w+ with document AWS-StartInteractiveCommand/,
      );
      assert.equal(denied.stderr.trim().split('\n').length, 1);
    } finally {
      fx.sandbox.configure({ deny: [] });
    }
  });

  test('forward --port REMOTE:0 prints the local port, carries data both ways, stops on Ctrl+C', async () => {
    const server = createServer((socket) => socket.pipe(socket)); // echo
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const remotePort = (server.address() as AddressInfo).port;
    const child = spawn(
      process.execPath,
      [CLI, 'forward', '--instance', fx.onlineInstanceIds[0], '--port', `${remotePort}:0`],
      { env: fx.env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      const localPort = await new Promise<number>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
          const m = /^(\d+)\n/.exec(stdout);
          if (m) resolve(Number(m[1]));
        });
        child.on('close', () => reject(new Error(`forward exited: ${stderr}`)));
      });
      const echoed = await new Promise<string>((resolve, reject) => {
        const socket = connect(localPort, '127.0.0.1', () => socket.write('ping through the session'));
        socket.on('data', (d: Buffer) => {
          resolve(d.toString());
          socket.end();
        });
        socket.on('error', reject);
      });
      assert.equal(echoed, 'ping through the session');
      assert.match(
        stderr,
        new RegExp(
          `Forwarding 127\\.0\\.0\\.1:${localPort} → i-\\w+ port ${remotePort} \\(session sandbox-\\w+, smux mode\\)`,
        ),
      );
    } finally {
      child.kill('SIGINT');
      server.close();
    }
    assert.equal(await closed, 0, stderr);
    await eventually('the session to be terminated', () => (fx.sandbox.sessionStats().active === 0 ? true : undefined));
  });

  test('forward: bad --port values are usage errors', async () => {
    for (const port of ['0', '70000', 'abc', '80:99999']) {
      const r = await runCli(['forward', '--instance', fx.onlineInstanceIds[0], '--port', port], fx.env);
      assert.equal(r.code, 252, port);
      assert.match(r.stderr, /is not REMOTE\[:LOCAL\]/);
    }
  });
});
