// The bad-input catalogue, files and scripts (docs/errors.md): each input gives one clear message or a documented
// behaviour, leaves nothing running and stages nothing outside the expiring key prefix.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DEFAULT_KEY_PREFIX, type Engine } from '../../src/core';
import { fileRequest, runCollecting, runLocally, type ScriptCase } from '../soak/referenceRuns';
import { nothingLeftRunning } from '../support/runChecks';
import { engineOnSandbox } from '../support/engineOnSandbox';
import type { SandboxFixture } from '../support/sandbox';

const sandboxReady = engineOnSandbox({ instances: 3 });

describe('bad input: files and scripts', () => {
  let fx: SandboxFixture;
  let engine: Engine;
  let online: string;
  before(async () => {
    ({ fx, engine } = await sandboxReady);
    online = fx.onlineInstanceIds[0];
  });

  async function matchesLocal(script: ScriptCase) {
    const local = runLocally(script);
    const run = await runCollecting(engine, fileRequest(script, online));
    const invocation = run.result.invocations[0];
    assert.equal(invocation.exitCode, local.exitCode, invocation.reason);
    assert.ok(run.stdout.equals(local.stdout), `stdout: ${run.stdout.subarray(0, 300)}`);
    assert.ok(run.stderr.equals(local.stderr), `stderr: ${run.stderr.subarray(0, 300)}`);
    await nothingLeftRunning(run.commandId);
    return invocation;
  }

  test('an empty file runs and succeeds with no output', async () => {
    const invocation = await matchesLocal({ fileName: 'empty.py', content: '' });
    assert.equal(invocation.status, 'Success');
  });

  test('a binary file is staged and handed to the interpreter unchanged: the same outcome as locally', async () => {
    // What the interpreter makes of it is its business (CPython 3.11.2 runs up to the first NUL, later ones refuse).
    const invocation = await matchesLocal({ fileName: 'binary.py', content: '\u0000\u0001\u00ff\u0000garbage' });
    assert.equal(invocation.status, invocation.exitCode === 0 ? 'Success' : 'Failed');
  });

  test('a huge file (24 MB) is staged, verified and run', async () => {
    const filler = `# ${'z'.repeat(1023)}\n`.repeat(24 * 1024);
    const invocation = await matchesLocal({ fileName: 'huge.py', content: `${filler}print("big file ran")\n` });
    assert.equal(invocation.stdout, 'big file ran\n');
  });

  test('non-UTF-8 output and a single 1 MB line arrive byte for byte', async () => {
    await matchesLocal({
      fileName: 'bytes.py',
      content:
        'import sys\nsys.stdout.buffer.write(bytes(range(256)) * 4)\nsys.stdout.write("y" * 1048576 + ' +
        '"\\n")\nsys.stderr.buffer.write(b"\\xc3\\x28 bad utf-8\\n")\n',
    });
  });

  test('a script reading stdin sees end-of-file at once (stdin is /dev/null), never hangs', async () => {
    const invocation = await matchesLocal({
      fileName: 'stdin.py',
      content: 'import sys\nprint(repr(sys.stdin.read()))\n',
    });
    assert.equal(invocation.stdout, "''\n");
  });

  test('the interpreter is missing on the instance: exit 127, one clear reason, nothing ran', async () => {
    const run = await runCollecting(engine, fileRequest({ fileName: 'x.py', content: 'print(1)\n' }, online, {}));
    assert.equal(run.result.invocations[0].status, 'Success');
    const missing = await runCollecting(engine, {
      ...fileRequest({ fileName: 'x.py', content: 'print(1)\n' }, online),
      source: { kind: 'file', fileName: 'x.py', content: Buffer.from('print(1)\n'), interpreter: 'python9.9' },
    });
    const invocation = missing.result.invocations[0];
    assert.equal(invocation.status, 'Failed');
    assert.equal(invocation.exitCode, 127);
    assert.match(
      invocation.reason ?? '',
      /interpreter not found: python9\.9 \(install it on the instance or choose another interpreter\)/,
    );
    assert.equal(invocation.stdout, '');
  });

  test('a script starting a background process: the run ends (about 2 s after the script), the sandbox leaves nothing running', async () => {
    const started = Date.now();
    const run = await runCollecting(engine, {
      source: { kind: 'command', command: '(sleep 30; echo too-late) & echo started daemon' },
      target: { kind: 'instances', instanceIds: [online] },
    });
    const invocation = run.result.invocations[0];
    assert.equal(invocation.status, 'Success');
    assert.equal(invocation.stdout, 'started daemon\n');
    assert.ok(Date.now() - started < 15_000, 'the run did not wait for the daemon');
    await nothingLeftRunning(run.commandId);
  });

  test('everything staged or written by these runs is under the key prefix that the bucket lifecycle rule expires', async () => {
    const s3 = new S3Client({ ...fx.clientConfig, forcePathStyle: true });
    try {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: fx.info.bucket }));
      const keys = (listed.Contents ?? []).map((o) => o.Key ?? '');
      assert.ok(keys.length > 0);
      assert.deepEqual(
        keys.filter((k) => !k.startsWith(DEFAULT_KEY_PREFIX)),
        [],
      );
    } finally {
      s3.destroy();
    }
  });
});
