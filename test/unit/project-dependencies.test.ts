// Which dependencies a project run installs: requirements.txt, else pyproject.toml's
// [project] dependencies (parsed on the client), and how malformed files are reported.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RunnerError } from '../../src/core/api';
import { pyprojectDependencies } from '../../src/core/dependencies';
import { stagedContentOf } from '../../src/core/sources';
import { buildRemoteCommands, COMMAND_TEXT_BUDGET_BYTES } from '../../src/core/remote';
import { tempDir, writeTree } from '../support/projectFixtures';
import { cliMessage } from '../../src/cli/advice';

const PYPROJECT = `# a typical PEP 621 file
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "demo"
version = "0.1.0"
dependencies = [
  "requests>=2.31",   # comment inside the array
  'numpy ; python_version >= "3.9"',
  "tinypkg @ file:///opt/wheels/tinypkg-1.0-py3-none-any.whl",
]

[project.optional-dependencies]
dev = ["pytest"]

[tool.other]
dependencies = ["not-these"]
`;

/** Asserts `fn` throws one InvalidPyproject RunnerError on one line matching `message`. */
function assertInvalid(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof RunnerError, String(error));
    assert.equal(error.code, 'InvalidPyproject');
    assert.doesNotMatch(error.message, /\n/, 'one line');
    assert.match(error.message, message);
    assert.match(error.message, /, or run without installing dependencies\.$/);
    assert.match(cliMessage(error), /, or run without installing dependencies \(--no-deps\)\.$/);
    return true;
  });
}

describe('pyproject.toml dependencies', () => {
  test('[project] dependencies are read as written (comments, quotes, markers, direct references); other tables are not', () => {
    assert.deepEqual(pyprojectDependencies(PYPROJECT, '/p/pyproject.toml'), [
      'requests>=2.31',
      'numpy ; python_version >= "3.9"',
      'tinypkg @ file:///opt/wheels/tinypkg-1.0-py3-none-any.whl',
    ]);
  });

  test('no [project] table, no dependencies key, or an empty list: nothing to install', () => {
    assert.deepEqual(pyprojectDependencies('[tool.black]\nline-length = 100\n', 'p'), []);
    assert.deepEqual(pyprojectDependencies('[project]\nname = "x"\ndynamic = ["dependencies"]\n', 'p'), []);
    assert.deepEqual(pyprojectDependencies('[project]\ndependencies = []\n', 'p'), []);
    assert.deepEqual(pyprojectDependencies('', 'p'), []);
  });

  test('malformed TOML: one message naming the file, the line and column, and the parser reason', () => {
    assertInvalid(
      () =>
        pyprojectDependencies('[project]\nname = "x"\ndependencies = ["requests",\n', '/home/me/proj/pyproject.toml'),
      /^\/home\/me\/proj\/pyproject\.toml: not valid TOML \(line \d+, column \d+: [^)]+\): fix the file, or run without installing dependencies/,
    );
    assertInvalid(
      () => pyprojectDependencies('[project]\nname = "x"\nname = "y"\n', 'pyproject.toml'),
      /^pyproject\.toml: not valid TOML \(line 3, column \d+: .+\)/,
    );
  });

  test('dependencies that are not a list of requirement strings are refused, naming the entry', () => {
    assertInvalid(
      () => pyprojectDependencies('[project]\ndependencies = "requests"\n', 'f.toml'),
      /^f\.toml: \[project\] dependencies is not a list: write it as a list/,
    );
    assertInvalid(
      () => pyprojectDependencies('[project]\ndependencies = ["a", 3]\n', 'f.toml'),
      /\[project\] dependencies\[1\] is not a string/,
    );
    assertInvalid(
      () => pyprojectDependencies('[project]\ndependencies = ["--index-url=http://evil"]\n', 'f.toml'),
      /dependencies\[0\] "--index-url=http:\/\/evil" is not a requirement: give a PEP 508 requirement/,
    );
    assertInvalid(
      () => pyprojectDependencies('[project]\ndependencies = ["  "]\n', 'f.toml'),
      /dependencies\[0\] " {2}" is not a requirement/,
    );
    assertInvalid(() => pyprojectDependencies('project = 1\n', 'f.toml'), /\[project\] is not a table/);
  });
});

describe('what a project run installs', () => {
  const project = (files: Record<string, string>) => ({
    kind: 'project' as const,
    root: writeTree(tempDir(), { 'main.py': 'print(1)\n', ...files }),
    entry: 'main.py',
  });

  test('a root requirements.txt wins over pyproject.toml', async () => {
    const staged = await stagedContentOf(
      project({ 'requirements.txt': 'x\n', 'pyproject.toml': '[project]\ndependencies = ["y"]\n' }),
      { venvRoot: '/v' },
    );
    assert.deepEqual(staged.archive, { entry: 'main.py', requirementsFile: 'requirements.txt', venvRoot: '/v' });
  });

  test('without requirements.txt the pyproject dependencies are installed; a nested pyproject.toml is not the project root', async () => {
    const staged = await stagedContentOf(
      project({ 'pyproject.toml': '[project]\ndependencies = ["tinypkg>=1"]\n' }),
      {},
    );
    assert.deepEqual(staged.archive, { entry: 'main.py', pyprojectDependencies: ['tinypkg>=1'], venvRoot: undefined });
    const nested = await stagedContentOf(
      project({ 'sub/pyproject.toml': '[project]\ndependencies = ["tinypkg"]\n' }),
      {},
    );
    assert.deepEqual(nested.archive, { entry: 'main.py' });
  });

  test('no dependencies listed: no environment; installDependencies: false does not even read the file', async () => {
    assert.deepEqual((await stagedContentOf(project({ 'pyproject.toml': '[project]\nname = "x"\n' }), {})).archive, {
      entry: 'main.py',
    });
    const broken = project({ 'pyproject.toml': 'this is [not toml' });
    assert.deepEqual((await stagedContentOf(broken, { installDependencies: false })).archive, { entry: 'main.py' });
    await assert.rejects(stagedContentOf(broken, {}), (error: unknown) => {
      assert.ok(error instanceof RunnerError);
      assert.equal(error.code, 'InvalidPyproject');
      assert.ok(error.message.startsWith(`${broken.root}/pyproject.toml: not valid TOML`), error.message);
      return true;
    });
  });
});

describe('command text with pyproject dependencies', () => {
  const payload = {
    fileName: 'project.tar.gz',
    sha256: 'a'.repeat(64),
    interpreter: 'python3',
    args: [],
    fetch: { kind: 'presigned' as const, url: 'https://example.invalid/x' },
  };
  const withArchive = (archive: object) =>
    buildRemoteCommands({ runId: 'abc', payload: { ...payload, archive: { entry: 'main.py', ...archive } } });

  test('forty dependencies stay within the command budget', () => {
    const dependencies = Array.from({ length: 40 }, (_, i) => `package-number-${i}>=1.0,<2 ; python_version >= "3.8"`);
    assert.ok(
      Buffer.byteLength(withArchive({ pyprojectDependencies: dependencies }).join('\n')) < COMMAND_TEXT_BUDGET_BYTES,
    );
  });

  test('an option in place of a requirement, or both kinds of dependency list, are refused', () => {
    assert.throws(
      () => withArchive({ pyprojectDependencies: ['-r/etc/passwd'] }),
      /dependency 1 "-r\/etc\/passwd" is not a requirement/,
    );
    assert.throws(() => withArchive({ pyprojectDependencies: ['a\nb'] }), /dependency 1 "a\\nb" is not a requirement/);
    assert.throws(
      () => withArchive({ requirementsFile: 'requirements.txt', pyprojectDependencies: ['a'] }),
      /not both/,
    );
  });
});
