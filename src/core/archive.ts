// A minimal, deterministic tar (ustar + pax) writer and a strict reader.
//
// Why our own ~150 lines instead of a library: we need exactly one shape — regular files only, sorted,
// mtime 0, uid/gid 0, no user names, fixed modes — so that the same tree always gives the same bytes
// (and so the same sha256 and the same content-addressed key). Popular tar packages write the local
// uid, mtime and user names unless every field is overridden, pull in streams machinery and are larger
// than this file. The instance side reads and writes the same format with Python's stdlib tarfile.
import { gzipSync, gunzipSync, constants as zlibConstants } from 'node:zlib';

const BLOCK = 512;

export interface TarEntry {
  /** POSIX relative path, e.g. `pkg/util.py`. */
  path: string;
  content: Uint8Array;
  /** 0o644 or 0o755; nothing else is kept (no setuid, no group/world write). */
  mode?: number;
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function header(name: Uint8Array, size: number, mode: number, type: string): Buffer {
  const block = Buffer.alloc(BLOCK);
  Buffer.from(name).copy(block, 0, 0, Math.min(name.byteLength, 100));
  block.write(octal(mode, 8), 100, 'ascii');
  block.write(octal(0, 8), 108, 'ascii'); // uid
  block.write(octal(0, 8), 116, 'ascii'); // gid
  block.write(octal(size, 12), 124, 'ascii');
  block.write(octal(0, 12), 136, 'ascii'); // mtime: fixed, for determinism
  block.write('        ', 148, 'ascii'); // checksum placeholder
  block.write(type, 156, 'ascii');
  block.write('ustar\u000000', 257, 'ascii');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return block;
}

function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/** A pax record `"<len> path=<value>\n"` where <len> counts the whole record, itself included. */
function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  const bodyBytes = Buffer.byteLength(body, 'utf8');
  let length = bodyBytes + 1;
  while (String(length).length + bodyBytes !== length) length = String(length).length + bodyBytes;
  return Buffer.from(`${length}${body}`, 'utf8');
}

/** Writes `entries` sorted by path as one tar; names that are long or not ASCII get a pax header. */
export function writeTar(entries: TarEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const parts: Buffer[] = [];
  for (const entry of sorted) {
    const name = Buffer.from(entry.path, 'utf8');
    const mode = entry.mode === 0o755 ? 0o755 : 0o644;
    if (name.byteLength > 100 || /[^\x20-\x7e]/.test(entry.path)) {
      const pax = paxRecord('path', entry.path);
      parts.push(header(Buffer.from('././@PaxHeader', 'ascii'), pax.byteLength, 0o644, 'x'), pax, padding(pax.byteLength));
    }
    const asciiName = Buffer.from(entry.path.replace(/[^\x20-\x7e]/g, '_'), 'utf8');
    parts.push(header(asciiName, entry.content.byteLength, mode, '0'), Buffer.from(entry.content), padding(entry.content.byteLength));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

/**
 * gzip with fixed settings: Node writes mtime 0 and no file name in the gzip header, so equal input
 * gives equal output on a given zlib build (the header's OS byte is fixed per platform).
 */
export function gzipDeterministic(data: Uint8Array): Buffer {
  return gzipSync(data, { level: 6, memLevel: 8, strategy: zlibConstants.Z_DEFAULT_STRATEGY });
}

export function gunzip(data: Uint8Array): Buffer {
  return gunzipSync(data);
}

export class TarFormatError extends Error {
  constructor(reason: string) {
    super(`not a valid tar archive: ${reason}`);
    this.name = 'TarFormatError';
  }
}

function readString(block: Buffer, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? length : end).toString('utf8');
}

function readOctal(block: Buffer, offset: number, length: number): number {
  const text = readString(block, offset, length).trim();
  if (!/^[0-7]*$/.test(text)) throw new TarFormatError(`bad number field ${JSON.stringify(text)}`);
  return text ? parseInt(text, 8) : 0;
}

function parsePax(data: Buffer): Record<string, string> {
  const records: Record<string, string> = {};
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    const length = Number(data.subarray(offset, space).toString('ascii'));
    if (space < 0 || !Number.isInteger(length) || length <= 0) throw new TarFormatError('bad pax record');
    const record = data.subarray(space + 1, offset + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) records[record.slice(0, eq)] = record.slice(eq + 1);
    offset += length;
  }
  return records;
}

/** Regular files of a tar (ustar, pax, GNU long names); directories are implied, other types skipped. */
export function readTar(data: Uint8Array): TarEntry[] {
  const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const entries: TarEntry[] = [];
  let offset = 0;
  let pending: { path?: string; size?: number } = {};
  while (offset + BLOCK <= buffer.length) {
    const block = buffer.subarray(offset, offset + BLOCK);
    if (block.every((b) => b === 0)) break;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i];
    if (readOctal(block, 148, 8) !== sum) throw new TarFormatError(`header checksum mismatch at byte ${offset}`);
    const type = String.fromCharCode(block[156] || 0x30);
    const size = pending.size ?? readOctal(block, 124, 12);
    const start = offset + BLOCK;
    if (start + size > buffer.length) throw new TarFormatError(`entry at byte ${offset} is truncated`);
    const content = buffer.subarray(start, start + size);
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x') {
      const pax = parsePax(content);
      pending = { path: pax.path, size: pax.size !== undefined ? Number(pax.size) : undefined };
      continue;
    }
    if (type === 'L') {
      pending = { ...pending, path: content.toString('utf8').replace(/\0+$/, '') };
      continue;
    }
    const prefix = readString(block, 345, 155);
    const name = pending.path ?? (prefix ? `${prefix}/${readString(block, 0, 100)}` : readString(block, 0, 100));
    pending = {};
    if (type === '0' || type === '7') entries.push({ path: name, content: new Uint8Array(content), mode: readOctal(block, 100, 8) & 0o777 });
  }
  return entries;
}
