// Drives one run from start to its last output line: starts (or re-attaches to) it through the
// engine, writes the header, live output, done lines and result to the output sink, keeps the run
// history current and tells the notifier when it ends. Depends on narrow interfaces only, so it is
// unit-tested with fakes; runner.ts does the VS Code side (which file, which target, which arguments).
import type { Engine, OutputChunk, RunHandle, RunRequest } from '../core/frontEnd';
import { artifactsOf, artifactsText } from './artifactList';
import { ChannelBudget, fullOutputLines } from './channelBudget';
import { errorMessageOf } from './errorInfo';
import {
  completionText,
  failedToStartLine,
  headerLine,
  LiveOutputFormatter,
  overallStatus,
  type TargetLabel,
} from './format';
import type { RerunSource, RunHistory, RunRecord } from './history';
import type { RunTranscripts } from './runTranscripts';
import type { Feedback } from './settings';

export interface OutputSink {
  append(text: string): void;
  show(preserveFocus: boolean): void;
  clear(): void;
}

export interface RunNotifier {
  /** A run ended (only called for runs that started). */
  finished(record: RunRecord, feedback: Feedback): void;
  /** Staging or sending failed; nothing runs. */
  failedToStart(record: RunRecord, error: unknown): void;
}

export type RunEngine = Pick<Engine, 'start' | 'attach'>;

/** Where one run is shown instead of the output channel (a terminal: terminalRun.ts). */
export interface RunView {
  /** EC2 Runner's own lines: header, warnings, done lines, result. */
  notice(text: string): void;
  /** The script's output as it arrived (not prefixed, not re-wrapped). */
  output(chunk: OutputChunk): void;
  /** The run is over (finished, failed to start, lost track of). */
  ended(): void;
}

export interface RunSpec {
  label: string;
  source: RerunSource;
  /** A Run Command run; or `launch`, which starts a Session Manager run and adapts it (sessionRun.ts). */
  request: RunRequest | { launch: () => Promise<RunHandle> };
  targets: TargetLabel[];
  feedback: Feedback;
  clearPreviousOutput: boolean;
  preserveFocus: boolean;
  /** Starts the run another way (a debug run); default the engine's start(request). */
  start?: () => Promise<RunHandle>;
  /** Show the run there (a terminal), not in the output channel. */
  view?: RunView;
}

export interface StartedRun {
  record: RunRecord;
  /** Resolves when the command was sent (or failed to be). */
  started: Promise<void>;
  /** Resolves with the final record; never rejects. */
  done: Promise<RunRecord>;
}

export interface RunControllerDeps {
  engine: () => RunEngine;
  output: OutputSink;
  history: RunHistory;
  notifier: RunNotifier;
  /** What each run printed, for "show this run's output" (bounded; shared with the run-output documents). */
  transcripts: RunTranscripts;
  now?: () => number;
  newId?: () => string;
  /** How much of each run's script output the output channel shows (default CHANNEL_RUN_LIMIT_CHARS). */
  channelBudget?: ChannelBudget;
}

export class RunController {
  private readonly handles = new Map<string, RunHandle>();
  /** Runs this window is staging or sending (no handle yet). */
  private readonly starting = new Set<string>();
  private readonly cancelRequested = new Set<string>();
  private readonly detached = new Set<string>();
  private readonly views = new Map<string, RunView>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly now: () => number;
  private readonly newId: () => string;
  private readonly channelBudget: ChannelBudget;

  constructor(private readonly deps: RunControllerDeps) {
    this.now = deps.now ?? Date.now;
    this.channelBudget = deps.channelBudget ?? new ChannelBudget();
    this.newId = deps.newId ?? (() => `${this.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`);
  }

  start(spec: RunSpec): StartedRun {
    const record: RunRecord = {
      id: this.newId(),
      label: spec.label,
      source: spec.source,
      targets: spec.targets,
      state: 'starting',
      startedAt: this.now(),
    };
    const session = 'launch' in spec.request;
    if (spec.view) this.views.set(record.id, spec.view);
    else if (spec.clearPreviousOutput) this.deps.output.clear();
    if (spec.feedback !== 'fireAndForget' && !spec.view) this.deps.output.show(spec.preserveFocus);
    let markStarted!: () => void;
    const started = new Promise<void>((resolve) => (markStarted = resolve));
    const done = this.track(
      (async () => {
        this.starting.add(record.id);
        await this.deps.history.add(record);
        let handle: RunHandle;
        try {
          handle = spec.start
            ? await spec.start()
            : 'launch' in spec.request
              ? await spec.request.launch()
              : await this.deps.engine().start(spec.request);
        } catch (error) {
          this.starting.delete(record.id);
          this.write(record, failedToStartLine(record.label, record.targets, errorMessageOf(error)));
          this.endView(record);
          await this.deps.history.update(record.id, {
            state: 'finished',
            status: 'Failed',
            exitCode: null,
            reason: errorMessageOf(error),
            endedAt: this.now(),
          });
          markStarted();
          this.deps.notifier.failedToStart(record, error);
          return record;
        }
        // follow() subscribes before its first await, so no early output is missed.
        this.starting.delete(record.id);
        for (const warning of handle.warnings ?? []) this.write(record, `[Warning] ${warning}\n`);
        const following = this.follow(record, handle, 'Running', spec.feedback, session);
        markStarted();
        return following;
      })(),
    );
    return { record, started, done };
  }

  /** Follows a run a previous window started (its record says running); its output continues here. */
  reattach(record: RunRecord, feedback: Feedback): Promise<RunRecord> {
    return this.track(
      (async () => {
        if (!record.commandId || this.owns(record.id)) return record;
        let handle: RunHandle;
        try {
          handle = await this.deps.engine().attach(record.commandId);
        } catch (error) {
          this.write(
            record,
            `[Failed] could not re-attach to ${record.label} · command ${record.commandId}: ${errorMessageOf(error)}\n`,
          );
          await this.deps.history.update(record.id, {
            state: 'finished',
            status: 'Unknown',
            reason: errorMessageOf(error),
            endedAt: this.now(),
          });
          return record;
        }
        return this.follow(record, handle, 'Re-attached', feedback, false);
      })(),
    );
  }

  async cancel(id: string): Promise<void> {
    const handle = this.handles.get(id);
    if (handle) {
      const record = this.deps.history.get(id);
      this.write(
        record,
        `[Cancelling] ${record?.label ?? id} · ${record?.sessionId ? 'session' : 'command'} ${handle.commandId}\n`,
      );
      await handle.cancel();
    } else if (this.deps.history.get(id)?.state === 'starting') {
      this.cancelRequested.add(id);
    }
  }

  /** Stops following every run without cancelling it (the window is closing); the history keeps them as running. */
  detachAll(): void {
    for (const [id, handle] of this.handles) {
      this.detached.add(id);
      handle.detach();
    }
  }

  /** True while this window starts or follows the run (so it is not another window's leftover). */
  owns(id: string): boolean {
    return this.handles.has(id) || this.starting.has(id);
  }

  /** Resolves when every run this controller follows has ended (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.pending.add(promise);
    void promise.finally(() => this.pending.delete(promise));
    return promise;
  }

  /** EC2 Runner's own text about a run: to its view (a terminal) or the output channel, and its transcript. */
  private write(record: RunRecord | undefined, text: string): void {
    if (!text) return;
    const view = record && this.views.get(record.id);
    if (view) view.notice(text);
    else this.deps.output.append(text);
    this.transcribe(record, text);
  }

  /** The script's output: a view gets the bytes as they came, the output channel the formatted text. */
  private writeOutput(record: RunRecord, chunk: OutputChunk, format: () => string): void {
    const view = this.views.get(record.id);
    if (!view) {
      // Past the channel's budget the output is not even formatted (a run may print gigabytes).
      if (!this.channelBudget.isTrimmed(record.id)) this.write(record, this.channelBudget.take(record.id, format()));
      return;
    }
    view.output(chunk);
    this.transcribe(record, format());
  }

  /** What the formatter still holds (an open line), unless the channel stopped showing this run's output. */
  private finishOutput(record: RunRecord, formatter: LiveOutputFormatter): void {
    const rest = formatter.finish();
    if (!this.channelBudget.isTrimmed(record.id)) this.write(record, rest);
  }

  private endView(record: RunRecord): void {
    this.views.get(record.id)?.ended();
    this.views.delete(record.id);
  }

  private transcribe(record: RunRecord | undefined, text: string): void {
    if (!record || !text) return;
    this.deps.transcripts.append(record.id, text);
  }

  /** `session`: an interactive run (Session Manager); its id is a session id, not a command id. */
  private async follow(
    record: RunRecord,
    handle: RunHandle,
    verb: string,
    feedback: Feedback,
    session: boolean,
  ): Promise<RunRecord> {
    this.handles.set(record.id, handle);
    const liveLocation = handle.outputLocation;
    const names = new Map(record.targets.map((t) => [t.instanceId, t.name ?? t.instanceId]));
    const several = record.targets.length !== 1 || handle.instanceIds.length > 1;
    const formatter = new LiveOutputFormatter(several ? (id) => names.get(id) ?? id : undefined);
    this.write(
      record,
      headerLine(record.label, record.targets, handle.commandId, verb, session ? 'session' : 'command'),
    );
    const subscriptions = [
      handle.onOutput((chunk) => this.writeOutput(record, chunk, () => formatter.push(chunk))),
      handle.onStatus((update) => {
        if (record.state === 'running' && update.status !== record.status && !this.detached.has(record.id)) {
          void this.deps.history.update(record.id, { status: update.status });
        }
      }),
    ];
    try {
      await this.deps.history.update(record.id, {
        state: 'running',
        ...(session ? { sessionId: handle.commandId } : { commandId: handle.commandId }),
        status: 'InProgress',
        liveLocation,
      });
      if (this.cancelRequested.delete(record.id)) await this.cancel(record.id);
      const result = await handle.wait();
      if (this.detached.has(record.id)) return record;
      this.finishOutput(record, formatter);
      this.write(
        record,
        completionText(result, {
          durationMs: this.now() - record.startedAt,
          targets: record.targets,
          showResult: feedback === 'exitCodeAndData' && !session,
          liveLocation,
          session,
        }),
      );
      this.write(record, fullOutputLines(result));
      this.write(record, artifactsText(result));
      const overall = overallStatus(result);
      await this.deps.history.update(record.id, {
        state: 'finished',
        ...overall,
        artifacts: artifactsOf(result),
        endedAt: this.now(),
      });
      this.deps.notifier.finished(record, feedback);
    } catch (error) {
      this.finishOutput(record, formatter);
      this.write(record, `[Error] lost track of command ${handle.commandId}: ${errorMessageOf(error)}\n`);
      await this.deps.history.update(record.id, {
        state: 'finished',
        status: 'Unknown',
        reason: errorMessageOf(error),
        endedAt: this.now(),
      });
      this.deps.notifier.finished(record, feedback);
    } finally {
      for (const s of subscriptions) s.dispose();
      if (!this.detached.has(record.id)) this.endView(record);
      this.channelBudget.end(record.id);
      this.handles.delete(record.id);
      this.detached.delete(record.id);
    }
    return record;
  }
}
