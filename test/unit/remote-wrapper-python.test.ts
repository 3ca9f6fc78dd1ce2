// What the client fills into the instance-side wrapper (src/core/remote/wrapperProgram.ts): the program as sent
// parses as Python 3.6 (the oldest an instance may have), the values it takes from the client are the client's, and
// each value is written as a Python literal that means the same. The mutation run (stryker.config.json) reruns this
// file for every surviving mutant of the command text, so it holds only what reads the TypeScript: how the build
// joins and embeds the Python modules, and their own tests, are in remote-wrapper-build.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pyLiteral, WRAPPER_CLIENT_VALUES, withValues, wrapperProgram } from '../../src/core/remote/wrapperProgram';
import { py36SyntaxErrors } from '../support/pythonTests';

const valuesPy = readFileSync(
  join(__dirname, '..', '..', '..', 'src', 'core', 'remote', 'wrapper', 'values.py'),
  'utf8',
);

describe('the wrapper as the client sends it', () => {
  test('the program as sent parses as Python 3.6', () => {
    const sent = wrapperProgram(Buffer.from(JSON.stringify({ runId: 'r', mode: 'shell' })).toString('base64'));
    assert.deepEqual(
      py36SyntaxErrors([sent, 'def f():\n    return (x := 1)\n']).map((e) => /line 2/.test(e) || e),
      ['', true],
    );
  });

  test("the values the wrapper takes from the client are the client's (its own tests run with them)", () => {
    for (const [name, literal] of Object.entries(WRAPPER_CLIENT_VALUES)) {
      const line = new RegExp(`^${name} = (.*)$`, 'm').exec(valuesPy);
      assert.ok(line, `values.py has no line "${name} = ..."`);
      assert.equal(
        line[1],
        literal,
        `values.py's ${name} is ${line[1]}, the client's ${literal}: write the client's value in values.py`,
      );
    }
    assert.match(valuesPy, /^SPEC_BASE64 = ""/m);
  });

  test('the client fills in every line of its block in values.py, from SPEC_BASE64 to VENV_FALLBACK_ROOT', () => {
    // values.py's own lines equal the client's, so a value left out would go unnoticed in the program sent.
    const block = /^SPEC_BASE64 = .*\n((?:.*\n)*?)VENV_FALLBACK_ROOT = /m.exec(valuesPy);
    assert.ok(block, 'values.py has the block of client values');
    const names = [...block[1].matchAll(/^([A-Z0-9_]+) = /gm)].map((match) => match[1]);
    assert.deepEqual(Object.keys(WRAPPER_CLIENT_VALUES), [...names, 'VENV_FALLBACK_ROOT']);
  });

  test('the run spec and the values replace their lines; a missing line is refused', () => {
    const program = wrapperProgram('eyJhIjoxfQ==');
    assert.match(program, /^SPEC_BASE64 = "eyJhIjoxfQ=="$/m);
    assert.equal(program.match(/^SPEC_BASE64 = /gm)?.length, 1);
    assert.throws(() => wrapperProgram('not base64!'), /the wrapper spec must be base64/);
    assert.throws(() => withValues('A = 1\n', { B: '2' }), /the wrapper has no line "B = \.\.\."/);
    assert.equal(withValues('A = 1\nB = 2\n', { B: '"$&"' }), 'A = 1\nB = "$&"\n', 'a literal is written as it is');
  });

  test('a value is written only as a Python literal that means the same: printable ASCII, no quote or end escape', () => {
    assert.equal(pyLiteral('a "b" \\c'), '"a \\"b\\" \\\\c"');
    assert.equal(pyLiteral('.cache/x', 'b'), 'b".cache/x"');
    assert.equal(pyLiteral('^m?i-[0-9a-f]$', 'r'), 'r"^m?i-[0-9a-f]$"');
    assert.equal(pyLiteral(''), '""');
    for (const [value, prefix] of [
      ['é', ''],
      ['a\nb', ''],
      ['\x7f', ''],
      ['a"b', 'b'],
      ['a\\', 'r'],
    ] as const)
      assert.throws(
        () => pyLiteral(value, prefix),
        /cannot write .* as a Python [br]?"" literal/,
        JSON.stringify(value),
      );
  });
});
