// The runs this workspace started, persisted in the extension's workspace storage so the Runs view
// survives a reload and runs still going are re-attached on activation.
import type { ArtifactFile } from '../core/frontEnd';
import type { TargetLabel } from './format';

/** What is needed to run the same thing again. */
export type RerunSource =
  | { kind: 'file'; uri: string; fileName: string; args: string[]; interactive?: boolean }
  | { kind: 'command'; command: string }
  | { kind: 'selection'; text: string; language: string }
  | { kind: 'project'; root: string; entry: string; args: string[] };

export type RunState = 'starting' | 'running' | 'finished';

export interface RunRecord {
  /** Local id (the command id is only known once SSM accepted the command). */
  id: string;
  commandId?: string;
  /** An interactive run's Session Manager session (it has no command id, and ends with its window). */
  sessionId?: string;
  /** The file name (with arguments) or the command line. */
  label: string;
  source: RerunSource;
  targets: TargetLabel[];
  state: RunState;
  /** SSM's status (aggregate: the first non-success), e.g. InProgress, Success, Failed, Cancelled. */
  status?: string;
  exitCode?: number | null;
  reason?: string;
  startedAt: number;
  endedAt?: number;
  /** Where the complete live output lives (s3://...), when the engine tells. */
  liveLocation?: string;
  /** Files the run shipped back from $EC2_RUNNER_ARTIFACTS (see artifacts.ts). */
  artifacts?: ArtifactFile[];
}

/** The slice of vscode.Memento the store needs (workspaceState / globalState). */
export interface KeyValueStore {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): PromiseLike<void>;
}

export const HISTORY_KEY = 'ec2Runner.runHistory';
export const MAX_HISTORY = 50;

export class RunHistory {
  private records: RunRecord[];
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly store: KeyValueStore,
    private readonly limit = MAX_HISTORY,
  ) {
    this.records = (store.get<RunRecord[]>(HISTORY_KEY) ?? []).filter(isRecord);
  }

  /** Newest first. */
  all(): readonly RunRecord[] {
    return this.records;
  }

  get(id: string): RunRecord | undefined {
    return this.records.find((r) => r.id === id);
  }

  last(): RunRecord | undefined {
    return this.records[0];
  }

  active(): RunRecord[] {
    return this.records.filter((r) => r.state !== 'finished');
  }

  /** Runs a previous window left running: they have a command id and no end. */
  toReattach(): RunRecord[] {
    return this.records.filter((r) => r.state === 'running' && r.commandId);
  }

  async add(record: RunRecord): Promise<void> {
    this.records = [record, ...this.records.filter((r) => r.id !== record.id)];
    // Trim finished runs only: a running one must stay findable for re-attach.
    while (this.records.length > this.limit) {
      const index = this.records.map((r) => r.state).lastIndexOf('finished');
      if (index < 0) break;
      this.records.splice(index, 1);
    }
    await this.save();
  }

  async update(id: string, change: Partial<Omit<RunRecord, 'id'>>): Promise<RunRecord | undefined> {
    const record = this.get(id);
    if (!record) return undefined;
    Object.assign(record, change);
    await this.save();
    return record;
  }

  async clearFinished(): Promise<void> {
    this.records = this.records.filter((r) => r.state !== 'finished');
    await this.save();
  }

  onDidChange(listener: () => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private async save(): Promise<void> {
    for (const listener of [...this.listeners]) listener();
    await this.store.update(HISTORY_KEY, this.records);
  }
}

function isRecord(value: unknown): value is RunRecord {
  const r = value as RunRecord;
  return Boolean(r && typeof r.id === 'string' && typeof r.label === 'string' && r.source && Array.isArray(r.targets));
}

/** A run that was still starting when its window went away may or may not have been sent: say so. */
export function interruptedChange(reason = 'the window closed before the command was sent'): Partial<RunRecord> {
  return { state: 'finished', status: 'Unknown', reason, endedAt: Date.now() };
}

/**
 * Runs of a previous window that cannot be followed again: still starting, or interactive (their session ended with the
 * window).
 */
export function interruptedRuns(
  history: RunHistory,
  owned: (id: string) => boolean,
): Array<{ record: RunRecord; change: Partial<RunRecord> }> {
  return history
    .active()
    .filter((r) => !owned(r.id) && (r.state === 'starting' || r.sessionId))
    .map((record) => ({
      record,
      change: record.sessionId
        ? interruptedChange('the window closed during the interactive session (its terminal went with it)')
        : interruptedChange(),
    }));
}
