// Live-output object body: a sequence of frames, each 1 byte type + 4 bytes big-endian length + payload.
// The wrapper (wrapper/channel.py) writes the same layout; keep the type letters in sync.

export type Frame =
  | { type: 'start'; info: Record<string, unknown> }
  | { type: 'stdout' | 'stderr'; data: Uint8Array }
  | { type: 'result'; data: Uint8Array }
  /** A tar of the files the script left in $EC2_RUNNER_ARTIFACTS (sent once, before the exit frame). */
  | { type: 'artifacts'; data: Uint8Array }
  | { type: 'exit'; exitCode: number; signal?: number }
  | { type: 'error'; message: string };

const HEADER_BYTES = 5;

const LETTER_BY_TYPE = {
  start: 'S',
  stdout: 'o',
  stderr: 'e',
  result: 'r',
  artifacts: 'a',
  exit: 'x',
  error: 'E',
} as const;
type FrameType = keyof typeof LETTER_BY_TYPE;
const TYPE_BY_CODE = new Map<number, FrameType>(
  (Object.entries(LETTER_BY_TYPE) as Array<[FrameType, string]>).map(([type, letter]) => [letter.charCodeAt(0), type]),
);

/** Thrown when a live-output object is not a valid frame sequence (truncated, foreign or tampered with). */
export class CorruptFramesError extends Error {
  constructor(reason: string) {
    super(`live output object is corrupt: ${reason}`);
    this.name = 'CorruptFramesError';
  }
}

function payloadOf(frame: Frame): Uint8Array {
  switch (frame.type) {
    case 'start':
      return Buffer.from(JSON.stringify(frame.info), 'utf8');
    case 'stdout':
    case 'stderr':
    case 'result':
    case 'artifacts':
      return frame.data;
    case 'exit':
      // Plain decimal when there is no signal: what the wrapper writes for a normal exit.
      return Buffer.from(
        frame.signal === undefined
          ? String(frame.exitCode)
          : JSON.stringify({ exitCode: frame.exitCode, signal: frame.signal }),
        'ascii',
      );
    case 'error':
      return Buffer.from(frame.message, 'utf8');
  }
}

export function encodeFrames(frames: Frame[]): Uint8Array {
  const parts: Buffer[] = [];
  for (const frame of frames) {
    const payload = payloadOf(frame);
    const header = Buffer.alloc(HEADER_BYTES);
    header.writeUInt8(LETTER_BY_TYPE[frame.type].charCodeAt(0), 0);
    header.writeUInt32BE(payload.byteLength, 1);
    parts.push(header, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength));
  }
  return new Uint8Array(Buffer.concat(parts));
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new CorruptFramesError(`${what} frame is not valid JSON`);
  }
}

function decodeExit(text: string): Frame {
  if (/^-?\d+$/.test(text)) return { type: 'exit', exitCode: Number(text) };
  const value = parseJson(text, 'exit') as { exitCode?: unknown; signal?: unknown } | null;
  if (
    !value ||
    typeof value.exitCode !== 'number' ||
    (value.signal !== undefined && typeof value.signal !== 'number')
  ) {
    throw new CorruptFramesError(`exit frame ${JSON.stringify(text.slice(0, 80))} has no numeric exitCode`);
  }
  return value.signal === undefined
    ? { type: 'exit', exitCode: value.exitCode }
    : { type: 'exit', exitCode: value.exitCode, signal: value.signal };
}

function decodeFrame(type: FrameType, payload: Buffer): Frame {
  switch (type) {
    case 'start': {
      const info = parseJson(payload.toString('utf8'), 'start');
      if (!info || typeof info !== 'object' || Array.isArray(info))
        throw new CorruptFramesError('start frame is not a JSON object');
      return { type, info: info as Record<string, unknown> };
    }
    case 'stdout':
    case 'stderr':
    case 'result':
    case 'artifacts':
      return { type, data: new Uint8Array(payload) };
    case 'exit':
      return decodeExit(payload.toString('ascii'));
    case 'error':
      return { type, message: payload.toString('utf8') };
  }
}

export function decodeFrames(body: Uint8Array): Frame[] {
  const buffer = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const frames: Frame[] = [];
  let offset = 0;
  while (offset < buffer.length) {
    if (buffer.length - offset < HEADER_BYTES) {
      throw new CorruptFramesError(`truncated frame header at byte ${offset} of ${buffer.length}`);
    }
    const code = buffer.readUInt8(offset);
    const type = TYPE_BY_CODE.get(code);
    if (!type)
      throw new CorruptFramesError(`unknown frame type 0x${code.toString(16).padStart(2, '0')} at byte ${offset}`);
    const length = buffer.readUInt32BE(offset + 1);
    const start = offset + HEADER_BYTES;
    if (start + length > buffer.length) {
      throw new CorruptFramesError(
        `frame at byte ${offset} declares ${length} bytes but only ${buffer.length - start} remain`,
      );
    }
    frames.push(decodeFrame(type, buffer.subarray(start, start + length)));
    offset = start + length;
  }
  return frames;
}
