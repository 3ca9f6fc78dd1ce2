// The engine in-process against the sandbox (real SDK clients): the six in-process cases of
// command|file x no-wait|exit code|exit code+data, and what must arrive byte for byte.
import { randomBytes } from 'node:crypto';
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type Engine, type OutputChunk, type RunHandle, type RunRequest } from '../../src/core';
import {
  ALTERNATING_LINES,
  ALTERNATING_SCRIPT,
  eventually,
  linesInOrder,
  nothingLeftRunning,
} from '../support/runChecks';
import { engineOnSandbox } from '../support/engineOnSandbox';
import type { SandboxFixture } from '../support/sandbox';

const utf8 = (s: string) => new TextEncoder().encode(s);

// At module level: the fixture registers the engine's dispose and the sandbox's stop with node:test's root `after`.
const sandboxReady = engineOnSandbox({ instances: 1 });

describe('engine runs on the sandbox', () => {
  let fx: SandboxFixture;
  let engine: Engine;
  let instanceId: string;

  before(async () => {
    ({ fx, engine } = await sandboxReady);
    instanceId = fx.info.instances[0].instanceId;
  });

  const onInstance = (source: RunRequest['source'], extra: Partial<RunRequest> = {}): RunRequest => ({
    source,
    target: { kind: 'instances', instanceIds: [instanceId] },
    ...extra,
  });

  /** Runs to the end, collecting the raw output bytes per stream. */
  async function runCollecting(request: RunRequest) {
    const handle = await engine.start(request);
    const chunks: Array<OutputChunk & { at: number }> = [];
    handle.onOutput((c) => chunks.push({ ...c, at: Date.now() }));
    const result = await handle.wait();
    await nothingLeftRunning(handle.commandId);
    const bytes = (stream: 'stdout' | 'stderr') =>
      Buffer.concat(chunks.filter((c) => c.stream === stream).map((c) => c.data));
    return { handle, result, invocation: result.invocations[0], chunks, bytes };
  }

  async function completesOnItsOwn(handle: RunHandle) {
    // No speed is claimed here, only that the run ends without anyone following it: a loaded machine's
    // sandbox instances (lowest CPU priority) can take tens of seconds for a trivial run.
    const status = await eventually(
      'the detached run to finish',
      async () => {
        const snapshot = await engine.status(handle.commandId);
        return snapshot.invocations[0]?.status === 'Success' ? snapshot : undefined;
      },
      60_000,
    );
    await nothingLeftRunning(handle.commandId);
    return status.invocations[0];
  }

  test('command, fire and forget: start returns with a command id, the run finishes on its own', async () => {
    const handle = await engine.start(onInstance({ kind: 'command', command: 'sleep 0.3; echo fired' }));
    handle.detach();
    assert.match(handle.commandId, /^[0-9a-f-]{36}$/);
    const invocation = await completesOnItsOwn(handle);
    assert.equal(invocation.stdout, 'fired\n');
    assert.equal(invocation.outputSource, 'live');
  });

  test('command, exit code', async () => {
    const { invocation } = await runCollecting(
      onInstance({ kind: 'command', command: 'echo out; echo err >&2; exit 3' }),
    );
    assert.equal(invocation.status, 'Failed');
    assert.equal(invocation.exitCode, 3);
    assert.equal(invocation.stdout, 'out\n');
    assert.equal(invocation.stderr, 'err\n');
    assert.equal(invocation.reason, 'exited with code 3');
  });

  test('command, exit code and data: the result file and the env', async () => {
    const { invocation } = await runCollecting(
      onInstance(
        {
          kind: 'command',
          command: 'echo "{\\"who\\": \\"$WHO\\"}" > "$EC2_RUNNER_RESULT"; echo logging after the result',
        },
        { env: { WHO: 'sandbox' } },
      ),
    );
    assert.equal(invocation.status, 'Success');
    assert.equal(invocation.exitCode, 0);
    assert.deepEqual(invocation.result, { who: 'sandbox' });
  });

  test('file, fire and forget', async () => {
    const handle = await engine.start(
      onInstance({ kind: 'file', fileName: 'fire.sh', content: utf8('sleep 0.2\necho "fired from $0"\n') }),
    );
    handle.detach();
    const invocation = await completesOnItsOwn(handle);
    assert.match(invocation.stdout, /^fired from .*fire\.sh\n$/);
  });

  test('file, exit code', async () => {
    const { invocation } = await runCollecting(
      onInstance({ kind: 'file', fileName: 'fail.py', content: utf8('import sys\nprint("bye")\nsys.exit(7)\n') }),
    );
    assert.equal(invocation.status, 'Failed');
    assert.equal(invocation.exitCode, 7);
    assert.equal(invocation.stdout, 'bye\n');
  });

  test('file, exit code and data, with output shown while the script runs', async () => {
    const script = [
      'import json, os, sys, time',
      'print("first", flush=True)',
      'time.sleep(1.5)',
      'print("last line is JSON too", flush=True)',
      'json.dump({"args": sys.argv[1:], "cwd": os.getcwd()}, open(os.environ["EC2_RUNNER_RESULT"], "w"))',
      'print(json.dumps({"compat": True}))',
    ].join('\n');
    const started = Date.now();
    const { invocation, chunks } = await runCollecting(
      onInstance(
        { kind: 'file', fileName: 'data.py', content: utf8(script), args: ['a b'] },
        { workingDirectory: '/tmp' },
      ),
    );
    const ended = Date.now();
    assert.equal(invocation.status, 'Success');
    assert.deepEqual(invocation.result, { args: ['a b'], cwd: '/tmp' });
    const first = chunks.find((c) => Buffer.from(c.data).toString().includes('first'));
    assert.ok(first, 'first line delivered');
    assert.ok(
      first.at < ended - 1_000,
      `first line arrived ${first.at - started} ms after start, run ended at ${ended - started} ms`,
    );
  });

  test('alternating stdout and stderr lines reach onOutput in the order the script wrote them', async () => {
    const { invocation, chunks } = await runCollecting(
      onInstance({ kind: 'file', fileName: 'alternate.py', content: utf8(ALTERNATING_SCRIPT) }),
    );
    assert.equal(invocation.status, 'Success');
    assert.deepEqual(linesInOrder(chunks), ALTERNATING_LINES);
  });

  test('the last stdout line is the result when no result file is written', async () => {
    const { invocation } = await runCollecting(onInstance({ kind: 'command', command: 'echo log; echo \'{"n": 1}\'' }));
    assert.deepEqual(invocation.result, { n: 1 });
  });

  test('an unchanged file is not uploaded again', async () => {
    // Random bytes do not compress: too large to travel inline, so it is staged in S3.
    const filler = randomBytes(40 * 1024).toString('base64');
    const request = onInstance({
      kind: 'file',
      fileName: 'same.sh',
      content: utf8(`# ${filler}\necho ${Date.now()}\n`),
    });
    await runCollecting(request);
    fx.sandbox.resetStats();
    const { invocation } = await runCollecting(request);
    assert.equal(invocation.status, 'Success');
    assert.equal(fx.sandbox.stats()['s3:PutObject'] ?? 0, 0);
    assert.equal(fx.sandbox.stats()['s3:HeadObject'], 1);
  });

  test('200,000 characters of output arrive complete and in order', async () => {
    const { invocation, bytes } = await runCollecting(
      onInstance({
        kind: 'file',
        fileName: 'big.py',
        content: utf8('for i in range(20000):\n    print("%09d" % i)\n'),
      }),
    );
    const expected = Array.from({ length: 20000 }, (_, i) => `${String(i).padStart(9, '0')}\n`).join('');
    assert.equal(expected.length, 200_000);
    assert.equal(bytes('stdout').toString('utf8'), expected);
    assert.equal(invocation.stdout, expected);
    assert.equal(invocation.outputSource, 'live');
  });

  test('non-UTF-8 bytes arrive byte for byte', async () => {
    const { bytes, invocation } = await runCollecting(
      onInstance({ kind: 'command', command: "printf '\\377\\376caf\\303\\251\\n'; printf '\\200' >&2" }),
    );
    assert.deepEqual([...bytes('stdout')], [0xff, 0xfe, 0x63, 0x61, 0x66, 0xc3, 0xa9, 0x0a]);
    assert.deepEqual([...bytes('stderr')], [0x80]);
    assert.equal(invocation.stdout, '\ufffd\ufffdcafé\n');
  });

  test('arguments with quotes, spaces, newlines and $(...) arrive verbatim', async () => {
    const args = [
      'plain',
      'two words',
      "it's",
      '"double"',
      'line1\nline2',
      '$(touch /tmp/ec2-runner-pwned)',
      '`id`',
      '; rm -rf /',
      '',
      'é ✓',
      '--flag=$HOME',
    ];
    const { invocation } = await runCollecting(
      onInstance({
        kind: 'file',
        fileName: 'args.py',
        content: utf8('import json, sys\nprint(json.dumps(sys.argv[1:]))\n'),
        args,
      }),
    );
    assert.deepEqual(invocation.result, args);
  });

  test('a file name with spaces and non-ASCII letters', async () => {
    const { invocation } = await runCollecting(
      onInstance({
        kind: 'file',
        fileName: 'mon script é ✓.py',
        content: utf8('import os, sys\nprint(os.path.basename(sys.argv[0]))\n'),
      }),
    );
    assert.equal(invocation.status, 'Success');
    assert.equal(invocation.stdout, 'mon script é ✓.py\n');
  });
});
