import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  chunkKey,
  CorruptFramesError,
  decodeFrames,
  encodeFrames,
  type Frame,
  parseChunkKey,
} from '../../src/core/remote';

describe('live-output frames', () => {
  test('every frame type round-trips, binary bytes included', () => {
    const frames: Frame[] = [
      { type: 'start', info: { pid: 42, pythonVersion: '3.6.8', cwd: '/tmp/é' } },
      { type: 'stdout', data: new Uint8Array([0xff, 0x00, 0x0a, 0xc3]) },
      { type: 'stderr', data: new Uint8Array(0) },
      { type: 'result', data: Buffer.from('{"ok":true}') },
      { type: 'error', message: 'checksum mismatch: expected a got b' },
      { type: 'exit', exitCode: 3 },
      { type: 'exit', exitCode: 137, signal: 9 },
    ];
    const decoded = decodeFrames(encodeFrames(frames));
    assert.deepEqual(
      decoded.map((f) => ('data' in f ? { ...f, data: Buffer.from(f.data) } : f)),
      frames.map((f) => ('data' in f ? { ...f, data: Buffer.from(f.data) } : f)),
    );
  });

  test('the layout is type letter + big-endian length + payload, exit as ASCII decimal', () => {
    const body = Buffer.from(
      encodeFrames([
        { type: 'stdout', data: Buffer.from('hi') },
        { type: 'exit', exitCode: 0 },
      ]),
    );
    assert.deepEqual(
      body,
      Buffer.concat([Buffer.from('o\0\0\0\x02hi', 'latin1'), Buffer.from('x\0\0\0\x010', 'latin1')]),
    );
  });

  test('an empty body is no frames', () => {
    assert.deepEqual(decodeFrames(new Uint8Array(0)), []);
  });

  test('decodes a subarray view at a non-zero offset', () => {
    const body = Buffer.concat([
      Buffer.from('junk'),
      Buffer.from(encodeFrames([{ type: 'stderr', data: Buffer.from('e') }])),
    ]);
    const frames = decodeFrames(body.subarray(4));
    assert.equal(frames[0].type, 'stderr');
  });

  const corrupt: Array<[string, Buffer, RegExp]> = [
    ['truncated header', Buffer.from('o\0\0'), /truncated frame header/],
    ['truncated payload', Buffer.from('o\0\0\0\x05ab', 'latin1'), /declares 5 bytes but only 2 remain/],
    ['unknown type', Buffer.from('Z\0\0\0\0', 'latin1'), /unknown frame type 0x5a/],
    ['bad start JSON', Buffer.from('S\0\0\0\x01{', 'latin1'), /start frame is not valid JSON/],
    ['non-object start', Buffer.from('S\0\0\0\x02[]', 'latin1'), /start frame is not a JSON object/],
    ['bad exit', Buffer.from('x\0\0\0\x03abc', 'latin1'), /exit frame/],
    ['exit JSON without code', Buffer.from('x\0\0\0\x02{}', 'latin1'), /no numeric exitCode/],
  ];
  for (const [name, body, message] of corrupt) {
    test(`a corrupt body (${name}) throws a clear error`, () => {
      assert.throws(
        () => decodeFrames(body),
        (error: unknown) => error instanceof CorruptFramesError && message.test(error.message),
      );
    });
  }
});

describe('live-output chunk keys', () => {
  const prefix = 'ec2-runner/runs/0123456789abcdef/';

  test('keys sort in upload order and parse back', () => {
    const keys = [0, 1, 9, 10, 12345678].map((seq) => chunkKey(prefix, 'i-0abc1234', seq));
    assert.equal(keys[0], `${prefix}i-0abc1234/00000000`);
    assert.deepEqual([...keys].sort(), keys);
    assert.deepEqual(
      keys.map((key) => parseChunkKey(prefix, key)?.seq),
      [0, 1, 9, 10, 12345678],
    );
    assert.deepEqual(parseChunkKey(prefix, keys[1]), { instanceId: 'i-0abc1234', seq: 1 });
  });

  test('keys outside the prefix or of another shape are not chunks', () => {
    for (const key of [
      'ec2-runner/runs/other/i-0abc1234/00000000',
      `${prefix}i-0abc1234/0000001`,
      `${prefix}i-0abc1234/0000000x`,
      `${prefix}00000000`,
      `${prefix}i-0abc1234/sub/00000000`,
      `${prefix}/00000000`,
      // Ids that are not instance ids never reach a path: traversal, separators, other shapes.
      `${prefix}../00000000`,
      `${prefix}..\\..\\x/00000000`,
      `${prefix}i-0abc1234\\..\\..\\x/00000000`,
      `${prefix}C:/00000000`,
      `${prefix}i-0ABC1234/00000000`,
      `${prefix}i-0abc123/00000000`,
      `${prefix}i-0abc1234567890abcd/00000000`,
      `${prefix}host-laptop/00000000`,
      `${prefix}xi-0abc1234/00000000`,
    ]) {
      assert.equal(parseChunkKey(prefix, key), undefined, key);
    }
  });

  test('a negative or fractional sequence is refused', () => {
    assert.throws(() => chunkKey(prefix, 'i-1', -1), RangeError);
    assert.throws(() => chunkKey(prefix, 'i-1', 1.5), RangeError);
  });
});
