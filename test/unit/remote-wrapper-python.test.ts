// The instance-side wrapper as a Python file (src/core/remote/wrapper.py): it parses as Python 3.6 (the
// oldest an instance may have), its own unit tests pass under python3, the values it takes from the
// client are the client's, and the build embeds it as it is.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WRAPPER_CLIENT_VALUES, withValues, wrapperProgram } from '../../src/core/remote/wrapperProgram';
import { WRAPPER_SOURCE } from '../../src/core/remote/wrapperSource.generated';

/** The build's comment stripper (scripts/embedWrapper.mjs, an ES module) applied to `python`. */
function withoutComments(python: string): string {
  const url = pathToFileURL(join(ROOT, 'scripts', 'embedWrapper.mjs')).href;
  const program =
    `import { withoutComments } from ${JSON.stringify(url)}; import { readFileSync } from 'node:fs';\n` +
    "process.stdout.write(withoutComments(readFileSync(0, 'utf8')));";
  return execFileSync(process.execPath, ['--input-type=module', '-e', program], { input: python, encoding: 'utf8' });
}

const ROOT = join(__dirname, '..', '..', '..');
const WRAPPER_PY = join(ROOT, 'src', 'core', 'remote', 'wrapper.py');
const source = readFileSync(WRAPPER_PY, 'utf8');

/** Parses `program` with Python 3.6's grammar; returns python's complaint, or '' when it parses. */
function py36SyntaxError(program: string): string {
  const check =
    'import ast, sys\ntry:\n    ast.parse(sys.stdin.read(), feature_version=(3, 6))\nexcept SyntaxError as ' +
    'e:\n    print("%s (line %s)" % (e.msg, e.lineno))';
  return execFileSync('python3', ['-c', check], { input: program, encoding: 'utf8' }).trim();
}

/** Python's own dump of the program's syntax tree (comments and blank lines do not appear in it). */
function pythonAst(program: string): string {
  return execFileSync('python3', ['-c', 'import ast, sys\nprint(ast.dump(ast.parse(sys.stdin.read())))'], {
    input: program,
    encoding: 'utf8',
  });
}

describe('the wrapper as a Python file', () => {
  test('wrapper.py and the program as sent parse as Python 3.6', () => {
    assert.equal(py36SyntaxError(source), '');
    const sent = wrapperProgram(Buffer.from(JSON.stringify({ runId: 'r', mode: 'shell' })).toString('base64'));
    assert.equal(py36SyntaxError(sent), '');
    assert.match(
      py36SyntaxError('def f():\n    return (x := 1)\n'),
      /line 2/,
      'a 3.8 walrus is refused (the check can fail)',
    );
  });

  test("the wrapper's own unit tests pass under python3 (test/python)", () => {
    const run = spawnSync(
      'python3',
      ['-m', 'unittest', 'discover', '-s', join(ROOT, 'test', 'python'), '-p', 'test_*.py'],
      { encoding: 'utf8', env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } },
    );
    assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
    const ran = /^Ran (\d+) tests?/m.exec(run.stderr);
    assert.ok(ran && Number(ran[1]) >= 15, run.stderr);
    assert.match(run.stderr, /^OK$/m);
  });

  test("the values wrapper.py takes from the client are the client's (its own tests run with them)", () => {
    for (const [name, literal] of Object.entries(WRAPPER_CLIENT_VALUES)) {
      const line = new RegExp(`^${name} = (.*)$`, 'm').exec(source);
      assert.ok(line, `wrapper.py has no line "${name} = ..."`);
      assert.equal(
        line[1],
        literal,
        `wrapper.py's ${name} is ${line[1]}, the client's ${literal}: write the client's value in wrapper.py`,
      );
    }
    assert.match(source, /^SPEC_BASE64 = ""/m);
  });

  test('the run spec and the values replace their lines; a missing line is refused', () => {
    const program = wrapperProgram('eyJhIjoxfQ==');
    assert.match(program, /^SPEC_BASE64 = "eyJhIjoxfQ=="$/m);
    assert.equal(program.match(/^SPEC_BASE64 = /gm)?.length, 1);
    assert.throws(() => wrapperProgram('not base64!'), /the wrapper spec must be base64/);
    assert.throws(() => withValues('A = 1\n', { B: '2' }), /wrapper.py has no line "B = \.\.\."/);
    assert.equal(withValues('A = 1\nB = 2\n', { B: '"$&"' }), 'A = 1\nB = "$&"\n', 'a literal is written as it is');
  });

  test('the build embeds wrapper.py without its comments: the same program to Python, line for line', () => {
    assert.equal(pythonAst(WRAPPER_SOURCE), pythonAst(source));
    assert.equal(WRAPPER_SOURCE.split('\n').length, source.split('\n').length);
    assert.ok(!/^\s*#/m.test(WRAPPER_SOURCE));
    assert.ok(WRAPPER_SOURCE.length < source.length - 2_000, 'the comments are gone');
    const tricky = 'x = "a  # b"  # c\ny = 1  # d\n';
    assert.equal(pythonAst(withoutComments(tricky)), pythonAst(tricky), 'a # inside a string stays');
    assert.equal(withoutComments(tricky), 'x = "a  # b"  # c\ny = 1\n');
  });
});
