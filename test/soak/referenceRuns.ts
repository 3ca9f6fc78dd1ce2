// Shared by the reliability tests and the soak: scripts with a known outcome, their output when run
// locally (the reference every remote run must match byte for byte), and an engine run that
// collects the raw output bytes it delivered.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import type { Engine, OutputChunk, RunRequest, RunResult } from '../../src/core';
import { DEFAULT_INSTANCE_PATH } from '../../src/sandbox/agent';
import { agentTruncate } from '../../src/sandbox/agentRules';
import { MAX_STDOUT_CONTENT_BYTES, OUTPUT_TRUNCATED_SUFFIX } from '../../src/sandbox/limits';
import { nothingLeftRunning } from '../support/runChecks';
import { after, afterEach, before, describe } from 'node:test';
import { createEngine } from '../../src/core';
import { withSandbox, type SandboxFixture } from '../support/sandbox';
import { makeTempDir } from '../support/tempDirs';

export interface ScriptCase {
  fileName: string;
  content: string;
  args?: string[];
}

export interface LocalOutcome {
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
}

/**
 * Runs the script here, as the wrapper runs it on a sandbox instance (same PATH so the same python3; unbuffered; stdin
 * /dev/null).
 */
export function runLocally(script: ScriptCase): LocalOutcome {
  const dir = makeTempDir('ec2-runner-local-');
  const path = join(dir, script.fileName);
  writeFileSync(path, script.content);
  const interpreter = script.fileName.endsWith('.py') ? 'python3' : 'bash';
  const done = spawnSync(interpreter, [path, ...(script.args ?? [])], {
    cwd: dir,
    env: { PATH: DEFAULT_INSTANCE_PATH, PYTHONUNBUFFERED: '1', LANG: 'C.UTF-8' },
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 << 20,
  });
  return { exitCode: done.status ?? -1, stdout: done.stdout, stderr: done.stderr };
}

/**
 * A script with interleaved stdout/stderr over ~`seconds`, some non-ASCII and some invalid UTF-8,
 * ending with `exitCode`. `tag` makes each instance's content (and staged key) distinct.
 */
export function chattyPython(
  tag: string,
  exitCode: number,
  options: { lines?: number; seconds?: number; rawBytes?: boolean; lineBytes?: number } = {},
): ScriptCase {
  const lines = options.lines ?? 20;
  const pause = (options.seconds ?? 0.5) / lines;
  return {
    fileName: `chatty-${tag}.py`,
    content: [
      'import sys, time',
      `TAG = ${JSON.stringify(tag)}`,
      `for i in range(${lines}):`,
      `    sys.stdout.write("%s line %d %s \\u00e9\\u20ac\\n" % (TAG, i, "x" * (i * ${options.lineBytes ?? 7} % 500)))`,
      '    sys.stdout.flush()',
      '    if i % 4 == 0:',
      '        sys.stderr.write("%s warn %d\\n" % (TAG, i))',
      '        sys.stderr.flush()',
      `    time.sleep(${pause.toFixed(4)})`,
      options.rawBytes === false ? '' : 'sys.stdout.buffer.write(b"raw \\xff\\xfe\\x80 bytes\\n")',
      `sys.exit(${exitCode})`,
      '',
    ].join('\n'),
  };
}

export interface CollectedRun {
  commandId: string;
  result: RunResult;
  stdout: Buffer;
  stderr: Buffer;
}

/** Starts a run and waits for it, collecting every byte delivered through onOutput per stream. */
export async function runCollecting(
  engine: Engine,
  request: RunRequest,
  onFirstOutput?: (commandId: string) => void,
): Promise<CollectedRun> {
  const handle = await engine.start(request);
  const chunks: OutputChunk[] = [];
  handle.onOutput((chunk) => {
    if (chunks.length === 0) onFirstOutput?.(handle.commandId);
    chunks.push(chunk);
  });
  const result = await handle.wait();
  const bytes = (stream: 'stdout' | 'stderr') =>
    Buffer.concat(chunks.filter((c) => c.stream === stream).map((c) => c.data));
  return { commandId: handle.commandId, result, stdout: bytes('stdout'), stderr: bytes('stderr') };
}

export function fileRequest(script: ScriptCase, instanceId: string, extra: Partial<RunRequest> = {}): RunRequest {
  return {
    source: {
      kind: 'file',
      fileName: script.fileName,
      content: Buffer.from(script.content, 'utf8'),
      args: script.args,
    },
    target: { kind: 'instances', instanceIds: [instanceId] },
    ...extra,
  };
}

/** SSM's status for an exit code, as the agent reports it. */
export function expectedStatus(exitCode: number): string {
  return exitCode === 0 ? 'Success' : 'Failed';
}

/** The wrapper's own notes on stderr (e.g. when the live channel broke) start with this. */
export const WRAPPER_NOTE = /^ec2-runner: .*\n/gm;

/**
 * Local output as SSM's GetCommandInvocation shows it: the agent's cut at `maxBytes` (with its suffix), as UTF-8 text.
 */
export function asSsmShowsIt(local: Buffer, maxBytes: number): string {
  return agentTruncate(local, local.byteLength, maxBytes).toString('utf8');
}

/**
 * Why a run that fell back to SSM's output does not match the local run, or undefined when it
 * does: SSM's stdout must be the local stdout as the agent cuts it, and SSM's stderr the local
 * stderr plus the wrapper's notes (compared without them; when cut, as far as it goes).
 */
export function ssmOutputMismatch(
  invocation: { stdout: string; stderr: string },
  local: LocalOutcome,
): string | undefined {
  const stdout = asSsmShowsIt(local.stdout, MAX_STDOUT_CONTENT_BYTES);
  if (invocation.stdout !== stdout)
    return (
      `SSM stdout differs from the local run ` +
      `(${Buffer.byteLength(invocation.stdout)}/${Buffer.byteLength(stdout)} bytes)`
    );
  const stderr = invocation.stderr.replace(WRAPPER_NOTE, '');
  const localStderr = local.stderr.toString('utf8');
  const cut = invocation.stderr.endsWith(OUTPUT_TRUNCATED_SUFFIX);
  const same = cut
    ? localStderr.startsWith(stderr.slice(0, -OUTPUT_TRUNCATED_SUFFIX.length).replace(/\uFFFD+$/, ''))
    : stderr === localStderr;
  return same
    ? undefined
    : `SSM stderr differs from the local run (${Buffer.byteLength(stderr)}/${local.stderr.byteLength} bytes ` +
        `without the wrapper's notes)`;
}

/**
 * What the reliability files share: a sandbox, an engine on it, its Online instances, a scratch dir; knobs reset after
 * each test.
 */
export interface FaultBench {
  fx: SandboxFixture;
  engine: Engine;
  online: string[];
  dir: string;
  /**
   * Runs `script` through the engine and asserts it matches the local run exactly (status, exit code, bytes, nothing
   * left running).
   */
  assertMatchesLocal(
    script: ScriptCase,
    instanceId?: string,
    onFirstOutput?: (commandId: string) => void,
  ): Promise<CollectedRun>;
}

export const CALM_KNOBS = {
  latencyMs: 0,
  throttleRps: 0,
  faultRate: 0,
  deliveryDelayMs: 200,
  postObjectFailStatus: 0,
  deny: [],
  foreignBuckets: [],
};

export async function faultBench(fx: SandboxFixture, engine: Engine): Promise<FaultBench> {
  const online = fx.onlineInstanceIds;
  const dir = makeTempDir('ec2-runner-reliability-');
  return {
    fx,
    engine,
    online,
    dir,
    async assertMatchesLocal(script, instanceId = online[0], onFirstOutput) {
      const local = runLocally(script);
      const run = await runCollecting(engine, fileRequest(script, instanceId), onFirstOutput);
      const invocation = run.result.invocations[0];
      assert.equal(invocation.status, expectedStatus(local.exitCode), invocation.reason);
      assert.equal(invocation.exitCode, local.exitCode);
      assert.equal(invocation.outputSource, 'live');
      assert.ok(run.stdout.equals(local.stdout), `stdout differs:\n${run.stdout}\n---\n${local.stdout}`);
      assert.ok(run.stderr.equals(local.stderr), `stderr differs:\n${run.stderr}\n---\n${local.stderr}`);
      await nothingLeftRunning(run.commandId);
      return run;
    },
  };
}

/**
 * A node:test suite with a FaultBench (filled in before the tests run); calm knobs and Online instances restored after
 * each test.
 */
export function describeWithFaultBench(title: string, tests: (bench: FaultBench) => void): void {
  const sandboxReady = withSandbox({ instances: 3 });
  const bench = {} as FaultBench;
  describe(title, () => {
    before(async () => {
      const fx = await sandboxReady;
      Object.assign(bench, await faultBench(fx, createEngine(fx.engineSettings)));
    });
    after(() => bench.engine?.dispose());
    afterEach(() => {
      bench.fx.sandbox.configure(CALM_KNOBS);
      for (const id of bench.online) bench.fx.sandbox.setPingStatus(id, 'Online');
    });
    tests(bench);
  });
}
