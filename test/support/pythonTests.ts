// Runs the wrapper's Python unit tests (test/python) with python3's unittest and asserts they all passed.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import assert from 'node:assert/strict';

const PYTHON_TESTS = join(__dirname, '..', '..', '..', 'test', 'python');

/** Runs the test/python files matching `pattern`; fails unless at least `atLeast` tests ran and all passed. */
export function assertPythonTestsPass(pattern: string, atLeast: number): void {
  const run = spawnSync('python3', ['-m', 'unittest', 'discover', '-s', PYTHON_TESTS, '-p', pattern], {
    encoding: 'utf8',
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
  const ran = /^Ran (\d+) tests?/m.exec(run.stderr);
  assert.ok(ran && Number(ran[1]) >= atLeast, run.stderr);
  assert.match(run.stderr, /^OK$/m);
}

/**
 * Parses each program with Python 3.6's grammar in one python3 run (each start costs hundreds of ms where python3
 * is a version manager's shim); returns python's complaint per program, or '' for one that parses.
 */
export function py36SyntaxErrors(programs: string[]): string[] {
  const check = [
    'import ast, json, sys',
    'def complaint(text):',
    '    try:',
    '        ast.parse(text, feature_version=(3, 6))',
    '        return ""',
    '    except SyntaxError as e:',
    '        return "%s (line %s)" % (e.msg, e.lineno)',
    'print(json.dumps([complaint(text) for text in json.load(sys.stdin)]))',
  ].join('\n');
  const run = spawnSync('python3', ['-c', check], { input: JSON.stringify(programs), encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as string[];
}
