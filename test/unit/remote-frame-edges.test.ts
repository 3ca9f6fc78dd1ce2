// Edges of the live-output frame format and chunk keys that mutation testing found unguarded
// (docs/testing.md): hostile or malformed objects must be refused as corrupt, never half-decoded.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { chunkKey, CorruptFramesError, decodeFrames, encodeFrames, parseChunkKey } from '../../src/core/remote';

/** One raw frame: type letter + big-endian length + payload. */
function raw(letter: string, payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const header = Buffer.alloc(5);
  header.write(letter, 0, 'latin1');
  header.writeUInt32BE(body.byteLength, 1);
  return Buffer.concat([header, body]);
}

const corrupt = (body: Buffer, message: RegExp) =>
  assert.throws(
    () => decodeFrames(body),
    (error: Error) =>
      error instanceof CorruptFramesError && error.name === 'CorruptFramesError' && message.test(error.message),
  );

describe('live-output frames: edges', () => {
  test('an artifacts frame round-trips (its tar is what Download Artifacts writes)', () => {
    const tar = Buffer.from([0x75, 0x73, 0x74, 0x61, 0x72, 0x00, 0xff]);
    const body = Buffer.from(encodeFrames([{ type: 'artifacts', data: tar }]));
    assert.deepEqual(body, raw('a', tar));
    const [frame] = decodeFrames(body);
    assert.equal(frame.type, 'artifacts');
    assert.deepEqual(Buffer.from((frame as { data: Uint8Array }).data), tar);
  });

  test('exit codes: several digits and negative ones are plain decimals; anything else around them is corrupt', () => {
    assert.deepEqual(decodeFrames(raw('x', '42')), [{ type: 'exit', exitCode: 42 }]);
    assert.deepEqual(decodeFrames(raw('x', '-15')), [{ type: 'exit', exitCode: -15 }]);
    corrupt(raw('x', '12abc'), /exit frame is not valid JSON/);
    corrupt(raw('x', 'abc12'), /exit frame is not valid JSON/);
  });

  test('a JSON exit frame: without a signal it has no signal key; a non-numeric signal is corrupt', () => {
    const [plain] = decodeFrames(raw('x', '{"exitCode": 1}'));
    assert.deepStrictEqual(plain, { type: 'exit', exitCode: 1 });
    assert.ok(!('signal' in plain));
    assert.deepStrictEqual(decodeFrames(raw('x', '{"exitCode": 137, "signal": 9}')), [
      { type: 'exit', exitCode: 137, signal: 9 },
    ]);
    corrupt(raw('x', '{"exitCode": 137, "signal": "9"}'), /has no numeric exitCode/);
    corrupt(raw('x', '{"exitCode": "1"}'), /has no numeric exitCode/);
    corrupt(raw('x', 'null'), /has no numeric exitCode/);
  });

  test('the corrupt-exit message quotes at most 80 characters of the hostile payload', () => {
    const payload = `{"exitCode": "${'A'.repeat(70)}${'B'.repeat(200)}"}`;
    assert.throws(
      () => decodeFrames(raw('x', payload)),
      (error: Error) => error.message.includes('A'.repeat(66)) && !error.message.includes('B'.repeat(20)),
    );
  });

  test('a start frame must be a JSON object: null, numbers, strings and arrays are corrupt', () => {
    for (const payload of ['null', '5', '"text"', '[1]', 'true'])
      corrupt(raw('S', payload), /start frame is not a JSON object|start frame is not valid JSON/);
    assert.deepEqual(decodeFrames(raw('S', '{"cwd":"/tmp/é€"}')), [{ type: 'start', info: { cwd: '/tmp/é€' } }]);
  });

  test('a truncated header after a valid frame is corrupt, not an out-of-range read', () => {
    corrupt(Buffer.concat([raw('o', 'hi'), Buffer.from('o\0\0', 'latin1')]), /truncated frame header at byte 7 of 10/);
  });

  test('an unknown type letter is named in hex with two digits', () => {
    corrupt(raw('\x05', 'x'), /unknown frame type 0x05 at byte 0/);
  });
});

describe('chunk keys: edges', () => {
  test('a negative or fractional sequence is refused with the value in the message', () => {
    assert.throws(() => chunkKey('p/', 'i-1', -1), /non-negative integer, got -1/);
    assert.throws(() => chunkKey('p/', 'i-1', 1.5), /non-negative integer, got 1\.5/);
  });

  test('keys outside the prefix, with anything after the sequence or a folder before the id, are not chunks', () => {
    const id = 'i-0123456789abcdef0';
    assert.equal(parseChunkKey('abc/', `xyz/${id}/00000001`), undefined);
    assert.equal(parseChunkKey('p/', `p/${id}/00000001x`), undefined);
    assert.equal(parseChunkKey('p/', `p/${id}/x00000001`), undefined);
    assert.equal(parseChunkKey('p/', `p/x/${id}/00000001`), undefined, 'a folder between the prefix and the id');
    assert.deepEqual(parseChunkKey('p/', `p/${id}/00000001`), { instanceId: id, seq: 1 });
  });
});
