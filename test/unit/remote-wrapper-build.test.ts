// How the build (scripts/embedWrapper.mjs) makes the instance-side wrapper out of its Python modules
// (src/core/remote/wrapper/): each module parses as Python 3.6, the build joins them into one program in a defined
// order and embeds it without comments or docstrings, and the modules' own unit tests (test/python/test_*.py) pass
// under python3. Apart from remote-wrapper-python, which the mutation run (stryker.config.json) reruns for every
// surviving mutant of the command text: these tests read the Python and the build script only, so they cannot kill
// a TypeScript mutant, and they took 12.6 of that file's 13.6 s.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WRAPPER_SOURCE } from '../../src/core/remote/wrapperSource.generated';
import { assertPythonTestsPass, py36SyntaxErrors } from '../support/pythonTests';

const ROOT = join(__dirname, '..', '..', '..');
const WRAPPER_DIR = join(ROOT, 'src', 'core', 'remote', 'wrapper');

/** Runs `body` in an ES module that imports the build's embedWrapper.mjs as `embed`; returns its stdout. */
function withEmbedScript(body: string, input = ''): string {
  const url = pathToFileURL(join(ROOT, 'scripts', 'embedWrapper.mjs')).href;
  const program = `import * as embed from ${JSON.stringify(url)}; import { readFileSync } from 'node:fs';\n${body}`;
  return execFileSync(process.execPath, ['--input-type=module', '-e', program], { input, encoding: 'utf8' });
}

/** The build's comment stripper applied to `python`. */
function withoutComments(python: string): string {
  return withEmbedScript("process.stdout.write(embed.withoutComments(readFileSync(0, 'utf8')));", python);
}

/** The build's docstring stripper applied to `python` (throws what the build would throw). */
function withoutDocstrings(python: string): string {
  return withEmbedScript("process.stdout.write(embed.withoutDocstrings(readFileSync(0, 'utf8')));", python);
}

/** The build's module order, and the modules joined in `order` (the build's when not given), comments kept. */
const MODULE_ORDER: string[] = JSON.parse(
  withEmbedScript('process.stdout.write(JSON.stringify(embed.WRAPPER_MODULES));'),
);
function assembled(order = MODULE_ORDER): string {
  return withEmbedScript(`process.stdout.write(embed.assembledWrapper(${JSON.stringify(order)}));`);
}

const source = assembled();

/** Python's complaint when `program` fails to run as a module (not as __main__), or ''. */
function runsAsModule(program: string): string {
  const run = spawnSync(
    'python3',
    ['-c', 'import sys\nexec(compile(sys.stdin.read(), "wrapper", "exec"), {"__name__": "w"})'],
    {
      input: program,
      encoding: 'utf8',
    },
  );
  return run.status === 0 ? '' : run.stderr.trim().split('\n').pop()!;
}

/** The sibling modules a module imports (`from .name import ...`). */
function siblingImports(module: string): string[] {
  const text = readFileSync(join(WRAPPER_DIR, `${module}.py`), 'utf8');
  return [...text.matchAll(/^from \.(\w+) import /gm)].map((match) => match[1]);
}

/**
 * Python's own dump of the program's syntax tree (comments and blank lines do not appear in it), without the
 * docstrings of functions and classes (the build drops them).
 */
function pythonAst(program: string): string {
  const dump = [
    'import ast, sys',
    'tree = ast.parse(sys.stdin.read())',
    'for node in ast.walk(tree):',
    '    if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and ast.get_docstring(node) is not None:',
    '        node.body = node.body[1:]',
    'print(ast.dump(tree))',
  ].join('\n');
  return execFileSync('python3', ['-c', dump], { input: program, encoding: 'utf8' });
}

describe('the wrapper as the build makes it', () => {
  test('each module and the joined program parse as Python 3.6', () => {
    const modules = MODULE_ORDER.map((module) => readFileSync(join(WRAPPER_DIR, `${module}.py`), 'utf8'));
    const complaints = py36SyntaxErrors([...modules, source, 'def f():\n    return (x := 1)\n']);
    assert.match(complaints.pop()!, /line 2/, 'a 3.8 walrus is refused (the check can fail)');
    assert.deepEqual(
      complaints,
      [...MODULE_ORDER, 'joined'].map(() => ''),
      [...MODULE_ORDER, 'joined'].join(', '),
    );
  });

  test('the build joins every module once, each after the modules it imports from', () => {
    const files = readdirSync(WRAPPER_DIR)
      .filter((name) => name.endsWith('.py') && name !== '__init__.py')
      .map((name) => name.slice(0, -3));
    assert.deepEqual(
      [...MODULE_ORDER].sort(),
      files.sort(),
      'WRAPPER_MODULES (scripts/embedWrapper.mjs) lists each once',
    );
    MODULE_ORDER.forEach((module, at) => {
      for (const imported of siblingImports(module)) {
        const from = MODULE_ORDER.indexOf(imported);
        assert.ok(from >= 0 && from < at, `${module} imports from ${imported}, which the program puts after it`);
      }
    });
    assert.doesNotMatch(source, /^\s*from \.|^\s*import wrapper/m, 'the program imports no sibling module');
    assert.equal(runsAsModule(source), '', 'the joined program defines its names in order');
    assert.equal(runsAsModule(`${source}\nmain, renew, supervise, prepare, Channel, Spool, ship_artifacts\n`), '');
  });

  test('a wrong order or a missing module is a program that does not run', () => {
    const swapped = [MODULE_ORDER[1], MODULE_ORDER[0], ...MODULE_ORDER.slice(2)];
    assert.match(runsAsModule(assembled(swapped)), /NameError/);
    assert.match(runsAsModule(assembled(MODULE_ORDER.slice(1))), /NameError/, 'without values.py');
    const withoutSpool = MODULE_ORDER.filter((module) => module !== 'spool');
    assert.match(runsAsModule(`${assembled(withoutSpool)}\nSpool\n`), /NameError: name 'Spool'/);
  });

  test('the build embeds the joined modules without their comments: the same program to Python, line for line', () => {
    assert.equal(pythonAst(WRAPPER_SOURCE), pythonAst(source));
    assert.equal(WRAPPER_SOURCE.split('\n').length, source.split('\n').length);
    assert.ok(!/^\s*#/m.test(WRAPPER_SOURCE));
    assert.ok(WRAPPER_SOURCE.length < source.length - 2_000, 'the comments are gone');
    const tricky = 'x = "a  # b"  # c\ny = 1  # d\n';
    assert.equal(pythonAst(withoutComments(tricky)), pythonAst(tricky), 'a # inside a string stays');
    assert.equal(withoutComments(tricky), 'x = "a  # b"  # c\ny = 1\n');
  });

  test('the build drops docstrings, not strings that are code', () => {
    assert.ok(!WRAPPER_SOURCE.includes('"""'), 'no docstring is sent');
    const program =
      'def f(a):\n    """Doc\n    more."""\n    return """kept"""\n\n\nclass C(object):\n    """One."""\n    x = 1\n';
    const stripped = withoutDocstrings(program);
    assert.equal(stripped, 'def f(a):\n\n\n    return """kept"""\n\n\nclass C(object):\n\n    x = 1\n');
    assert.equal(pythonAst(stripped), pythonAst(program));
    assert.throws(() => withoutDocstrings('def f():\n    """Only a docstring."""\n\ng = 1\n'), /only a docstring/);
  });

  test("the modules' own unit tests pass under python3 (test/python/test_*.py)", () => {
    assertPythonTestsPass('test_*.py', 15);
  });
});
