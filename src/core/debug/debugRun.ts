// A debug run: the file (or project) runs as a normal run (staging, wrapper, live output, exit
// code), with the bootstrap as its interpreter, so debugpy listens on 127.0.0.1 on the instance; once
// its ready line arrives on the live output, a Session Manager port forward makes that port local.
// The caller's DAP client (VS Code, a test) then attaches with pathMappings local root → remoteRoot.
import { randomBytes, randomInt } from 'node:crypto';
import * as path from 'node:path';
import {
  RunnerError,
  type DebugEndpoint,
  type DebugRunHandle,
  type DebugRunRequest,
  type PortForwardHandle,
  type PortForwardRequest,
  type RunHandle,
  type RunRequest,
  type RunSource,
  type TransferMode,
} from '../api';
import { DEBUG_READY_TIMEOUT_SECONDS, DEBUG_REMOTE_PORT_RANGE } from '../defaults';
import { normalizeEntry } from '../project';
import { checkPort } from '../session/portForward';
import { type BootstrapConfig, bootstrapInterpreter, findReadyLine } from './bootstrap';
import { type DebugpyBundle, debugpyBundle } from './debugpyBundle';

export interface DebugRunDeps {
  start(request: RunRequest): Promise<RunHandle>;
  forwardPort(request: PortForwardRequest): Promise<PortForwardHandle>;
  /** Stages the debugpy archive content-addressed (uploaded once) and says how the instance fetches it. */
  stageDebugpy(
    bundle: DebugpyBundle,
    transferMode: TransferMode | undefined,
    deliveryTimeoutSeconds: number | undefined,
  ): Promise<BootstrapConfig['debugpy']>;
}

/** Only the ready line's neighbourhood is kept while waiting (a chatty script cannot grow it). */
const STDERR_WINDOW = 64 * 1024;

type DebuggableSource = Extract<RunSource, { kind: 'file' | 'project' }>;

function debuggable(request: DebugRunRequest): { source: DebuggableSource; instanceId: string } {
  const { source, target } = request;
  if (target.kind !== 'instances' || target.instanceIds.length !== 1) {
    throw new RunnerError(
      'A debug run goes to exactly one instance: pick one instance (not a tag or several).',
      'DebugTargetUnsupported',
    );
  }
  if (source.kind !== 'file' && source.kind !== 'project') {
    throw new RunnerError(
      "Only a Python file (or a project's Python entry) can be debugged on EC2.",
      'DebugSourceUnsupported',
    );
  }
  const name = source.kind === 'file' ? source.fileName : source.entry;
  if (!/\.py$/i.test(name)) {
    throw new RunnerError(
      `${name} is not a Python file: debugging on EC2 runs Python under debugpy (shell scripts run with "Run ` +
        `Active File on EC2").`,
      'DebugSourceUnsupported',
    );
  }
  return { source, instanceId: target.instanceIds[0] };
}

/** Directories between the project root and the entry. */
function entryDepth(source: DebuggableSource): number {
  return source.kind === 'project'
    ? path.posix
        .dirname(normalizeEntry(source.entry))
        .split('/')
        .filter((p) => p && p !== '.').length
    : 0;
}

export async function startDebugRun(deps: DebugRunDeps, request: DebugRunRequest): Promise<DebugRunHandle> {
  const { source, instanceId } = debuggable(request);
  const remotePort =
    request.remotePort === undefined
      ? randomInt(DEBUG_REMOTE_PORT_RANGE.min, DEBUG_REMOTE_PORT_RANGE.max + 1)
      : checkPort(request.remotePort, 'remote debug port');
  if (request.localPort !== undefined) checkPort(request.localPort, 'local debug port', true);
  // No local copy is not an error yet: the instance may have its own (the bootstrap says so if not).
  const bundle = await debugpyBundle({
    explicit: request.debugpy?.path,
    candidates: request.debugpy?.candidates,
  }).catch((error: unknown) => {
    if (request.debugpy?.path || !(error instanceof RunnerError && error.code === 'DebugpyNotFound')) throw error;
    request.onNotice?.((error as Error).message);
    return undefined;
  });
  const config: BootstrapConfig = {
    token: randomBytes(12).toString('hex'),
    port: remotePort,
    depth: entryDepth(source),
    debugpy: bundle ? await deps.stageDebugpy(bundle, request.transferMode, request.deliveryTimeoutSeconds) : null,
  };
  const python = source.interpreter?.trim() || 'python3';
  const {
    debugpy: _debugpy,
    remotePort: _remote,
    localPort: _local,
    readyTimeoutSeconds: _timeout,
    onNotice: _notice,
    ...runRequest
  } = request;
  const run = await deps.start({
    ...runRequest,
    source: { ...source, interpreter: bootstrapInterpreter(python, config) },
    comment: request.comment ?? `debug ${source.kind === 'file' ? source.fileName : source.entry}`,
  });
  let forward: PortForwardHandle | undefined;
  let closed = false;
  const ready = waitUntilListening(
    run,
    instanceId,
    config.token,
    (request.readyTimeoutSeconds ?? DEBUG_READY_TIMEOUT_SECONDS) * 1000,
  ).then(async (line) => {
    if (closed) throw new RunnerError('The debug run was stopped before debugpy was ready.', 'DebugStopped');
    forward = await deps.forwardPort({
      instanceId,
      remotePort,
      localPort: request.localPort,
      onNotice: request.onNotice,
    });
    // The forward ends with the run: nothing listens there any more.
    void run.wait().then(
      () => forward?.close(),
      () => forward?.close(),
    );
    const endpoint: DebugEndpoint = {
      localPort: forward.localPort,
      remotePort,
      remoteRoot: line.remoteRoot,
      sessionId: forward.sessionId,
    };
    return endpoint;
  });
  ready.catch(() => undefined);
  return {
    run,
    ready,
    async close() {
      closed = true;
      await forward?.close();
    },
  };
}

/**
 * Resolves with the ready line once the run's stderr carries it. Rejects when the run ends first
 * (debugpy could not start: its error is in the run's output) or the time is up (the run is cancelled).
 */
function waitUntilListening(run: RunHandle, instanceId: string, token: string, timeoutMs: number) {
  return new Promise<{ remoteRoot: string }>((resolve, reject) => {
    let seen = '';
    const decoder = new TextDecoder();
    const finish = (error?: Error, line?: { remoteRoot: string }) => {
      clearTimeout(timer);
      subscription.dispose();
      if (error) reject(error);
      else resolve(line!);
    };
    const subscription = run.onOutput((chunk) => {
      if (chunk.instanceId !== instanceId || chunk.stream !== 'stderr') return;
      seen = (seen + decoder.decode(chunk.data, { stream: true })).slice(-STDERR_WINDOW);
      const line = findReadyLine(seen, token);
      if (line) finish(undefined, line);
    });
    const timer = setTimeout(() => {
      finish(
        new RunnerError(
          `debugpy did not report listening on ${instanceId} within ${Math.round(timeoutMs / 1000)} s: the ` +
            `run was cancelled. The debug run needs live output (the instance must reach S3); see the run's ` +
            `output.`,
          'DebugNotReady',
        ),
      );
      void run.cancel().catch(() => undefined);
    }, timeoutMs);
    run.wait().then(
      (result) => {
        const invocation = result.invocations.find((i) => i.instanceId === instanceId) ?? result.invocations[0];
        const code = invocation?.exitCode;
        finish(
          new RunnerError(
            `The debug run ended before debugpy listened ` +
              `(${invocation?.status ?? 'ended'}${code === null || code === undefined ? '' : `, exit code ${code}`}` +
              `): ` +
              `see the run's output for why (e.g. no Python on the instance, or debugpy could not start).`,
            'DebugEndedEarly',
          ),
        );
      },
      (error: unknown) => finish(error instanceof Error ? error : new Error(String(error))),
    );
  });
}
