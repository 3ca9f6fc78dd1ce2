// The project archive: deterministic bytes, .gitignore rules, limits, tar round trips (also through
// Python's tarfile, which the instance uses), and safe artifact extraction.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzip, readTar, writeTar } from '../../src/core/archive';
import { writeArtifacts } from '../../src/core/artifacts';
import { listProjectFiles, normalizeEntry, packProject } from '../../src/core/project';
import { selectionFileName } from '../../src/core/languages';
import { resolveSource } from '../../src/core/sources';
import { buildRemoteCommands, COMMAND_TEXT_BUDGET_BYTES } from '../../src/core/remote';
import { tempDir, writeTree } from '../support/projectFixtures';

const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
const paths = async (root: string) => (await listProjectFiles(root)).map((f) => f.path);

describe('tar writer and reader', () => {
  const long = `${'deep/'.repeat(30)}file.txt`;
  const entries = [
    { path: 'b.py', content: Buffer.from('print(1)\n') },
    { path: 'a/ünïcode name.txt', content: Buffer.from('é') },
    { path: long, content: Buffer.alloc(1500, 7) },
    { path: 'run.sh', content: Buffer.from('#!/bin/sh\n'), mode: 0o755 },
  ];

  test('round trip keeps sorted paths, contents and the executable bit; long and non-ASCII names survive', () => {
    const back = readTar(writeTar(entries));
    assert.deepEqual(
      back.map((e) => e.path),
      ['a/ünïcode name.txt', 'b.py', long, 'run.sh'],
    );
    assert.deepEqual(
      back.map((e) => e.mode),
      [0o644, 0o644, 0o644, 0o755],
    );
    assert.ok(Buffer.from(back[2].content).equals(Buffer.alloc(1500, 7)));
  });

  test("Python's tarfile reads the same names, sizes and modes", () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'x.tar'), writeTar(entries));
    const listing = execFileSync('python3', [
      '-c',
      'import json, sys, tarfile\nprint(json.dumps([[m.name, m.size, m.mode, m.mtime, m.uid] for m in ' +
        'tarfile.open(sys.argv[1])]))',
      join(dir, 'x.tar'),
    ]);
    assert.deepEqual(JSON.parse(listing.toString()), [
      ['a/ünïcode name.txt', 2, 0o644, 0, 0],
      ['b.py', 9, 0o644, 0, 0],
      [long, 1500, 0o644, 0, 0],
      ['run.sh', 10, 0o755, 0, 0],
    ]);
  });

  test('reading a corrupted header fails clearly', () => {
    const tar = writeTar(entries);
    tar[10] ^= 0xff;
    assert.throws(() => readTar(tar), /header checksum mismatch/);
  });
});

describe('project packing', () => {
  test('the same tree gives the same bytes whatever the mtimes and creation order; a change gives other bytes', async () => {
    const one = writeTree(tempDir(), { 'main.py': 'import lib\n', 'lib.py': 'X = 1\n', 'data/a.csv': 'a\n' });
    const two = writeTree(tempDir(), { 'data/a.csv': 'a\n', 'lib.py': 'X = 1\n', 'main.py': 'import lib\n' });
    utimesSync(join(two, 'lib.py'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    const first = await packProject(one, 'main.py');
    assert.equal(sha(first.archive), sha((await packProject(one, 'main.py')).archive));
    assert.equal(sha(first.archive), sha((await packProject(two, 'main.py')).archive));
    writeFileSync(join(two, 'lib.py'), 'X = 2\n');
    assert.notEqual(sha(first.archive), sha((await packProject(two, 'main.py')).archive));
    assert.deepEqual(
      readTar(gunzip(first.archive)).map((e) => e.path),
      ['data/a.csv', 'lib.py', 'main.py'],
    );
  });

  test('.gitignore: patterns, negation, directory-only and anchored rules, nested files; always-excluded folders', async () => {
    const root = writeTree(tempDir(), {
      '.gitignore': '*.log\n!keep.log\nbuild/\n/top.txt\n**/cache/**\n',
      'main.py': '',
      'debug.log': '',
      'keep.log': '',
      'build/out.bin': '',
      'top.txt': '',
      'sub/top.txt': '',
      'sub/cache/x': '',
      'sub/.gitignore': 'local.txt\n!debug2.log\n',
      'sub/local.txt': '',
      'sub/debug2.log': '',
      'sub/other.log': '',
      '.git/HEAD': '',
      'node_modules/m/index.js': '',
      'pkg/__pycache__/m.pyc': '',
      '.venv/bin/python': '',
      '.env.example': '',
    });
    assert.deepEqual(await paths(root), [
      '.env.example',
      '.gitignore',
      'keep.log',
      'main.py',
      'sub/.gitignore',
      'sub/debug2.log',
      'sub/top.txt',
    ]);
  });

  test('executable files keep their bit', async () => {
    const root = writeTree(tempDir(), { 'run.sh': 'echo\n', 'main.py': '' });
    chmodSync(join(root, 'run.sh'), 0o755);
    const tar = readTar(gunzip((await packProject(root, 'run.sh')).archive));
    assert.deepEqual(
      tar.map((e) => [e.path, e.mode]),
      [
        ['main.py', 0o644],
        ['run.sh', 0o755],
      ],
    );
  });

  test('the entry must be inside the project and staged', async () => {
    const root = writeTree(tempDir(), { '.gitignore': 'skip.py\n', 'main.py': '', 'skip.py': '' });
    assert.equal(normalizeEntry('./sub/../main.py'), 'main.py');
    assert.throws(() => normalizeEntry('../main.py'), /not a relative path inside the project/);
    assert.throws(() => normalizeEntry('/etc/passwd'), /not a relative path inside the project/);
    await assert.rejects(packProject(root, 'skip.py'), /is not in the project .* \(or \.gitignore excludes it\)/);
    await assert.rejects(packProject(join(root, 'missing'), 'main.py'), /does not exist or is not a folder/);
  });
});

describe('selections', () => {
  test('a selection is staged as a file of its language', () => {
    assert.equal(selectionFileName('python'), 'selection.py');
    assert.equal(selectionFileName('shellscript'), 'selection.sh');
    assert.throws(() => selectionFileName('cobol'), /Cannot run a selection of language "cobol"/);
    const source = resolveSource({ kind: 'selection', text: 'print(1)', language: 'py', args: ['a'] });
    assert.deepEqual(source, {
      kind: 'file',
      fileName: 'selection.py',
      content: new TextEncoder().encode('print(1)'),
      interpreter: undefined,
      args: ['a'],
    });
  });
});

describe('artifacts on the client', () => {
  test('files are written under the folder; a path leaving it is refused before anything is written', async () => {
    const dir = join(tempDir(), 'out'); // a fresh folder: artifacts never go into an existing one
    assert.deepEqual(await writeArtifacts(writeTar([{ path: 'a/b.csv', content: Buffer.from('x') }]), dir), [
      join(dir, 'a', 'b.csv'),
    ]);
    const evil = writeTar([
      { path: 'ok.txt', content: Buffer.from('x') },
      { path: '../evil.txt', content: Buffer.from('x') },
    ]);
    await assert.rejects(writeArtifacts(evil, join(dir, 'second')), /Refusing to save artifact "\.\.\/evil\.txt"/);
    assert.equal(existsSync(join(dir, 'evil.txt')), false);
    assert.equal(existsSync(join(dir, 'second', 'ok.txt')), false);
  });
});

describe('command text for a project', () => {
  const base = {
    runId: 'abc',
    payload: {
      fileName: 'project.tar.gz',
      sha256: 'a'.repeat(64),
      interpreter: 'python3',
      args: [],
      fetch: { kind: 'presigned' as const, url: `https://example.invalid/x?${'s'.repeat(1500)}` },
    },
  };

  test('an entry outside the project or a relative venv root is refused', () => {
    assert.throws(
      () => buildRemoteCommands({ ...base, payload: { ...base.payload, archive: { entry: '../x.py' } } }),
      /the entry file "\.\.\/x\.py" is not a relative path inside the project/,
    );
    assert.throws(
      () => buildRemoteCommands({ ...base, payload: { ...base.payload, archive: { entry: 'x.py', venvRoot: 'rel' } } }),
      /is not an absolute path/,
    );
  });

  test('a project with dependencies stays within the command budget', () => {
    const commands = buildRemoteCommands({
      ...base,
      payload: {
        ...base.payload,
        archive: { entry: 'src/main.py', requirementsFile: 'requirements.txt', venvRoot: '/opt/venvs' },
      },
    });
    assert.ok(Buffer.byteLength(commands.join('\n')) < COMMAND_TEXT_BUDGET_BYTES * 0.75);
  });
});
