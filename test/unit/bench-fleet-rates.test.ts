// The 1,000-instance bench's count of lost bytes (bench/fleetRates.ts): what the user did not get through
// onOutput, byte for byte and in order, whether the output came live or from SSM's after it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesLost, expectedLines } from '../../bench/fleetRates';

const lines = 'line 0 of host\nline 1 of host\nline 2 of host\n';
const pattern = expectedLines(3);

describe('bench: bytes lost by a printing fleet', () => {
  test('every line handed out, in order: nothing lost (live or from SSM alike)', () => {
    assert.equal(bytesLost(lines, Buffer.from(lines), pattern), 0);
  });

  test('a missing tail, a byte changed, a line twice or out of order: what is not in order counts', () => {
    assert.equal(bytesLost(lines, Buffer.from(lines.slice(0, 15)), pattern), lines.length - 15);
    assert.equal(bytesLost(lines, Buffer.from(lines.replace('line 2', 'line 9')), pattern), lines.length - 35);
    assert.equal(
      bytesLost(lines, Buffer.from(lines + 'line 2 of host\n'), pattern),
      1,
      'a duplicate costs one at least',
    );
    const swapped = 'line 1 of host\nline 0 of host\nline 2 of host\n';
    assert.equal(bytesLost(lines, Buffer.from(swapped), pattern), lines.length - 5);
  });

  test("a final output that is not the script's lines: unknown, at least one byte lost", () => {
    assert.equal(bytesLost('line 0 of host\n', Buffer.from('line 0 of host\n'), pattern), 1);
    assert.equal(bytesLost('', Buffer.alloc(0), pattern), 1);
  });
});
