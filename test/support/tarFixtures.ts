// Hand-made tar blocks for attacking the reader: any field bytes, with a valid checksum so the
// reader gets past it to the field under test.

import { TarFormatError } from '../../src/core/archive';

export const BLOCK = 512;

/** The two zero blocks that end an archive. */
export const END_BLOCKS = Buffer.alloc(BLOCK * 2);

/** An assert.throws matcher: a TarFormatError whose message matches `pattern`. */
export const tarFormat = (pattern: RegExp) => (error: unknown) =>
  error instanceof TarFormatError && pattern.test(error.message);

/** A size field: 11 octal digits and a NUL. */
export const octalSize = (n: number) => `${n.toString(8).padStart(11, '0')}\0`;

/** Recomputes a header block's checksum in place (the field counts as spaces while summing). */
export function fixChecksum(block: Buffer): Buffer {
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += block[i];
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return block;
}

/** One header block with raw `size` field bytes (latin1, up to 12) and `type`. */
export function headerBlock(fields: { name: string; size: string; type?: string }): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(fields.name, 0, 100, 'utf8');
  block.write('0000644\0', 100, 'latin1');
  block.write('0000000\0', 108, 'latin1');
  block.write('0000000\0', 116, 'latin1');
  block.write(fields.size.slice(0, 12), 124, 12, 'latin1');
  block.write('00000000000\0', 136, 'latin1');
  block.write(fields.type ?? '0', 156, 'latin1');
  block.write('ustar\u000000', 257, 'latin1');
  return fixChecksum(block);
}

/** `data` followed by zeros up to the next block boundary. */
export function padded(data: Buffer): Buffer {
  return Buffer.concat([data, Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK)]);
}

/** A header with the given size field, a block of content and the end marker. */
export function tarHeader(fields: { name: string; size: string }): Buffer {
  return Buffer.concat([headerBlock(fields), Buffer.alloc(BLOCK, 0x41), END_BLOCKS]);
}

/** A pax header (records from `size`/`path` or `raw` text) followed by one file holding `content`. */
export function paxTar(records: { size?: string; path?: string; raw?: string }, content: string): Buffer {
  const text =
    records.raw ??
    [
      ['path', records.path],
      ['size', records.size],
    ]
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => paxRecord(k!, v!))
      .join('');
  const pax = Buffer.from(text, 'utf8');
  const body = Buffer.from(content, 'utf8');
  return Buffer.concat([
    headerBlock({ name: 'PaxHeader', size: octalSize(pax.length), type: 'x' }),
    padded(pax),
    headerBlock({ name: 'file', size: octalSize(body.length) }),
    padded(body),
    END_BLOCKS,
  ]);
}

/** `"<len> key=value\n"` with <len> counting the whole record. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bytes = Buffer.byteLength(body, 'utf8');
  let length = bytes + 1;
  while (String(length).length + bytes !== length) length = String(length).length + bytes;
  return `${length}${body}`;
}
