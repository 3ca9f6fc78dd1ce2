// The SSM Comment (at most 100 characters) is cut between characters, never inside one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cutToLength } from '../../src/core/launch';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

test('a comment over 100 UTF-16 units is cut between characters: emoji, CJK, flags, accents', () => {
  for (const unit of ['🎉', '中', '𠀀', '🇫🇷', '👩‍💻', 'é', 'e\u0301', 'a']) {
    for (const prefix of ['', 'x', 'ec2-runner: run ']) {
      const text = prefix + unit.repeat(120);
      const cut = cutToLength(text, 100);
      assert.ok(cut.length <= 100, `${unit}: ${cut.length} units`);
      assert.ok(!LONE_SURROGATE.test(cut), `${unit}: a surrogate pair was split`);
      assert.ok(text.startsWith(cut));
      const rest = text.slice(prefix.length);
      assert.equal((cut.length - prefix.length) % unit.length, 0, `${JSON.stringify(unit)} cut inside a character`);
      assert.ok(cut.length > 100 - unit.length - 1 || rest.length === 0, `${unit}: cut too short (${cut.length})`);
    }
  }
  assert.equal(cutToLength('short', 100), 'short');
  assert.equal(cutToLength('x'.repeat(100), 100), 'x'.repeat(100));
});
