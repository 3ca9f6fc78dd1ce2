// The plain-sh path the command takes on an instance without Python 3.6+: PATH holds only basic tools.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HOSTILE_ARGS, type RemoteCase, type RemoteTransport, runRemote } from '../support/remoteHarness';
import { binDirWith, runCommandsLocally, scratchDir, writeFakeAwsCli } from '../support/remoteRun';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { buildRemoteCommands, REBOOT_CODE_NOTE } from '../../src/core/remote';
import { REBOOT_EXIT_CODE_REPORTED_AS } from '../../src/core/defaults';
import { localTransport, RemoteTestServer } from '../support/remoteTestServer';

const BASE_TOOLS = ['sh', 'base64', 'mktemp', 'rm', 'sha256sum', 'od', 'tr', 'cat'];

/** Prints each argument as hex on its own line, then its own file name, an env var and stdin. */
const PRINT_ARGV_HEX_SH = [
  ': >"$EC2R_TEST_MARKER"',
  'for a in "$@"; do printf %s "$a" | od -An -v -tx1 | tr -d " \\n"; echo; done',
  'printf "name=%s\\n" "${0##*/}"',
  'printf "env=%s\\n" "$GREETING"',
  'printf "stdin=%s\\n" "$(cat)"',
  'exit 3',
].join('\n');

let server: RemoteTestServer;
let transport: RemoteTransport;
const scratch = scratchDir();
let withCurl: string;
let withWget: string;
before(async () => {
  server = await RemoteTestServer.start();
  transport = localTransport(server);
  withCurl = binDirWith(`${scratch.root}/curl`, [...BASE_TOOLS, 'curl']);
  withWget = binDirWith(`${scratch.root}/wget`, [...BASE_TOOLS, 'wget']);
});
after(async () => {
  await server.close();
  scratch.dispose();
});

const run = (remoteCase: Omit<RemoteCase, 'path'> & { path?: string }) =>
  runRemote(transport, { path: withCurl, ...remoteCase });
const FALLBACK_NOTE = /ec2-runner: no python3 on this instance: running without live output/;

describe('remote command without python (plain sh fallback)', () => {
  test('an inline file needs only sh, base64 and gzip (no download tool); a 194 is reported to SSM as 195', async () => {
    const bin = binDirWith(`${scratch.root}/inline`, [...BASE_TOOLS, 'gzip']);
    const script = Buffer.from('echo "inline $1"\nexit 194\n');
    const commands = buildRemoteCommands({
      runId: 'inline194',
      payload: {
        fileName: 'inline.sh',
        sha256: createHash('sha256').update(script).digest('hex'),
        interpreter: 'sh',
        args: ['é $x'],
        fetch: { kind: 'inline', gzipBase64: gzipSync(script).toString('base64') },
      },
    });
    const dirs = scratchDir();
    try {
      const local = await runCommandsLocally(commands, { cwd: dirs.agent, env: { PATH: bin, TMPDIR: dirs.tmp } });
      assert.equal(local.stdout.toString(), 'inline é $x\n');
      assert.equal(local.exitCode, REBOOT_EXIT_CODE_REPORTED_AS);
      assert.ok(local.stderr.toString().includes(`${REBOOT_CODE_NOTE}\n`), local.stderr.toString());
    } finally {
      dirs.dispose();
    }
  });

  test('arguments, file name, env and exit code arrive exactly; stdin is empty; temp dir removed', async () => {
    const outcome = await run({
      script: PRINT_ARGV_HEX_SH,
      interpreter: 'sh',
      fileName: 'my script é.sh',
      args: HOSTILE_ARGS,
      env: { GREETING: 'héllo "world" $(x)' },
    });
    assert.equal(outcome.local.exitCode, 3, outcome.local.stderr.toString());
    const lines = outcome.local.stdout.toString().split('\n');
    assert.deepEqual(
      lines.slice(0, HOSTILE_ARGS.length),
      HOSTILE_ARGS.map((arg) => Buffer.from(arg).toString('hex')),
    );
    assert.deepEqual(lines.slice(HOSTILE_ARGS.length), ['name=my script é.sh', 'env=héllo "world" $(x)', 'stdin=', '']);
    assert.match(outcome.local.stderr.toString(), FALLBACK_NOTE);
    assert.equal(outcome.live.objectCount, 0, 'no live channel in the fallback');
    assert.deepEqual(outcome.tmpLeftovers, []);
  });

  test('a checksum mismatch runs nothing', async () => {
    const outcome = await run({
      script: ': >"$EC2R_TEST_MARKER"',
      interpreter: 'sh',
      stagedBytes: Buffer.from('echo tampered'),
    });
    assert.equal(outcome.ran, false);
    assert.equal(outcome.local.exitCode, 125);
    assert.match(
      outcome.local.stderr.toString(),
      /ec2-runner: checksum mismatch: expected [0-9a-f]{64} got [0-9a-f]{64}/,
    );
    assert.deepEqual(outcome.tmpLeftovers, []);
  });

  for (const [tool, path] of [
    ['curl', () => withCurl],
    ['wget', () => withWget],
  ] as const) {
    test(`a failed download with ${tool} runs nothing; a good one runs`, async () => {
      const failed = await run({
        script: ': >"$EC2R_TEST_MARKER"',
        interpreter: 'sh',
        broken: 'refused',
        path: path(),
      });
      assert.equal(failed.ran, false);
      assert.equal(failed.local.exitCode, 125);
      assert.match(failed.local.stderr.toString(), new RegExp(`ec2-runner: download failed: ${tool} exited \\d+`));
      assert.ok(!failed.local.stderr.toString().includes('X-Amz-Signature'), 'no URL in the message');
      const good = await run({ script: ': >"$EC2R_TEST_MARKER"; echo fetched', interpreter: 'sh', path: path() });
      assert.equal(good.ran, true);
      assert.equal(good.local.stdout.toString(), 'fetched\n');
    });
  }

  test('a missing working directory or interpreter runs nothing', async () => {
    const noDir = await run({
      script: ': >"$EC2R_TEST_MARKER"',
      interpreter: 'sh',
      workingDirectory: '/nonexistent/ec2-runner-dir',
    });
    assert.equal(noDir.ran, false);
    assert.equal(noDir.local.exitCode, 125);
    assert.match(noDir.local.stderr.toString(), /working directory not found: \/nonexistent\/ec2-runner-dir/);
    const noInterpreter = await run({ script: ': >"$EC2R_TEST_MARKER"', interpreter: 'python3 -u' });
    assert.equal(noInterpreter.ran, false);
    assert.equal(noInterpreter.local.exitCode, 127);
    assert.match(noInterpreter.local.stderr.toString(), /interpreter not found: python3/);
  });

  test('instance-role mode downloads with aws s3 cp and verifies the checksum', async () => {
    writeFakeAwsCli(withCurl, join(scratch.root, 's3'), 'eu-west-1');
    const withRole: RemoteTransport = {
      ...transport,
      stage: async (body, fileName) => {
        mkdirSync(join(scratch.root, 's3', 'bucket'), { recursive: true });
        writeFileSync(join(scratch.root, 's3', 'bucket', fileName), body);
        return { kind: 'instance-role', s3Uri: `s3://bucket/${fileName}`, region: 'eu-west-1' };
      },
    };
    const good = await runRemote(withRole, {
      path: withCurl,
      script: 'echo "via role: $1"',
      interpreter: 'sh',
      fileName: 'role run.sh',
      args: ['a b'],
    });
    assert.equal(good.local.stdout.toString(), 'via role: a b\n', good.local.stderr.toString());
    const tampered = await runRemote(withRole, {
      path: withCurl,
      script: ': >"$EC2R_TEST_MARKER"',
      stagedBytes: Buffer.from('echo evil'),
      interpreter: 'sh',
    });
    assert.equal(tampered.ran, false);
    assert.match(tampered.local.stderr.toString(), /checksum mismatch/);
  });

  test('a shell command, a working directory and a signal exit code', async () => {
    const outcome = await run({
      shellCommand: 'pwd; echo "$EC2_RUNNER_RUN_ID"; echo oops >&2; exit 4',
      workingDirectory: scratch.root,
    });
    assert.equal(outcome.local.exitCode, 4);
    assert.equal(outcome.local.stdout.toString(), `${scratch.root}\n${outcome.runId}\n`);
    assert.match(outcome.local.stderr.toString(), /oops/);
    const killed = await run({ shellCommand: 'kill -9 $$' });
    assert.equal(killed.local.exitCode, 137);
  });
});
