// smux protocol version 1, the stream multiplexer the SSM agent (3.0.196.0 and later) runs inside
// a port-forwarding session so one session carries many TCP connections. Frame: version (1 byte,
// =1), command (SYN 0, FIN 1, PSH 2, NOP 3), payload length (uint16 little-endian), stream id
// (uint32 little-endian), payload. Followed from github.com/xtaci/smux frame.go/session.go/stream.go
// (MIT, as vendored in aws/amazon-ssm-agent) and the agent's plugins/port/port_mux.go (Apache-2.0);
// own implementation. Keep-alive NOPs are neither sent nor required: this client reports a version
// above 1.2.331.0, for which the agent turns smux keep-alive off.
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';

export const SMUX_VERSION = 1;
export const Cmd = { SYN: 0, FIN: 1, PSH: 2, NOP: 3 } as const;
export const SMUX_HEADER_BYTES = 8;
/** smux's default MaxFrameSize. */
export const MAX_FRAME_PAYLOAD = 32_768;

export interface SmuxFrame {
  cmd: number;
  streamId: number;
  payload: Buffer;
}

export function encodeFrame(cmd: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  if (payload.length > 0xffff) throw new RangeError(`smux frame payload of ${payload.length} bytes exceeds 65535`);
  const header = Buffer.alloc(SMUX_HEADER_BYTES);
  header[0] = SMUX_VERSION;
  header[1] = cmd;
  header.writeUInt16LE(payload.length, 2);
  header.writeUInt32LE(streamId, 4);
  return payload.length > 0 ? Buffer.concat([header, payload]) : header;
}

/** Cuts a byte stream (arriving in arbitrary pieces) into frames. */
export class FrameParser {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  push(bytes: Buffer): SmuxFrame[] {
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    let buffer = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    const frames: SmuxFrame[] = [];
    let offset = 0;
    while (buffer.length - offset >= SMUX_HEADER_BYTES) {
      if (buffer[offset] !== SMUX_VERSION) throw new Error(`smux: unsupported protocol version ${buffer[offset]}`);
      const length = buffer.readUInt16LE(offset + 2);
      if (buffer.length - offset < SMUX_HEADER_BYTES + length) break;
      const cmd = buffer[offset + 1];
      if (cmd > Cmd.NOP) throw new Error(`smux: unknown command ${cmd}`);
      frames.push({
        cmd,
        streamId: buffer.readUInt32LE(offset + 4),
        payload: Buffer.from(buffer.subarray(offset + SMUX_HEADER_BYTES, offset + SMUX_HEADER_BYTES + length)),
      });
      offset += SMUX_HEADER_BYTES + length;
    }
    buffer = buffer.subarray(offset);
    this.pending = buffer.length > 0 ? [buffer] : [];
    this.pendingBytes = buffer.length;
    return frames;
  }
}

export interface SmuxTransport {
  /** Sends bytes to the peer; resolves when more may be sent (backpressure). */
  write(bytes: Buffer): Promise<void>;
}

/** One side of an smux session. The client opens streams (ids 3, 5, ...); the server accepts them. */
export class SmuxSession {
  private readonly parser = new FrameParser();
  private readonly streams = new Map<number, SmuxStream>();
  private nextStreamId: number;
  private closed = false;

  constructor(
    private readonly transport: SmuxTransport,
    role: 'client' | 'server',
    private readonly onAccept?: (stream: SmuxStream) => void,
  ) {
    this.nextStreamId = role === 'client' ? 1 : 0;
  }

  get openStreams(): number {
    return this.streams.size;
  }

  openStream(): SmuxStream {
    if (this.closed) throw new Error('smux session is closed');
    this.nextStreamId += 2;
    const stream = new SmuxStream(this, this.nextStreamId);
    this.streams.set(stream.id, stream);
    void this.transport.write(encodeFrame(Cmd.SYN, stream.id));
    return stream;
  }

  /** Bytes from the peer. Throws on a protocol error (the caller ends the session). */
  feed(bytes: Buffer): void {
    for (const frame of this.parser.push(bytes)) {
      const stream = this.streams.get(frame.streamId);
      if (frame.cmd === Cmd.SYN) {
        if (!stream && this.onAccept) {
          const accepted = new SmuxStream(this, frame.streamId);
          this.streams.set(accepted.id, accepted);
          this.onAccept(accepted);
        }
      } else if (frame.cmd === Cmd.PSH) {
        if (stream && frame.payload.length > 0) stream.push(frame.payload);
      } else if (frame.cmd === Cmd.FIN) {
        if (stream) stream.remoteClosed();
      }
    }
  }

  close(): void {
    this.closed = true;
    for (const stream of this.streams.values()) stream.destroy();
    this.streams.clear();
  }

  /** @internal */
  async writeData(streamId: number, data: Buffer): Promise<void> {
    for (let offset = 0; offset < data.length; offset += MAX_FRAME_PAYLOAD) {
      await this.transport.write(encodeFrame(Cmd.PSH, streamId, data.subarray(offset, offset + MAX_FRAME_PAYLOAD)));
    }
  }

  /** @internal */
  finish(streamId: number): void {
    if (!this.streams.delete(streamId) || this.closed) return;
    void this.transport.write(encodeFrame(Cmd.FIN, streamId));
  }
}

/**
 * One multiplexed connection. As in smux v1 there is no half-close: a FIN from either side ends
 * the stream for both directions once buffered data is read.
 */
export class SmuxStream extends Duplex {
  private finSent = false;

  constructor(
    private readonly session: SmuxSession,
    readonly id: number,
  ) {
    super({ allowHalfOpen: false });
  }

  override _read(): void {
    // data is pushed as frames arrive
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.session.writeData(this.id, chunk).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.sendFin();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.sendFin();
    callback(error);
  }

  /** @internal */
  remoteClosed(): void {
    this.push(null);
    this.sendFin();
  }

  private sendFin(): void {
    if (this.finSent) return;
    this.finSent = true;
    this.session.finish(this.id);
  }
}

/**
 * Joins a TCP socket and an smux stream both ways (io.Copy twice, as handleDataTransfer); either end closing ends both.
 */
export function joinSocket(socket: Socket, stream: SmuxStream, sockets: Set<Socket>): void {
  sockets.add(socket);
  socket.pipe(stream);
  stream.pipe(socket);
  const end = () => {
    sockets.delete(socket);
    socket.destroy();
    stream.destroy();
  };
  socket.on('error', end);
  socket.on('close', end);
  stream.on('error', end);
  stream.on('close', () => socket.end());
}
