// The live-channel reader (src/core/liveChannelReader.ts) on its own for unit tests: a channel in memory that
// records every call, and a virtual clock. No follower or run loop around it.
import { LiveChannelReader, type LiveChannelBackend } from '../../src/core/liveChannelReader';
import { chunkKey, encodeFrames, type Frame } from '../../src/core/remote';
import { FakeClock, text } from './fakeRunBackend';

export const ID = 'i-0123456789abcdef0';
export const ID2 = 'i-0123456789abcdef1';
export const PREFIX = 'ec2-runner/runs/abc/';

/** One stdout frame. */
export const out = (s: string): Frame[] => [{ type: 'stdout', data: text(s) }];

/** A live channel in memory: keys in S3's order, every call recorded. */
export class FakeChannel implements LiveChannelBackend {
  readonly objects = new Map<string, Uint8Array>();
  readonly calls: string[] = [];
  put(instanceId: string, seq: number, frames: Frame[]): void {
    this.objects.set(chunkKey(PREFIX, instanceId, seq), encodeFrames(frames));
  }
  async listKeys(_bucket: string, prefix: string, startAfter?: string): Promise<string[]> {
    this.calls.push(`list ${prefix} after ${startAfter ?? '-'}`);
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix) && (!startAfter || k > startAfter)).sort();
  }
  async getObject(_bucket: string, key: string): Promise<Uint8Array> {
    this.calls.push(`get ${key}`);
    const body = this.objects.get(key);
    if (!body) throw Object.assign(new Error('NoSuchKey happened'), { name: 'NoSuchKey' });
    return body;
  }
  async getObjectIfExists(_bucket: string, key: string): Promise<Uint8Array | undefined> {
    this.calls.push(`probe ${key}`);
    return this.objects.get(key);
  }
}

/** A reader over a FakeChannel; `seen` collects stdout as `<last character of the instance id>:<text>`. */
export function reader(uploadGapMs = 0) {
  const channel = new FakeChannel();
  const clock = new FakeClock();
  const seen: string[] = [];
  const r = new LiveChannelReader(
    channel,
    { bucket: 'b', runPrefix: PREFIX },
    (id, frames) => {
      for (const f of frames) if (f.type === 'stdout') seen.push(`${id.slice(-1)}:${Buffer.from(f.data).toString()}`);
    },
    uploadGapMs,
    () => clock.now(),
  );
  return { channel, clock, seen, r };
}
