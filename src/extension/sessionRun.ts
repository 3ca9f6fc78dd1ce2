// An interactive run (a pty on the instance over Session Manager, engine.startInteractiveRun) seen
// as a RunHandle, so RunController follows it like any run: header, done line with the exit code,
// Runs view, status bar, notifications. Its id is the session id; "cancel" ends the session.
import type { Engine, InteractiveRunRequest, Listener, OutputChunk, RunHandle, RunResult } from '../core/frontEnd';
import type { TerminalInput } from './terminalRun';

export type InteractiveEngine = Pick<Engine, 'startInteractiveRun'>;

export interface SessionRunOptions {
  request: Omit<InteractiveRunRequest, 'onOutput' | 'onNotice'>;
  /** The terminal: gets the run's input side once the session is open. */
  connect(input: TerminalInput): void;
  /** Session notices (a resumed connection, the agent's message). */
  notice(text: string): void;
  now?: () => number;
}

/** The outcome of a finished interactive run as a RunResult of one invocation. */
export function sessionResult(
  sessionId: string,
  instanceId: string,
  outcome: { exitCode?: number; reason?: string },
  cancelled: boolean,
  startedAt: Date,
  endedAt: Date,
): RunResult {
  const exitCode = outcome.exitCode ?? null;
  const status = cancelled ? 'Cancelled' : exitCode === 0 ? 'Success' : 'Failed';
  const reason =
    exitCode !== null
      ? undefined
      : cancelled
        ? 'the session was ended (Cancel Run)'
        : `the session ended before the script reported its exit status${outcome.reason ? ` (${outcome.reason})` : ''}`;
  return {
    commandId: sessionId,
    invocations: [
      {
        instanceId,
        status,
        statusDetails: status,
        exitCode,
        stdout: '',
        stderr: '',
        result: null,
        outputSource: 'live',
        reason,
        startedAt,
        endedAt,
      },
    ],
  };
}

export async function startSessionRun(engine: InteractiveEngine, options: SessionRunOptions): Promise<RunHandle> {
  const now = options.now ?? Date.now;
  const instanceId = options.request.instanceId;
  const listeners = new Set<Listener<OutputChunk>>();
  // Output that arrives before RunController subscribes is kept for it.
  const early: OutputChunk[] = [];
  const emit = (chunk: OutputChunk) => {
    if (listeners.size === 0) early.push(chunk);
    for (const listener of [...listeners]) listener(chunk);
  };
  const startedAt = new Date(now());
  const run = await engine.startInteractiveRun({
    ...options.request,
    onOutput: (bytes) => emit({ instanceId, stream: 'stdout', data: bytes }),
    onNotice: (text) => options.notice(`[Session] ${text}\n`),
  });
  options.connect({ write: (bytes) => run.write(bytes), resize: (cols, rows) => run.resize(cols, rows) });
  let cancelled = false;
  const end = () => run.terminate().catch(() => undefined);
  return {
    commandId: run.sessionId,
    instanceIds: [instanceId],
    onOutput(listener) {
      listeners.add(listener);
      for (const chunk of early.splice(0)) listener(chunk);
      return { dispose: () => void listeners.delete(listener) };
    },
    onStatus: () => ({ dispose: () => undefined }),
    async wait() {
      const outcome = await run.done.catch((error: unknown) => ({
        exitCode: undefined,
        reason: (error as Error).message,
      }));
      return sessionResult(run.sessionId, instanceId, outcome, cancelled, startedAt, new Date(now()));
    },
    async cancel() {
      cancelled = true;
      await end();
    },
    // A session cannot be followed from another window: when this one closes, the session ends.
    detach: () => void end(),
  };
}
