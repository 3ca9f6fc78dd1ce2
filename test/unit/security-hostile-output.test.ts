// What comes back from an instance is hostile until checked: live-output keys for instances SSM never
// named, crafted tars, artifact names that reach outside the chosen folder (POSIX and Windows rules),
// control folders, pre-planted links and existing files.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RunnerError } from '../../src/core/api';
import { readTar, TarFormatError, writeTar } from '../../src/core/archive';
import { artifactPathParts, runArtifactsDir, instanceArtifactsDir, safeTarget } from '../../src/core/artifactPaths';
import { listArtifacts, writeArtifacts, writeRunArtifacts } from '../../src/core/artifacts';
import { FollowedRun } from '../../src/core/run';
import { BUCKET, FakeClock, FakeRunBackend, RUN_PREFIX, text, type FakeInstance } from '../support/fakeRunBackend';
import { paxTar, tarHeader } from '../support/tarFixtures';
import { makeTempDir } from '../support/tempDirs';

const ID = 'i-0123456789abcdef0';
const FORGED = 'i-0000000000000dead';
const COMMAND = '11111111-2222-3333-4444-555555555555';

const refused = (code: string) => (error: unknown) => error instanceof RunnerError && error.code === code;

describe('artifact paths: POSIX and Windows rules (path module injected)', () => {
  const cases: Array<{ dir: string; p: typeof path.posix }> = [
    { dir: '/home/me/out', p: path.posix },
    { dir: 'D:\\work\\out', p: path.win32 },
  ];

  test('ordinary names stay inside the folder on both', () => {
    for (const { dir, p } of cases) {
      for (const name of [
        'plot.png',
        'a/b/c.csv',
        'résumé.txt',
        '.gitignore',
        'con-fig.txt',
        'node_modules/x/index.js',
        'git~x',
      ]) {
        const target = safeTarget(dir, name, p);
        assert.ok(target.startsWith(dir + p.sep), `${name} under ${p === path.win32 ? 'win32' : 'posix'}: ${target}`);
      }
    }
  });

  test('traversal, absolute paths and control characters are refused on both', () => {
    for (const { dir, p } of cases) {
      for (const name of [
        '',
        '/etc/passwd',
        '../x',
        'a/../../x',
        'a/./b',
        'a//b',
        'a/',
        '..',
        'x\u0000y',
        'ansi\u001b[31m.txt',
        'bell\u0007',
      ]) {
        assert.throws(() => safeTarget(dir, name, p), refused('UnsafeArtifactPath'), JSON.stringify(name));
      }
    }
  });

  test('control folders are refused at any depth and in any spelling', () => {
    for (const { dir, p } of cases) {
      for (const name of [
        '.git/config',
        'sub/.git/hooks/pre-commit',
        '.GIT/config',
        '.vscode/tasks.json',
        'a/.idea/workspace.xml',
        '.ssh/authorized_keys',
        '.aws/credentials',
        '.envrc',
        'node_modules/.bin/tsc',
        'x/NODE_MODULES/.bin/tsc',
        '.g\u200cit/config',
        'GIT~1/config',
        '.hg/hgrc',
        '.devcontainer/devcontainer.json',
      ]) {
        assert.throws(() => safeTarget(dir, name, p), refused('UnsafeArtifactPath'), name);
      }
    }
    // Windows drops trailing dots and spaces, so `.git.` and `.git ` are `.git` there.
    for (const name of ['.git./config', '.git /config'])
      assert.throws(() => safeTarget('D:\\out', name, path.win32), refused('UnsafeArtifactPath'), name);
  });

  test('Windows: UNC, drives, drive-relative, streams, device names and trailing dots/spaces are refused', () => {
    const refusedOnWindows = [
      '\\\\attacker\\share\\x',
      '//attacker/share/x',
      'C:\\Windows\\x',
      'C:/Windows/x',
      'C:x',
      'a\\..\\..\\x',
      '\\x',
      'file.txt:stream',
      'file.txt::$DATA',
      'CON',
      'con.txt',
      'aux.txt',
      'Aux.tar.gz',
      'COM1',
      'com1.log',
      'LPT1',
      'lpt9.txt',
      'NUL',
      'PRN.',
      'CON .txt',
      'dir/aux/file',
      'COM\u00b9',
      'conin$',
      'name.',
      'name ',
      'dir./x',
      'a<b',
      'a>b',
      'a"b',
      'a|b',
      'a?b',
      'a*b',
    ];
    for (const name of refusedOnWindows) {
      assert.throws(() => safeTarget('D:\\work\\out', name, path.win32), refused('UnsafeArtifactPath'), name);
    }
    // On POSIX these are plain names (a backslash or colon is an ordinary character) and stay inside.
    for (const name of ['C:\\Windows\\x', 'a\\..\\..\\x', 'file.txt:stream', 'aux.txt', 'CON']) {
      assert.ok(safeTarget('/home/me/out', name, path.posix).startsWith('/home/me/out/'), name);
    }
    assert.deepEqual(artifactPathParts('a/b.txt', path.win32), ['a', 'b.txt']);
  });

  test('ids become path parts only when they are real ids', () => {
    for (const p of [path.posix, path.win32]) {
      const run = runArtifactsDir(p === path.win32 ? 'D:\\out' : '/out', COMMAND, p);
      assert.ok(instanceArtifactsDir(run, ID, p).endsWith(`${COMMAND}${p.sep}${ID}`));
      assert.ok(instanceArtifactsDir(run, 'mi-0123456789abcdef0', p));
      for (const bad of ['..', '../x', '..\\..\\x', 'C:', 'i-0123456789abcdef0/..', 'i-XYZ', 'host-laptop', '']) {
        assert.throws(() => instanceArtifactsDir(run, bad, p), refused('UnsafeArtifactPath'), bad);
      }
      for (const bad of ['..', '../../etc', 'not-a-command', `${COMMAND}/..`])
        assert.throws(() => runArtifactsDir('/out', bad, p), refused('UnsafeArtifactPath'), bad);
    }
  });
});

describe('artifact writes: fresh folder, no overwrite, no links', () => {
  const tarOf = (files: Record<string, string>) =>
    writeTar(Object.entries(files).map(([p, c]) => ({ path: p, content: Buffer.from(c) })));

  test('a run writes into <dir>/<commandId>/<instanceId>/ and never into an existing run folder', async () => {
    const dir = makeTempDir('ec2-runner-art-');
    writeFileSync(path.join(dir, 'keep.txt'), 'mine');
    const written = await writeRunArtifacts(dir, COMMAND, [
      { instanceId: ID, tar: tarOf({ 'keep.txt': 'theirs', 'sub/r.csv': 'x' }) },
    ]);
    const folder = path.join(dir, COMMAND, ID);
    assert.deepEqual(written.map((f) => path.relative(folder, f)).sort(), ['keep.txt', path.join('sub', 'r.csv')]);
    assert.equal(
      readFileSync(path.join(dir, 'keep.txt'), 'utf8'),
      'mine',
      'a file in the chosen folder was overwritten',
    );
    await assert.rejects(
      writeRunArtifacts(dir, COMMAND, [{ instanceId: ID, tar: tarOf({ 'a.txt': 'again' }) }]),
      refused('ArtifactsFolderExists'),
    );
    assert.deepEqual(readdirSync(folder).sort(), ['keep.txt', 'sub']);
  });

  test('.git/config with the repository as the folder: refused, nothing written', async () => {
    const repo = makeTempDir('ec2-runner-repo-');
    mkdirSync(path.join(repo, '.git'));
    writeFileSync(path.join(repo, '.git', 'config'), '[core]\n');
    const tar = tarOf({ '.git/config': '[core]\n\tfsmonitor = touch /tmp/pwned\n', 'ok.txt': 'fine' });
    await assert.rejects(
      writeRunArtifacts(repo, COMMAND, [{ instanceId: ID, tar }]),
      (error: unknown) =>
        refused('UnsafeArtifactPath')(error) && /"\.git" is a control folder/.test((error as Error).message),
    );
    assert.equal(readFileSync(path.join(repo, '.git', 'config'), 'utf8'), '[core]\n');
    assert.equal(existsSync(path.join(repo, COMMAND)), false, 'nothing is written when one name is refused');
  });

  test('a symlink planted in the target folder is not followed', async () => {
    const base = makeTempDir('ec2-runner-link-');
    const outside = path.join(base, 'outside');
    mkdirSync(outside);
    const dest = path.join(base, 'dest');
    // Planted before the download: the folder exists (refused), and a link in place of the folder is refused too.
    mkdirSync(dest);
    symlinkSync(outside, path.join(dest, COMMAND));
    await assert.rejects(
      writeRunArtifacts(dest, COMMAND, [{ instanceId: ID, tar: tarOf({ 'x.txt': 'x' }) }]),
      refused('ArtifactsFolderExists'),
    );
    assert.deepEqual(readdirSync(outside), []);
    // writeArtifacts into a folder that is a link to elsewhere: refused as existing.
    const linked = path.join(base, 'linked');
    symlinkSync(outside, linked);
    await assert.rejects(writeArtifacts(tarOf({ 'x.txt': 'x' }), linked), refused('ArtifactsFolderExists'));
    assert.deepEqual(readdirSync(outside), []);
  });

  test('duplicate names in one tar: the second is refused, the first file is not overwritten', async () => {
    const dir = path.join(makeTempDir('ec2-runner-dup-'), 'out');
    const tar = Buffer.concat([
      writeTar([{ path: 'a.txt', content: Buffer.from('first') }]).subarray(0, 1024),
      writeTar([{ path: 'a.txt', content: Buffer.from('second') }]),
    ]);
    await assert.rejects(
      writeArtifacts(tar, dir),
      (error: unknown) => refused('ArtifactWriteFailed')(error) && /already exists/.test((error as Error).message),
    );
    assert.equal(readFileSync(path.join(dir, 'a.txt'), 'utf8'), 'first');
    assert.ok(!lstatSync(path.join(dir, 'a.txt')).isSymbolicLink());
  });
});

describe('tar reader: strict and bounded', () => {
  test('the pax size=-1536 tar that hung the client is refused at once', () => {
    const tar = paxTar({ size: '-1536', path: 'x' }, 'data');
    const started = performance.now();
    assert.throws(
      () => readTar(tar),
      (error: unknown) => error instanceof TarFormatError && /bad pax size "-1536"/.test((error as Error).message),
    );
    assert.ok(performance.now() - started < 100);
    assert.deepEqual(listArtifactsOrError(tar), 'TarFormatError');
  });

  test('non-numeric, signed, fractional and base-256 numbers are refused', () => {
    for (const size of ['1e3', '0x10', '+5', '1.5', ' 12', '99999999999999999999', '']) {
      assert.throws(
        () => readTar(paxTar({ size, path: 'x' }, 'data')),
        TarFormatError,
        `pax size ${JSON.stringify(size)}`,
      );
    }
    for (const field of [
      '-0000001',
      '\u0080\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0001\u0000',
      '12x',
    ]) {
      assert.throws(() => readTar(tarHeader({ name: 'a', size: field })), TarFormatError, JSON.stringify(field));
    }
  });

  test('entries larger than what is left, bad pax record lengths and too many files are refused', () => {
    assert.throws(() => readTar(tarHeader({ name: 'a', size: '77777777777' })), /truncated/);
    assert.throws(() => readTar(paxTar({ raw: '999 path=x\n' }, 'd')), /does not end where its length says/);
    assert.throws(() => readTar(paxTar({ raw: '0 path=x\n' }, 'd')), /bad pax record length/);
    const many = writeTar(Array.from({ length: 11 }, (_, i) => ({ path: `f${i}`, content: Buffer.alloc(0) })));
    assert.throws(() => readTar(many, { maxBytes: Infinity, maxEntries: 10 }), /more than 10 files/);
    assert.throws(() => readTar(many, { maxBytes: 1024, maxEntries: 100 }), /over the 1024-byte limit/);
    assert.equal(readTar(many).length, 11);
  });
});

function listArtifactsOrError(tar: Uint8Array): string {
  try {
    listArtifacts(tar);
    return 'ok';
  } catch (error) {
    return (error as Error).name;
  }
}

describe('tag targets: live keys for instances SSM never named', () => {
  function liveScript(instanceId: string, forged = false): FakeInstance {
    return {
      instanceId,
      forged,
      chunks: [
        {
          at: 500,
          frames: [
            { type: 'start', info: { pid: 1 } },
            { type: 'stdout', data: text(forged ? 'forged\n' : 'real\n') },
          ],
        },
        {
          at: 1_500,
          frames: forged
            ? [{ type: 'artifacts', data: writeTar([{ path: 'evil.txt', content: Buffer.from('x') }]) }]
            : [
                { type: 'artifacts', data: writeTar([{ path: 'ok.txt', content: Buffer.from('ok') }]) },
                { type: 'exit', exitCode: 0 },
              ],
        },
      ],
      ssm: forged
        ? []
        : [
            { from: 300, status: 'InProgress' },
            { from: 2_000, status: 'Success', responseCode: 0 },
          ],
    };
  }

  test('a forged instance neither keeps the run open nor reaches the results or the disk', async () => {
    const clock = new FakeClock(600_000);
    const backend = new FakeRunBackend(clock, [liveScript(ID), liveScript(FORGED, true)]);
    const run = new FollowedRun({
      commandId: COMMAND,
      backend,
      instanceIds: [],
      discoverInstances: true,
      live: { bucket: BUCKET, runPrefix: RUN_PREFIX },
      timeoutSeconds: 3600,
      clock,
    });
    const result = await run.wait();
    assert.ok(clock.nowMs < 60_000, `the run ended after ${clock.nowMs} ms of virtual time`);
    assert.deepEqual(
      result.invocations.map((i) => i.instanceId),
      [ID],
    );
    assert.deepEqual(run.instanceIds, [ID]);
    const dir = makeTempDir('ec2-runner-forged-');
    const written = await run.downloadArtifacts(dir);
    assert.deepEqual(written, [path.join(dir, COMMAND, ID, 'ok.txt')]);
    assert.deepEqual(readdirSync(path.join(dir, COMMAND)), [ID]);
    assert.ok(!backend.cancels.some((c) => c.instanceIds?.includes(FORGED)), 'a forged id was sent to CancelCommand');
  });

  test('keys whose id is not an instance id are never followed', async () => {
    const clock = new FakeClock(600_000);
    const backend = new FakeRunBackend(clock, [liveScript(ID)]);
    const listKeys = backend.listKeys.bind(backend);
    backend.listKeys = async (bucket, prefix, startAfter) => [
      ...(await listKeys(bucket, prefix, startAfter)),
      `${RUN_PREFIX}../00000000`,
      `${RUN_PREFIX}..\\..\\x/00000000`,
    ];
    const run = new FollowedRun({
      commandId: COMMAND,
      backend,
      instanceIds: [],
      discoverInstances: true,
      live: { bucket: BUCKET, runPrefix: RUN_PREFIX },
      timeoutSeconds: 3600,
      clock,
    });
    const result = await run.wait();
    assert.deepEqual(
      result.invocations.map((i) => i.instanceId),
      [ID],
    );
  });
});
