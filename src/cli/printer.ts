// Writes remote output: raw bytes for one target; for several, whole lines prefixed with the
// instance (partial lines wait for their newline so instances never mix within a line; a line longer
// than LONGEST_HELD_LINE is written in pieces, so output without newlines never piles up in memory).
import type { OutputChunk } from '../core';

/** A partial line is held at most this long before it is written as a line of its own. */
export const LONGEST_HELD_LINE = 64 * 1024;

export interface Streams {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export class OutputPrinter {
  private readonly partial = new Map<string, Buffer>();

  constructor(
    private readonly streams: Streams,
    private readonly prefixed: () => boolean,
    private readonly label: (instanceId: string) => string,
  ) {}

  write(chunk: OutputChunk): void {
    const stream = this.streams[chunk.stream];
    if (!this.prefixed()) {
      stream.write(chunk.data);
      return;
    }
    const key = `${chunk.instanceId}\u0000${chunk.stream}`;
    let pending = Buffer.concat([this.partial.get(key) ?? Buffer.alloc(0), chunk.data]);
    const prefix = Buffer.from(`[${this.label(chunk.instanceId)}] `);
    for (let newline = pending.indexOf(10); newline >= 0; newline = pending.indexOf(10)) {
      stream.write(Buffer.concat([prefix, pending.subarray(0, newline + 1)]));
      pending = pending.subarray(newline + 1);
    }
    for (; pending.length >= LONGEST_HELD_LINE; pending = pending.subarray(LONGEST_HELD_LINE))
      stream.write(Buffer.concat([prefix, pending.subarray(0, LONGEST_HELD_LINE), Buffer.from('\n')]));
    this.partial.set(key, Buffer.from(pending));
  }

  /** Writes what is left of unterminated lines. */
  flush(): void {
    for (const [key, pending] of this.partial) {
      if (pending.length === 0) continue;
      const [instanceId, stream] = key.split('\u0000') as [string, 'stdout' | 'stderr'];
      this.streams[stream].write(
        Buffer.concat([Buffer.from(`[${this.label(instanceId)}] `), pending, Buffer.from('\n')]),
      );
    }
    this.partial.clear();
  }
}
