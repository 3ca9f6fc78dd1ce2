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
      parts.push(
        header(Buffer.from('././@PaxHeader', 'ascii'), pax.byteLength, 0o644, 'x'),
        pax,
        padding(pax.byteLength),
      );
    }
    const asciiName = Buffer.from(entry.path.replace(/[^\x20-\x7e]/g, '_'), 'utf8');
    parts.push(
      header(asciiName, entry.content.byteLength, mode, '0'),
      Buffer.from(entry.content),
      padding(entry.content.byteLength),
    );
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

/**
 * A ustar numeric field: octal digits, optionally padded with spaces and ended by NUL or space.
 * Anything else (base-256, signs, stray bytes) is refused rather than guessed.
 */
function readOctal(block: Buffer, offset: number, length: number, what: string): number {
  const text = readString(block, offset, length).replace(/^ +| +$/g, '');
  if (!/^[0-7]{0,12}$/.test(text)) throw new TarFormatError(`bad ${what} field ${JSON.stringify(text.slice(0, 20))}`);
  return text ? parseInt(text, 8) : 0;
}

/** A pax decimal: digits only, a safe integer (no sign, exponent, fraction or spaces). */
function paxNumber(value: string, what: string): number {
  if (!/^[0-9]{1,16}$/.test(value) || !Number.isSafeInteger(Number(value)))
    throw new TarFormatError(`bad pax ${what} ${JSON.stringify(value.slice(0, 20))}`);
  return Number(value);
}

/** Records `"<len> <key>=<value>\n"`; each length must cover its own record exactly. */
function parsePax(data: Buffer): Record<string, string> {
  const records: Record<string, string> = {};
  let offset = 0;
  while (offset < data.length) {
    if (data[offset] === 0) break; // NUL padding after the last record
    const space = data.indexOf(0x20, offset);
    const lengthText = space < 0 ? '' : data.subarray(offset, space).toString('latin1');
    if (!/^[1-9][0-9]{0,8}$/.test(lengthText)) throw new TarFormatError(`bad pax record length at byte ${offset}`);
    const end = offset + Number(lengthText);
    if (end > data.length || end <= space + 1 || data[end - 1] !== 0x0a)
      throw new TarFormatError(`pax record at byte ${offset} does not end where its length says`);
    const record = data.subarray(space + 1, end - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq <= 0) throw new TarFormatError(`pax record at byte ${offset} has no key=value`);
    records[record.slice(0, eq)] = record.slice(eq + 1);
    offset = end; // always forward: the length is at least 1
  }
  return records;
}

export interface TarLimits {
  /** Largest archive accepted, in bytes. */
  maxBytes: number;
  /** Most regular files accepted (headers are bounded by the size: each takes a 512-byte block). */
  maxEntries: number;
}

/** Regular file types; everything else (directories, links, devices, globals) is skipped. */
const FILE_TYPES = new Set(['0', '7']);
/** Headers that describe the next entry. */
const NEXT_ENTRY_TYPES = new Set(['x', 'L']);

/**
 * Regular files of a tar (ustar, pax, GNU long names); directories are implied, other types skipped.
 * Strict and bounded whatever the input: numeric fields must be plain octal/decimal, every entry
 * must fit in what is left, the read position moves forward by at least one block per header, and
 * the archive size and entry count are capped. Any violation is a TarFormatError naming the byte.
 * (The reader is ours rather than a library's for the reasons at the top of this file, and because
 * the artifacts tar comes from an untrusted instance: a small strict reader over an in-memory buffer
 * is easier to bound and fuzz than a streaming one built for tolerance.)
 */
export function readTar(
  data: Uint8Array,
  limits: TarLimits = { maxBytes: Infinity, maxEntries: Infinity },
): TarEntry[] {
  if (data.byteLength > limits.maxBytes)
    throw new TarFormatError(`${data.byteLength} bytes is over the ${limits.maxBytes}-byte limit`);
  const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const entries: TarEntry[] = [];
  let offset = 0;
  let pending: { path?: string; size?: number } = {};
  while (offset + BLOCK <= buffer.length) {
    const block = buffer.subarray(offset, offset + BLOCK);
    if (block.every((b) => b === 0)) break;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i];
    if (readOctal(block, 148, 8, 'checksum') !== sum)
      throw new TarFormatError(`header checksum mismatch at byte ${offset}`);
    const type = String.fromCharCode(block[156] || 0x30);
    const ownSize = readOctal(block, 124, 12, 'size');
    // A pax `size` describes the next entry, never a header (nor a pax global header 'g', which is skipped).
    const size = NEXT_ENTRY_TYPES.has(type) || type === 'g' ? ownSize : (pending.size ?? ownSize);
    const start = offset + BLOCK;
    if (size > buffer.length - start)
      throw new TarFormatError(
        `entry at byte ${offset} is truncated (${size} bytes declared, ${buffer.length - start} left)`,
      );
    const content = buffer.subarray(start, start + size);
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
    if (NEXT_ENTRY_TYPES.has(type)) {
      if (type === 'x') {
        const pax = parsePax(content);
        pending = {
          path: pax.path ?? pending.path,
          size: pax.size !== undefined ? paxNumber(pax.size, 'size') : pending.size,
        };
      } else {
        pending = { ...pending, path: content.toString('utf8').replace(/\0+$/, '') };
      }
      continue;
    }
    if (type === 'g') continue;
    const prefix = readString(block, 345, 155);
    const name = pending.path ?? (prefix ? `${prefix}/${readString(block, 0, 100)}` : readString(block, 0, 100));
    pending = {};
    if (!FILE_TYPES.has(type)) continue;
    if (entries.length >= limits.maxEntries) throw new TarFormatError(`more than ${limits.maxEntries} files`);
    entries.push({ path: name, content: new Uint8Array(content), mode: readOctal(block, 100, 8, 'mode') & 0o777 });
  }
  if (pending.path !== undefined || pending.size !== undefined)
    throw new TarFormatError('the archive ends after a header that describes a next entry');
  return entries;
}
