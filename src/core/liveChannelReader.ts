// Reads the live-output channel: objects `<runPrefix><instanceId>/<seq>` that the instance-side
// wrapper uploads through the presigned POST. Each instance's frames are decoded strictly in
// sequence order, so stdout/stderr interleaving is kept.
//
// S3 bills a LIST like 12.5 GETs, so each pass picks the cheapest of three ways to find new objects:
// - a GET of each followed instance's next key (keys are sequence-numbered): a miss costs a GET,
//   a hit is the object itself (one instance, or a fleet whose listing has grown long), or
// - one listing per followed instance, with that instance's prefix and StartAfter (one instance:
//   one call, whatever the length of its output), or
// - one listing of the whole run prefix, starting after what is known of the first followed
//   instance in key order (a fleet of 500 short runs: two pages of 1,000 keys instead of 500 calls).
//   A single StartAfter can only skip instances that sort before every followed one, since a late
//   object of an earlier instance would otherwise be missed.
import type { RunBackend } from './backend';
import { chunkKey, decodeFrames, parseChunkKey, type Frame } from './remote';

/** The S3 calls the reader makes. */
export type LiveChannelBackend = Pick<RunBackend, 'listKeys' | 'getObject' | 'getObjectIfExists'>;

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
  /** How many keys of this instance have been listed (to price a whole-prefix listing). */
  listedCount: number;
  /** Listed but not yet processed (waiting for an earlier sequence number). */
  pending: Map<number, string>;
  /** When the last object arrived, and whether the one before came about one upload gap earlier. */
  lastArrivalMs?: number;
  /** Continuous output: the next object cannot come before this (the wrapper's upload gap). */
  notBeforeMs?: number;
  /** The largest object of the last batch fetched (bounds the next batch: IN_FLIGHT_BYTES). */
  lastBatchObjectBytes?: number;
}

/** How many objects of one instance are fetched at once (replays after `attach` can be long). */
const PARALLEL_GETS = 8;
/**
 * At most about this many bytes of objects in flight at once, judged by the last object's size: a script
 * printing fast fills 8 MB objects, and eight of them at once (copied by the SDK while read) would take
 * most of the client's memory budget for big output (outputStore.ts).
 */
const IN_FLIGHT_BYTES = 16 * 1024 * 1024;
/** ListObjectsV2 returns at most this many keys per call. */
const KEYS_PER_LIST_CALL = 1000;
/** A GET costs this many LISTs at S3 list prices ($0.0004 vs $0.005 per 1,000). */
export const GET_COST_IN_LISTS = 0.08;
/** Objects this many upload gaps apart (from, to) are continuous output. */
const CONTINUOUS_RHYTHM = [0.9, 1.5] as const;
/** Share of the upload gap that polls skip after an object of continuous output. */
const CONTINUOUS_WAIT = 0.75;

export interface ListingPass {
  /** Instances neither followed nor seen before (tag targets, whose instances SSM picks). */
  discovered: string[];
  /** What this pass costs in LIST calls (GETs at GET_COST_IN_LISTS; bounds how often passes may run). */
  listCalls: number;
}

export class LiveChannelReader {
  private readonly cursors = new Map<string, InstanceCursor>();
  /** Instances whose next key this pass GETs (in drain). */
  private readonly probing = new Set<string>();

  constructor(
    private readonly backend: LiveChannelBackend,
    readonly location: LiveLocation,
    private readonly onFrames: (instanceId: string, frames: Frame[]) => void,
    /** The wrapper's least time between uploads of continuous output (cadence.ts). */
    private readonly uploadGapMs = 0,
    private readonly now: () => number = Date.now,
  ) {}

  private cursor(instanceId: string): InstanceCursor {
    let cursor = this.cursors.get(instanceId);
    if (!cursor) this.cursors.set(instanceId, (cursor = { nextSeq: 0, pending: new Map(), listedCount: 0 }));
    return cursor;
  }

  private instancePrefix(instanceId: string): string {
    return `${this.location.runPrefix}${instanceId}/`;
  }

  /**
   * Finds the new objects of `instanceIds` (and, with `discover`, of instances not seen yet) at the
   * lower LIST cost. Call `drain` afterwards to process them.
   */
  async list(instanceIds: readonly string[], options: { discover: boolean }): Promise<ListingPass> {
    if (!options.discover && instanceIds.length === 0) return { discovered: [], listCalls: 0 };
    const ordered = [...instanceIds].sort((a, b) => compareKeys(this.instancePrefix(a), this.instancePrefix(b)));
    const first = ordered[0];
    const startAfter = options.discover
      ? undefined
      : (this.cursors.get(first)?.lastListedKey ?? this.instancePrefix(first));
    const wholeCalls = this.wholeListingCalls(startAfter);
    if (!options.discover && ordered.length * GET_COST_IN_LISTS < wholeCalls) {
      const due = ordered.filter((id) => (this.cursors.get(id)?.notBeforeMs ?? 0) <= this.now());
      for (const id of due) this.probing.add(id);
      return { discovered: [], listCalls: Math.max(GET_COST_IN_LISTS, due.length * GET_COST_IN_LISTS) };
    }
    const keys = await this.backend.listKeys(this.location.bucket, this.location.runPrefix, startAfter);
    return { discovered: this.take(keys, new Set(instanceIds), options.discover), listCalls: wholeCalls };
  }

  /** LIST calls for the run prefix after `startAfter`, from the keys listed so far (at least one). */
  private wholeListingCalls(startAfter: string | undefined): number {
    let keys = 0;
    for (const [id, cursor] of this.cursors) {
      if (startAfter === undefined || compareKeys(this.instancePrefix(id), startAfter) >= 0) keys += cursor.listedCount;
    }
    return 1 + Math.floor(keys / KEYS_PER_LIST_CALL);
  }

  /** Files listed keys under their instances; returns the instances neither followed nor seen before. */
  private take(keys: string[], followed: ReadonlySet<string>, discover: boolean): string[] {
    const discovered: string[] = [];
    for (const key of keys) {
      const parsed = parseChunkKey(this.location.runPrefix, key);
      if (!parsed) continue;
      const known = this.cursors.has(parsed.instanceId);
      if (!followed.has(parsed.instanceId) && !(discover && !known)) continue;
      if (!known && !followed.has(parsed.instanceId)) discovered.push(parsed.instanceId);
      const cursor = this.cursor(parsed.instanceId);
      if (cursor.lastListedKey !== undefined && compareKeys(key, cursor.lastListedKey) <= 0) continue;
      cursor.lastListedKey = key;
      cursor.listedCount++;
      if (parsed.seq >= cursor.nextSeq) cursor.pending.set(parsed.seq, key);
    }
    return discovered;
  }

  /**
   * Fetches and processes every listed (or, when probed, existing) object of one instance next in sequence; returns how
   * many.
   */
  async drain(instanceId: string): Promise<number> {
    const cursor = this.cursor(instanceId);
    const processed =
      (await this.drainListed(instanceId, cursor)) +
      (this.probing.delete(instanceId) ? await this.probe(instanceId, cursor) : 0);
    if (processed > 0) this.arrived(cursor, processed);
    return processed;
  }

  /**
   * GETs the next keys until one is missing (only the next one while output is continuous: the one after cannot be
   * there yet; none after the exit frame, the wrapper's last).
   */
  private async probe(instanceId: string, cursor: InstanceCursor): Promise<number> {
    const continuous = cursor.notBeforeMs !== undefined;
    let processed = 0;
    let ended = false;
    for (;;) {
      if ((continuous && processed > 0) || ended) return processed;
      const key = chunkKey(this.location.runPrefix, instanceId, cursor.nextSeq);
      const body = await this.backend.getObjectIfExists(this.location.bucket, key);
      if (!body) return processed;
      cursor.pending.delete(cursor.nextSeq);
      cursor.nextSeq++;
      if (cursor.lastListedKey === undefined || compareKeys(key, cursor.lastListedKey) > 0) {
        cursor.lastListedKey = key;
        cursor.listedCount++;
      }
      processed++;
      const frames = decodeFrames(body);
      ended = frames.some((frame) => frame.type === 'exit');
      this.onFrames(instanceId, frames);
    }
  }

  /**
   * One object in the rhythm of the wrapper's upload gap is continuous output: the next one comes
   * about a gap later, so polls skip CONTINUOUS_WAIT of it (urgent frames such as the exit are seen
   * at most that much later; a miss costs a GET).
   */
  private arrived(cursor: InstanceCursor, processed: number): void {
    const now = this.now();
    const since = cursor.lastArrivalMs === undefined ? Infinity : now - cursor.lastArrivalMs;
    const continuous =
      processed === 1 &&
      since >= CONTINUOUS_RHYTHM[0] * this.uploadGapMs &&
      since <= CONTINUOUS_RHYTHM[1] * this.uploadGapMs;
    cursor.notBeforeMs = continuous ? now + this.uploadGapMs * CONTINUOUS_WAIT : undefined;
    cursor.lastArrivalMs = now;
  }

  private async drainListed(instanceId: string, cursor: InstanceCursor): Promise<number> {
    let processed = 0;
    while (cursor.pending.has(cursor.nextSeq)) {
      const batch: string[] = [];
      const parallel = Math.max(
        1,
        Math.min(PARALLEL_GETS, Math.floor(IN_FLIGHT_BYTES / Math.max(1, cursor.lastBatchObjectBytes ?? 0))),
      );
      for (let seq = cursor.nextSeq; cursor.pending.has(seq) && batch.length < parallel; seq++)
        batch.push(cursor.pending.get(seq)!);
      const bodies = await Promise.all(batch.map((key) => this.backend.getObject(this.location.bucket, key)));
      cursor.lastBatchObjectBytes = Math.max(...bodies.map((body) => body.byteLength));
      for (const body of bodies) {
        cursor.pending.delete(cursor.nextSeq);
        cursor.nextSeq++;
        processed++;
        this.onFrames(instanceId, decodeFrames(body));
      }
    }
    return processed;
  }

  /**
   * Lists one instance's new objects and processes them (the last look before its result is final: a listing also finds
   * a gap).
   */
  async poll(instanceId: string): Promise<number> {
    this.take(
      await this.backend.listKeys(
        this.location.bucket,
        this.instancePrefix(instanceId),
        this.cursors.get(instanceId)?.lastListedKey,
      ),
      new Set([instanceId]),
      false,
    );
    return this.drain(instanceId);
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

/** S3 lists keys in UTF-8 byte order; instance ids and sequence numbers are ASCII, so code units match it. */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
