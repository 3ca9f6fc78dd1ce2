// Projects, selections, dependencies and artifacts through the engine against the sandbox (real SDK).
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_LIMITS, RunnerError, type Engine, type RunRequest } from '../../src/core';
import { nothingLeftRunning } from '../support/runChecks';
import { engineOnSandbox } from '../support/engineOnSandbox';
import type { SandboxFixture } from '../support/sandbox';
import { buildWheel, tempDir, writeTree } from '../support/projectFixtures';

const sandboxReady = engineOnSandbox({ instances: 1 });

describe('projects, selections, dependencies and artifacts on the sandbox', () => {
  let fx: SandboxFixture;
  let engine: Engine;
  let instanceId: string;
  let venvRoot: string;

  before(async () => {
    ({ fx, engine } = await sandboxReady);
    instanceId = fx.info.instances[0].instanceId;
    venvRoot = join(tempDir('ec2r-venvs-'), 'venvs');
  });

  async function run(source: RunRequest['source'], extra: Partial<RunRequest> = {}) {
    const handle = await engine.start({
      source,
      target: { kind: 'instances', instanceIds: [instanceId] },
      venvRoot,
      ...extra,
    });
    const result = await handle.wait();
    await nothingLeftRunning(handle.commandId);
    return { handle, invocation: result.invocations[0] };
  }

  /** Starts a run of the project that must be refused before anything is sent; returns the RunnerError. */
  async function refusedBeforeSending(root: string, code: string): Promise<RunnerError> {
    fx.sandbox.resetStats();
    const error = await engine
      .start({
        source: { kind: 'project', root, entry: 'main.py' },
        target: { kind: 'instances', instanceIds: [instanceId] },
      })
      .then(
        () => assert.fail('the run was started'),
        (rejected: unknown) => rejected,
      );
    assert.ok(error instanceof RunnerError, String(error));
    assert.equal(error.code, code, error.message);
    assert.equal(fx.sandbox.stats()['ssm:SendCommand'] ?? 0, 0);
    return error;
  }

  test('a two-file project with a relative import, a subpackage and a data file runs from its own folder', async () => {
    const root = writeTree(tempDir(), {
      'main.py':
        'import os\nfrom helper import greet\nfrom pkg.util import ' +
        'shout\nprint(shout(greet(open("data/name.txt").read().strip())))\nprint("cwd-is-project", ' +
        'os.path.isfile("helper.py"))\nprint("secret-staged", os.path.exists("secret.txt"), ' +
        'os.path.exists("node_modules"))\n',
      'helper.py': 'def greet(name):\n    return "hello " + name\n',
      'pkg/__init__.py': '',
      'pkg/util.py': 'def shout(text):\n    return text.upper()\n',
      'data/name.txt': 'world\n',
      '.gitignore': 'secret.txt\n',
      'secret.txt': 'do not stage\n',
      'node_modules/left/index.js': 'x',
    });
    const { invocation } = await run({ kind: 'project', root, entry: 'main.py' });
    assert.equal(invocation.status, 'Success', invocation.stderr);
    assert.equal(invocation.stdout, 'HELLO WORLD\ncwd-is-project True\nsecret-staged False False\n');
  });

  test('an unchanged project is not uploaded again; a changed one is', async () => {
    const root = writeTree(tempDir(), { 'main.py': `print(${Date.now()})\n`, 'lib.py': 'X = 1\n' });
    await run({ kind: 'project', root, entry: 'main.py' });
    fx.sandbox.resetStats();
    const again = await run({ kind: 'project', root, entry: 'main.py' });
    assert.equal(again.invocation.status, 'Success');
    assert.equal(fx.sandbox.stats()['s3:PutObject'] ?? 0, 0);
    writeFileSync(join(root, 'lib.py'), 'X = 2\n');
    fx.sandbox.resetStats();
    await run({ kind: 'project', root, entry: 'main.py' });
    assert.equal(fx.sandbox.stats()['s3:PutObject'], 1);
  });

  test('a selection runs as a script of its language', async () => {
    const { invocation } = await run({
      kind: 'selection',
      text: 'import sys\nprint("selected", sys.argv[0].endswith("selection.py"))\n',
      language: 'python',
    });
    assert.equal(invocation.status, 'Success', invocation.stderr);
    assert.equal(invocation.stdout, 'selected True\n');
  });

  test('a PNG and a CSV written to $EC2_RUNNER_ARTIFACTS come back byte-identical', async () => {
    const png = Buffer.concat([
      Buffer.from('89504e470d0a1a0a', 'hex'),
      randomBytes(70_000),
      Buffer.from([0, 255, 13, 10]),
    ]);
    const csv = 'name,value\nα,1\r\nβ,"2,5"\n';
    const root = writeTree(tempDir(), {
      'plot.png': png,
      'make.py':
        'import os, shutil\nout = os.environ["EC2_RUNNER_ARTIFACTS"]\nos.makedirs(os.path.join(out, ' +
        '"tables"))\nshutil.copy("plot.png", os.path.join(out, "plot.png"))\nopen(os.path.join(out, "tables", ' +
        '"data.csv"), "wb").write(open("table.csv", "rb").read())\n',
      'table.csv': csv,
    });
    const { handle, invocation } = await run({ kind: 'project', root, entry: 'make.py' });
    assert.equal(invocation.status, 'Success', invocation.stderr);
    assert.deepEqual(invocation.artifacts, [
      { path: 'plot.png', size: png.byteLength },
      { path: 'tables/data.csv', size: Buffer.byteLength(csv) },
    ]);
    const local = tempDir('ec2r-artifacts-');
    const written = await handle.downloadArtifacts!(local);
    const folder = join(local, handle.commandId, invocation.instanceId);
    assert.deepEqual(written.sort(), [join(folder, 'plot.png'), join(folder, 'tables', 'data.csv')]);
    assert.ok(readFileSync(join(folder, 'plot.png')).equals(png));
    assert.equal(readFileSync(join(folder, 'tables', 'data.csv'), 'utf8'), csv);
    await assert.rejects(handle.downloadArtifacts!(local), { code: 'ArtifactsFolderExists' });
  });

  test('a run without artifacts reports an empty list', async () => {
    const { invocation } = await run({ kind: 'command', command: 'echo none' });
    assert.deepEqual(invocation.artifacts, []);
  });

  test('requirements.txt installs offline into a venv, and the second run reuses it', async () => {
    const root = tempDir();
    buildWheel(join(root, 'wheels'), 'tinypkg', '1.0', 'VALUE = "tiny ok"\n');
    writeTree(root, {
      'requirements.txt': '--no-index\n--find-links ./wheels\ntinypkg\n',
      'main.py': 'import sys, tinypkg\nprint(tinypkg.VALUE, sys.prefix != sys.base_prefix)\n',
    });
    const first = await run({ kind: 'project', root, entry: 'main.py' }, { timeoutSeconds: 300 });
    assert.equal(first.invocation.status, 'Success', first.invocation.stderr);
    assert.equal(first.invocation.stdout, 'tiny ok True\n');
    assert.match(first.invocation.stderr, /creating the environment .* and installing requirements\.txt/);
    assert.match(first.invocation.stderr, /Successfully installed tinypkg-1\.0/);
    const second = await run({ kind: 'project', root, entry: 'main.py' });
    assert.equal(second.invocation.stdout, 'tiny ok True\n');
    assert.match(second.invocation.stderr, /reusing the environment .* \(requirements unchanged\)/);
    assert.doesNotMatch(second.invocation.stderr, /Successfully installed|creating the environment/);
  });

  test('pyproject.toml [project] dependencies install offline into a venv when there is no requirements.txt; the second run reuses it', async () => {
    const root = tempDir();
    const wheels = join(root, 'wheels');
    buildWheel(wheels, 'pyprojpkg', '2.0', 'VALUE = "from pyproject"\n');
    writeTree(root, {
      'pyproject.toml':
        '[project]\nname = "demo"\nversion = "0.1"\ndependencies = [\n  "pyprojpkg>=2.0",  # offline: pip ' +
        'finds it in wheels/\n]\n',
      'main.py': 'import sys, pyprojpkg\nprint(pyprojpkg.VALUE, sys.prefix != sys.base_prefix)\n',
    });
    // pip reads its options from the environment too: no index, only the local wheel.
    const env = { PIP_NO_INDEX: '1', PIP_FIND_LINKS: wheels };
    const first = await run({ kind: 'project', root, entry: 'main.py' }, { timeoutSeconds: 300, env });
    assert.equal(first.invocation.status, 'Success', first.invocation.stderr);
    assert.equal(first.invocation.stdout, 'from pyproject True\n');
    assert.match(
      first.invocation.stderr,
      /creating the environment .* and installing the pyproject\.toml dependencies/,
    );
    assert.match(first.invocation.stderr, /Successfully installed pyprojpkg-2\.0/);
    const second = await run({ kind: 'project', root, entry: 'main.py' }, { env });
    assert.equal(second.invocation.stdout, 'from pyproject True\n');
    assert.match(second.invocation.stderr, /reusing the environment .* \(requirements unchanged\)/);
    assert.doesNotMatch(second.invocation.stderr, /Successfully installed|creating the environment/);

    const skipped = await run({ kind: 'project', root, entry: 'main.py' }, { env, installDependencies: false });
    assert.equal(skipped.invocation.status, 'Failed', 'without the environment the import fails');
    assert.match(skipped.invocation.stderr, /ModuleNotFoundError: No module named 'pyprojpkg'/);
  });

  test('a malformed pyproject.toml stops the run before anything is sent, naming the file and the TOML error', async () => {
    const root = writeTree(tempDir(), {
      'pyproject.toml': '[project]\ndependencies = ["a",\n',
      'main.py': 'print(1)\n',
    });
    const error = await refusedBeforeSending(root, 'InvalidPyproject');
    assert.equal(error.message.split('\n').length, 1);
    assert.ok(
      error.message.startsWith(`${join(root, 'pyproject.toml')}: not valid TOML (line 3, column 1: `),
      error.message,
    );
    assert.equal(fx.sandbox.stats()['s3:PutObject'] ?? 0, 0, 'nothing staged');
  });

  test('installDependencies: false runs without installing', async () => {
    const root = writeTree(tempDir(), {
      'requirements.txt': 'no-such-package-anywhere\n',
      'main.py': 'import sys\nprint(sys.prefix == sys.base_prefix)\n',
    });
    const { invocation } = await run({ kind: 'project', root, entry: 'main.py' }, { installDependencies: false });
    assert.equal(invocation.status, 'Success', invocation.stderr);
    assert.equal(invocation.stdout, 'True\n');
  });

  const uninstallable: Array<[string, Record<string, string>]> = [
    ['requirements.txt', { 'requirements.txt': '--no-index\nno-such-package-anywhere\n' }],
    ['pyproject.toml', { 'pyproject.toml': '[project]\ndependencies = ["no-such-package-anywhere"]\n' }],
  ];
  for (const [listedIn, files] of uninstallable) {
    test(`a failing install (${listedIn}) stops the run with one clear reason and runs nothing`, async () => {
      const root = writeTree(tempDir(), { ...files, 'main.py': 'print("MAIN RAN")\n' });
      const { invocation } = await run(
        { kind: 'project', root, entry: 'main.py' },
        { timeoutSeconds: 300, env: { PIP_NO_INDEX: '1' } },
      );
      assert.equal(invocation.status, 'Failed');
      assert.equal(invocation.exitCode, 125);
      assert.match(invocation.reason ?? '', /^dependency install failed \(exit 1\): see output above$/);
      assert.doesNotMatch(invocation.stdout, /MAIN RAN/);
      assert.match(invocation.stderr, /no-such-package-anywhere/);
    });
  }

  test('an over-size project stops before anything is sent, naming the limit and the biggest file', async () => {
    const root = writeTree(tempDir(), { 'main.py': 'print(1)\n', 'data/big.bin': '' });
    truncateSync(join(root, 'data/big.bin'), PROJECT_LIMITS.maxBytes + 1); // sparse: no disk used
    const error = await refusedBeforeSending(root, 'ProjectTooLarge');
    assert.match(error.message, /over the 50\.0 MB limit\. Biggest: data\/big\.bin \(50\.0 MB\)/);
  });
});
