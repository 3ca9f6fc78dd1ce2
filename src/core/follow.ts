// Reads the live-output channel: objects `<runPrefix><instanceId>/<seq>` that the instance-side
// wrapper uploads through the presigned POST. Each instance's objects are listed with their own
// prefix and StartAfter (a single listing across instances would skip a late object of an
// instance sorting before the last key seen), fetched, and their frames decoded strictly in
// sequence order, so stdout/stderr interleaving is kept.
import type { RunBackend } from './backend';
import { decodeFrames, parseChunkKey, type Frame } from './remote';

export interface LiveLocation {
  bucket: string;
  /** `<keyPrefix>runs/<runId>/`, ending with "/". */
  runPrefix: string;
}

/** Parses the `s3://bucket/prefix/` location from a command's header line. */
export function parseLiveLocation(outputLocation: string): LiveLocation | undefined {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(outputLocation);
  if (!match) return undefined;
  return { bucket: match[1], runPrefix: match[2].endsWith('/') ? match[2] : `${match[2]}/` };
}

export function liveOutputLocation(location: LiveLocation): string {
  return `s3://${location.bucket}/${location.runPrefix}`;
}

interface InstanceCursor {
  nextSeq: number;
  lastListedKey?: string;
  /** Listed but not yet processed (waiting for an earlier sequence number). */
  pending: Map<number, string>;
}

/** How many objects of one instance are fetched at once (replays after `attach` can be long). */
const PARALLEL_GETS = 8;

export class LiveChannelReader {
  private readonly cursors = new Map<string, InstanceCursor>();

  constructor(
    private readonly backend: RunBackend,
    readonly location: LiveLocation,
    private readonly onFrames: (instanceId: string, frames: Frame[]) => void,
  ) {}

  /** Instance ids that have uploaded anything (for tag targets, whose instances SSM picks). */
  async discoverInstances(): Promise<string[]> {
    const prefixes = await this.backend.listSubPrefixes(this.location.bucket, this.location.runPrefix);
    return prefixes.map((p) => p.slice(this.location.runPrefix.length).replace(/\/$/, '')).filter(Boolean);
  }

  private cursor(instanceId: string): InstanceCursor {
    let cursor = this.cursors.get(instanceId);
    if (!cursor) this.cursors.set(instanceId, (cursor = { nextSeq: 0, pending: new Map() }));
    return cursor;
  }

  /**
   * Lists new objects of one instance and processes every one that is next in sequence.
   * Returns the number of objects processed.
   */
  async poll(instanceId: string): Promise<number> {
    const cursor = this.cursor(instanceId);
    const prefix = `${this.location.runPrefix}${instanceId}/`;
    const keys = await this.backend.listKeys(this.location.bucket, prefix, cursor.lastListedKey);
    for (const key of keys) {
      const parsed = parseChunkKey(this.location.runPrefix, key);
      if (parsed && parsed.instanceId === instanceId && parsed.seq >= cursor.nextSeq) cursor.pending.set(parsed.seq, key);
      cursor.lastListedKey = key;
    }
    let processed = 0;
    while (cursor.pending.has(cursor.nextSeq)) {
      const batch: string[] = [];
      for (let seq = cursor.nextSeq; cursor.pending.has(seq) && batch.length < PARALLEL_GETS; seq++) batch.push(cursor.pending.get(seq)!);
      const bodies = await Promise.all(batch.map((key) => this.backend.getObject(this.location.bucket, key)));
      for (const body of bodies) {
        cursor.pending.delete(cursor.nextSeq);
        cursor.nextSeq++;
        processed++;
        this.onFrames(instanceId, decodeFrames(body));
      }
    }
    return processed;
  }

  /** The first missing sequence number when later objects are already there, else undefined. */
  gapOf(instanceId: string): number | undefined {
    const cursor = this.cursors.get(instanceId);
    return cursor && cursor.pending.size > 0 ? cursor.nextSeq : undefined;
  }

  /** Gives up on a missing object (its upload failed for good) and continues after it. */
  skipGap(instanceId: string): number {
    const cursor = this.cursor(instanceId);
    if (cursor.pending.size === 0) return 0;
    const next = Math.min(...cursor.pending.keys());
    const skipped = next - cursor.nextSeq;
    cursor.nextSeq = next;
    return skipped;
  }
}
