// What this window printed for each run, for "show this run's output": written by the run controller,
// read by the run-output documents. Bounded: each run keeps its last part, and only the most recently
// written runs are kept, within a total budget; an older run's document is rebuilt from SSM/S3
// (runOutputDocuments.ts) instead.

/** Limits in UTF-16 characters (string length), which is what the window holds in memory. */
export interface TranscriptLimits {
  /** One run keeps its last this many characters. */
  perRun: number;
  /** All runs together. */
  total: number;
  /** At most this many runs. */
  runs: number;
}

export const TRANSCRIPT_LIMITS: TranscriptLimits = { perRun: 1024 * 1024, total: 8 * 1024 * 1024, runs: 20 };

export class RunTranscripts {
  /** Oldest written first: a run moves to the end whenever it prints. */
  private readonly texts = new Map<string, string>();
  private readonly listeners = new Set<(id: string) => void>();
  private length = 0;

  constructor(private readonly limits: TranscriptLimits = TRANSCRIPT_LIMITS) {}

  append(id: string, text: string): void {
    if (!text) return;
    const previous = this.texts.get(id) ?? '';
    const joined = previous + text;
    const next = joined.length > this.limits.perRun ? joined.slice(joined.length - this.limits.perRun) : joined;
    this.texts.delete(id);
    this.texts.set(id, next);
    this.length += next.length - previous.length;
    this.prune(id);
    for (const listener of this.listeners) listener(id);
  }

  /** What this window printed for a run (its last part), if it still holds it. */
  get(id: string): string | undefined {
    return this.texts.get(id);
  }

  /** Called with a run's id whenever it printed more. */
  onDidAppend(listener: (id: string) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** Runs held and their total length (tests). */
  get size(): { runs: number; length: number } {
    return { runs: this.texts.size, length: this.length };
  }

  /** Drops the runs written longest ago until within the limits; never the one being written. */
  private prune(keep: string): void {
    for (const [id, text] of this.texts) {
      if (this.texts.size <= this.limits.runs && this.length <= this.limits.total) return;
      if (id === keep) continue;
      this.texts.delete(id);
      this.length -= text.length;
    }
  }
}
