// Debug runs against the sandbox: the engine stages a file, runs it under debugpy on the instance,
// forwards the debug port through Session Manager, and a DAP client (as VS Code) attaches with
// pathMappings, stops at a breakpoint set on the local path, reads a local variable, continues to the
// end and sees the exit code, which the run reports too. Once with the instance's own debugpy, once
// with the staged copy (an instance Python without it), which uploads once and unpacks once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { createEngine, RunnerError, type DebugRunHandle, type DebugRunRequest, type Engine } from '../../src/core';
import { findReadyLine } from '../../src/core/debug/bootstrap';
import { DapClient, attachAndStop, localVariables } from '../support/dap';
import { withSandbox, type SandboxFixture } from '../support/sandbox';

const SCRIPT = [
  'import sys',
  '',
  'def total_of(n):',
  '    total = 0',
  '    for i in range(n):',
  '        total += i',
  '    return total',
  '',
  'result = total_of(5)',
  'print("result", result)',
  'sys.exit(3)',
  '',
].join('\n');
const BREAK_LINE = 7;

function outputOf(handle: DebugRunHandle) {
  const text = { stdout: '', stderr: '' };
  handle.run.onOutput((chunk) => (text[chunk.stream] += Buffer.from(chunk.data).toString('utf8')));
  return text;
}

const sandboxReady = withSandbox();

describe('debug runs (debugpy over Session Manager)', () => {
  let fx: SandboxFixture;
  let engine: Engine;
  let localRoot: string;
  let cache: string;

  before(async () => {
    fx = await sandboxReady;
    engine = createEngine(fx.engineSettings);
    localRoot = mkdtempSync(path.join(tmpdir(), 'ec2r-debug-local-'));
    cache = mkdtempSync(path.join(tmpdir(), 'ec2r-debugpy-cache-'));
    writeFileSync(path.join(localRoot, 'calc.py'), SCRIPT);
  });
  after(() => {
    engine?.dispose();
    rmSync(localRoot, { recursive: true, force: true });
    rmSync(cache, { recursive: true, force: true });
  });

  function request(interpreter?: string): DebugRunRequest {
    return {
      source: { kind: 'file', fileName: 'calc.py', content: Buffer.from(SCRIPT), interpreter },
      target: { kind: 'instances', instanceIds: [fx.onlineInstanceIds[0]] },
      env: { EC2_RUNNER_DEBUGPY_CACHE: cache },
      timeoutSeconds: 900,
      // A deadline with margin: on a loaded machine the sandbox's Python starts slowly (not a product timeout).
      readyTimeoutSeconds: 600,
    };
  }

  /** The whole session as VS Code drives it; returns what the client saw and the run's result. */
  async function debugSession(interpreter?: string) {
    const handle = await engine.startDebugRun(request(interpreter));
    const output = outputOf(handle);
    const endpoint = await handle.ready;
    const client = await DapClient.connect(endpoint.localPort);
    try {
      const file = path.join(localRoot, 'calc.py');
      const { breakpoints, stopped } = await attachAndStop(client, {
        localRoot,
        remoteRoot: endpoint.remoteRoot,
        file,
        line: BREAK_LINE,
      });
      assert.equal(breakpoints.body.breakpoints[0].verified, true, 'the breakpoint on the local path binds');
      assert.equal(stopped.body.reason, 'breakpoint');
      const { frame, values } = await localVariables(client, stopped.body.threadId);
      await client.request('continue', { threadId: stopped.body.threadId });
      // An attached debugpy reports no exit code (no `exited` event): the run does.
      await client.waitForEvent('terminated');
      const result = await handle.run.wait();
      await handle.close();
      return { endpoint, frame, values, result, output, file };
    } finally {
      client.close();
    }
  }

  test("the instance's own debugpy: stops at the local breakpoint, shows locals, continues, exit code 3", async () => {
    const session = await debugSession();
    assert.equal(session.frame.body.line, BREAK_LINE);
    assert.equal(session.frame.body.source.path, session.file, 'the remote frame maps back to the local file');
    assert.equal(session.values.total, '10');
    assert.equal(session.values.n, '5');
    const invocation = session.result.invocations[0];
    assert.equal(invocation.exitCode, 3);
    assert.match(session.output.stdout, /^result 10$/m);
    assert.match(session.output.stderr, /debugpy \S+ \(the instance's\) waits for the debugger on 127\.0\.0\.1:\d+/);
    assert.ok(session.endpoint.remoteRoot.startsWith('/') && session.endpoint.remoteRoot !== localRoot);
  });

  test('an instance without debugpy gets the staged copy: uploaded once, fetched once, same session', async () => {
    // `python3 -S` has no site-packages, so the instance's debugpy is out of reach.
    const first = await debugSession('python3 -S');
    assert.match(first.output.stderr, /fetching the staged copy/);
    assert.match(first.output.stderr, /\(staged\) waits for the debugger/);
    assert.equal(first.values.total, '10');
    assert.equal(first.result.invocations[0].exitCode, 3);

    const s3 = new S3Client({ ...fx.clientConfig, forcePathStyle: true });
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: fx.info.bucket }));
    const keys = (listed.Contents ?? []).map((o) => o.Key!).filter((k) => k.endsWith('/debugpy.tar.gz'));
    assert.equal(keys.length, 1, 'one content-addressed debugpy archive');
    const before = (await s3.send(new HeadObjectCommand({ Bucket: fx.info.bucket, Key: keys[0] }))).LastModified;

    const second = await debugSession('python3 -S');
    assert.doesNotMatch(second.output.stderr, /fetching the staged copy/, 'the instance keeps the unpacked copy');
    assert.match(second.output.stderr, /\(staged\) waits/);
    assert.equal(second.result.invocations[0].exitCode, 3);
    const afterwards = (await s3.send(new HeadObjectCommand({ Bucket: fx.info.bucket, Key: keys[0] }))).LastModified;
    assert.deepEqual(afterwards, before, 'not uploaded again');
    s3.destroy();
  });

  test('a project whose entry is in a subfolder: the remote root is the project root, so a breakpoint in another file binds', async () => {
    const project = mkdtempSync(path.join(tmpdir(), 'ec2r-debug-project-'));
    try {
      writeFileSync(path.join(project, 'helpers.py'), 'def scale(x):\n    factor = 3\n    return x * factor\n');
      mkdirSync(path.join(project, 'pkg'));
      writeFileSync(
        path.join(project, 'pkg', 'main.py'),
        'import os, sys\nsys.path.insert(0, os.getcwd())\nfrom helpers import scale\nprint("scaled", scale(7))\n',
      );
      const handle = await engine.startDebugRun({
        ...request(),
        source: { kind: 'project', root: project, entry: 'pkg/main.py' },
      });
      const output = outputOf(handle);
      const endpoint = await handle.ready;
      const client = await DapClient.connect(endpoint.localPort);
      try {
        const file = path.join(project, 'helpers.py');
        const { stopped } = await attachAndStop(client, {
          localRoot: project,
          remoteRoot: endpoint.remoteRoot,
          file,
          line: 3,
        });
        const { frame, values } = await localVariables(client, stopped.body.threadId);
        assert.equal(frame.body.source.path, file);
        assert.deepEqual([values.x, values.factor], ['7', '3']);
        await client.request('continue', { threadId: stopped.body.threadId });
        await client.waitForEvent('terminated');
      } finally {
        client.close();
      }
      assert.equal((await handle.run.wait()).invocations[0].exitCode, 0);
      assert.match(output.stdout, /^scaled 21$/m);
      assert.match(endpoint.remoteRoot, /\/project$/, 'the unpacked project root, not pkg/');
      await handle.close();
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });

  test('a run that ends before debugpy listens rejects ready with the reason; the output says why', async () => {
    const handle = await engine.startDebugRun(request('no-such-python3'));
    await assert.rejects(
      handle.ready,
      (error: unknown) =>
        error instanceof RunnerError &&
        error.code === 'DebugEndedEarly' &&
        /before debugpy listened/.test(error.message),
    );
    const result = await handle.run.wait();
    assert.notEqual(result.invocations[0].exitCode, 0);
  });

  test('debugpy that never reports ready: the run is cancelled after the timeout', async () => {
    // A Python that sleeps instead of running the bootstrap (the -c program is its argument).
    const handle = await engine.startDebugRun({ ...request("sh -c 'sleep 600' python3"), readyTimeoutSeconds: 3 });
    await assert.rejects(
      handle.ready,
      (error: unknown) => error instanceof RunnerError && error.code === 'DebugNotReady',
    );
    const result = await handle.run.wait();
    assert.equal(result.invocations[0].status, 'Cancelled');
  });

  test('a named debugpy folder without debugpy is refused before anything runs', async () => {
    await assert.rejects(
      engine.startDebugRun({ ...request(), debugpy: { path: localRoot } }),
      (error: unknown) =>
        error instanceof RunnerError && error.code === 'DebugpyNotFound' && error.message.includes(localRoot),
    );
  });

  test('only a Python file on one instance can be debugged', async () => {
    await assert.rejects(
      engine.startDebugRun({
        ...request(),
        source: { kind: 'file', fileName: 'job.sh', content: Buffer.from('echo hi\n') },
      }),
      (error: unknown) => error instanceof RunnerError && error.code === 'DebugSourceUnsupported',
    );
    await assert.rejects(
      engine.startDebugRun({ ...request(), target: { kind: 'tags', tags: [{ key: 'Team', value: 'ml' }] } }),
      (error: unknown) => error instanceof RunnerError && error.code === 'DebugTargetUnsupported',
    );
  });

  test("the ready line counts only with this run's token and an absolute root", () => {
    const line =
      '[ec2-runner] debugpy 1.8 (staged) waits for the debugger on 127.0.0.1:4000; debug-ready abc "/tmp/x"\n';
    assert.deepEqual(findReadyLine(line, 'abc'), { remoteRoot: '/tmp/x' });
    assert.equal(findReadyLine(line, 'abd'), undefined);
    assert.equal(findReadyLine(line.replace('"/tmp/x"', '"tmp"'), 'abc'), undefined);
    assert.equal(findReadyLine(line.trimEnd(), 'abc'), undefined, 'an unfinished line waits');
  });
});
