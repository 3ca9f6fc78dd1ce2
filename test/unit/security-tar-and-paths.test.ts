// The rules that keep an instance's artifacts tar from reaching anything but its own fresh folder, one
// test per rule, each written against a mutant that survived the suites before it (docs/testing.md,
// "artifacts and archive"): the tar reader's field, pax and GNU long-name rules, the writer's exact
// bytes (content-addressed keys depend on them), every control-folder name and Windows rule, and the
// writer's refusals with the message each one gives. The artifact limits and file handles: security-tar-limits.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { RunnerError } from '../../src/core/api';
import { readTar, writeTar } from '../../src/core/archive';
import { artifactPathParts, instanceArtifactsDir, runArtifactsDir, safeTarget } from '../../src/core/artifactPaths';
import { writeArtifacts, writeRunArtifacts } from '../../src/core/artifacts';
import {
  BLOCK,
  END_BLOCKS as END,
  fixChecksum,
  headerBlock,
  octalSize,
  padded,
  paxRecord,
  tarFormat,
} from '../support/tarFixtures';
import { makeTempDir } from '../support/tempDirs';

const COMMAND = '11111111-2222-3333-4444-555555555555';
const ID = 'i-0123456789abcdef0';

/** One entry: header (any type) and its padded content. */
const entry = (name: string, content: Buffer | string, type = '0') => {
  const body = Buffer.from(content);
  return Buffer.concat([headerBlock({ name, size: octalSize(body.length), type }), padded(body)]);
};
const refusedWith = (code: string, pattern: RegExp) => (error: unknown) =>
  error instanceof RunnerError && error.code === code && pattern.test(error.message);
const names = (tar: Buffer) => readTar(tar).map((e) => e.path);
const tempDir = () => makeTempDir('ec2-runner-tar-rules-');

describe('tar writer: the exact bytes are part of the format', () => {
  test('a known tree gives known bytes (staged projects are keyed by their sha256)', () => {
    const tar = writeTar([
      { path: 'b.txt', content: Buffer.from('second\n') },
      { path: 'a/run.sh', content: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o755 },
      { path: `long/${'n'.repeat(120)}.py`, content: Buffer.from('print(1)\n') },
      { path: 'données/été.txt', content: Buffer.from('ok\n') },
    ]);
    // Sorted paths, fixed fields, pax headers for the long and the non-ASCII name, two end blocks.
    assert.equal(tar.length, BLOCK * 14);
    assert.equal(
      createHash('sha256').update(tar).digest('hex'),
      '0ece91a61368cdf770f29b31410528cd240940f7a3e22f5627d2fe7a48541775',
    );
  });

  test('the same entries in any order give the same bytes', () => {
    const files = ['c', 'a/b', 'a', 'b/a', 'a/a', 'ab', 'B', '_'].map((p) => ({ path: p, content: Buffer.from(p) }));
    const expected = writeTar(files);
    assert.deepEqual(names(expected), ['B', '_', 'a', 'a/a', 'a/b', 'ab', 'b/a', 'c']);
    for (let shift = 1; shift < files.length; shift++) {
      const rotated = [...files.slice(shift), ...files.slice(0, shift)];
      assert.ok(writeTar(rotated).equals(expected), `rotation ${shift}`);
      assert.ok(writeTar([...rotated].reverse()).equals(expected), `reversed rotation ${shift}`);
    }
  });

  test('header fields are zero-padded octal, a 100-byte name is not cut into the link name, sizes round-trip', () => {
    const name = 'x'.repeat(100);
    const tar = writeTar([{ path: name, content: Buffer.from('abc') }]);
    assert.equal(tar.subarray(0, 100).toString('latin1'), name, 'a name of exactly 100 bytes needs no pax header');
    assert.equal(tar.subarray(100, 108).toString('latin1'), '0000644\0');
    assert.equal(tar.subarray(124, 136).toString('latin1'), '00000000003\0');
    assert.equal(
      tar.subarray(157, 257).every((b) => b === 0),
      true,
      'the link name stays empty',
    );
    assert.deepEqual(names(tar), [name], 'a name filling its field (no NUL) reads back whole');
    const long = writeTar([{ path: 'y'.repeat(300), content: Buffer.from('') }]);
    const fileHeader = long.subarray(BLOCK * 2, BLOCK * 3);
    assert.equal(
      fileHeader.subarray(157, 257).every((b) => b === 0),
      true,
      'a long name goes to pax, not over the next fields',
    );
    assert.deepEqual(names(long), ['y'.repeat(300)]);
  });
});

describe('tar reader: numeric fields', () => {
  test('octal fields may be padded with spaces on both sides, not inside', () => {
    assert.deepEqual(
      readTar(Buffer.concat([headerBlock({ name: 'a', size: '    3  ' }), padded(Buffer.from('abc')), END])).map(
        (e) => e.content.length,
      ),
      [3],
    );
    assert.throws(
      () => readTar(Buffer.concat([headerBlock({ name: 'a', size: '1 1\0' }), padded(Buffer.alloc(9)), END])),
      tarFormat(/bad size field "1 1"/),
    );
  });

  test('a bad checksum or mode names the field', () => {
    const block = headerBlock({ name: 'a', size: octalSize(0) });
    block.write('9', 148, 'latin1');
    assert.throws(() => readTar(Buffer.concat([block, END])), tarFormat(/bad checksum field/));
    const good = headerBlock({ name: 'a', size: octalSize(0) });
    good[0] ^= 1;
    assert.throws(() => readTar(Buffer.concat([good, END])), tarFormat(/header checksum mismatch at byte 0/));
    const mode = headerBlock({ name: 'a', size: octalSize(0) });
    mode.write('0000x44\0', 100, 'latin1');
    assert.throws(() => readTar(Buffer.concat([fixChecksum(mode), END])), tarFormat(/bad mode field/));
  });
});

describe('tar reader: pax records', () => {
  const paxThenFile = (paxText: Buffer | string, content = 'hello') =>
    Buffer.concat([entry('PaxHeader', Buffer.from(paxText), 'x'), entry('file', content), END]);

  test('valid records: multi-digit size, path, NUL padding after the last record', () => {
    const text = paxRecord('size', '3') + paxRecord('path', 'dir/from-pax.txt');
    const tar = Buffer.concat([
      entry('PaxHeader', Buffer.concat([Buffer.from(text), Buffer.alloc(20)]), 'x'),
      headerBlock({ name: 'file', size: octalSize(9) }),
      padded(Buffer.from('abcdefghi')),
      END,
    ]);
    const [file] = readTar(tar);
    assert.equal(file.path, 'dir/from-pax.txt');
    assert.equal(Buffer.from(file.content).toString(), 'abc', 'the pax size wins over the header size');
    const big = Buffer.concat([
      entry('PaxHeader', paxRecord('size', '1234'), 'x'),
      headerBlock({ name: 'f', size: octalSize(0) }),
      padded(Buffer.alloc(1234, 0x61)),
      END,
    ]);
    assert.equal(readTar(big)[0].content.length, 1234);
  });

  test('a size beyond a safe integer is refused, not rounded', () => {
    assert.throws(
      () => readTar(paxThenFile(paxRecord('size', '9999999999999999'))),
      tarFormat(/bad pax size "9999999999999999"/),
    );
    // A hostile value is quoted cut to 20 characters, never in full.
    assert.throws(() => readTar(paxThenFile(paxRecord('size', '1'.repeat(400)))), tarFormat(/bad pax size "1{20}"$/));
  });

  test('record lengths: digits first, no leading zero, no missing space', () => {
    assert.throws(() => readTar(paxThenFile('12path=abc\n')), tarFormat(/bad pax record length at byte 0/));
    assert.throws(() => readTar(paxThenFile('015 path=abcd\n')), tarFormat(/bad pax record length at byte 0/));
    assert.throws(() => readTar(paxThenFile('14x path=abc\n')), tarFormat(/bad pax record length at byte 0/));
  });

  test('a record must end exactly where its length says, with a newline', () => {
    assert.throws(
      () => readTar(paxThenFile('99 path=abc\n')),
      tarFormat(/does not end where its length says/),
      'longer than the data',
    );
    assert.throws(
      () => readTar(paxThenFile('2 path=abc\n')),
      tarFormat(/does not end where its length says/),
      'shorter than its own length field',
    );
    assert.throws(
      () => readTar(paxThenFile('12 path=abcd')),
      tarFormat(/does not end where its length says/),
      'no newline at its end',
    );
  });

  test('a record needs a non-empty key and an equals sign', () => {
    assert.throws(() => readTar(paxThenFile('9 =value\n')), tarFormat(/has no key=value/));
    assert.throws(() => readTar(paxThenFile('9 novalu\n')), tarFormat(/has no key=value/));
  });
});

describe('tar reader: entry types and layout', () => {
  test('GNU long names (type L) name the next entry, with their NUL padding dropped', () => {
    const longName = `deep/${'d'.repeat(150)}.txt`;
    const tar = Buffer.concat([entry('././@LongLink', `${longName}\0\0`, 'L'), entry('short', 'content'), END]);
    const [file] = readTar(tar);
    assert.equal(file.path, longName);
    assert.equal(Buffer.from(file.content).toString(), 'content');
  });

  test('a pending pax size applies to the file, not to a GNU long-name header or a global header between them', () => {
    const tar = Buffer.concat([
      entry('PaxHeader', paxRecord('size', '2'), 'x'),
      entry('././@LongLink', 'named-by-L\0', 'L'),
      // Longer than a block: read with the pending size of 2, it would end inside itself.
      entry('pax_global_header', paxRecord('comment', 's'.repeat(600)), 'g'),
      entry('file', 'abcdef'),
      END,
    ]);
    const [file] = readTar(tar);
    assert.equal(file.path, 'named-by-L');
    assert.equal(Buffer.from(file.content).toString(), 'ab');
  });

  test('contiguous files (type 7) are files; folders, links and devices are skipped', () => {
    const tar = Buffer.concat([
      entry('dir', '', '5'),
      entry('link', '', '2'),
      entry('fifo', '', '6'),
      entry('contiguous', 'c', '7'),
      entry('plain', 'p'),
      END,
    ]);
    assert.deepEqual(names(tar), ['contiguous', 'plain']);
  });

  test('the ustar prefix field joins the name', () => {
    const block = headerBlock({ name: 'file.txt', size: octalSize(0) });
    block.write('some/prefix', 345, 'latin1');
    assert.deepEqual(names(Buffer.concat([fixChecksum(block), END])), ['some/prefix/file.txt']);
  });

  test('an archive without end blocks is read to its last byte, an entry may end exactly there, not one byte after', () => {
    assert.deepEqual(names(headerBlock({ name: 'empty', size: octalSize(0) })), ['empty']);
    const exact = Buffer.concat([headerBlock({ name: 'full', size: octalSize(BLOCK) }), Buffer.alloc(BLOCK, 0x62)]);
    assert.equal(readTar(exact)[0].content.length, BLOCK);
    const oneShort = Buffer.concat([
      headerBlock({ name: 'full', size: octalSize(BLOCK + 1) }),
      Buffer.alloc(BLOCK, 0x62),
    ]);
    assert.throws(() => readTar(oneShort), tarFormat(/entry at byte 0 is truncated \(513 bytes declared, 512 left\)$/));
  });

  test('a header that describes a next entry cannot end the archive', () => {
    assert.throws(
      () => readTar(Buffer.concat([entry('././@LongLink', 'orphan\0', 'L'), END])),
      tarFormat(/ends after a header that describes a next entry/),
    );
    assert.throws(
      () => readTar(Buffer.concat([entry('PaxHeader', paxRecord('size', '1'), 'x'), END])),
      tarFormat(/ends after a header that describes a next entry/),
    );
  });

  test('the byte limit is inclusive', () => {
    const tar = Buffer.concat([entry('a', 'x'), END]);
    assert.equal(readTar(tar, { maxBytes: tar.length, maxEntries: 1 }).length, 1);
    assert.throws(
      () => readTar(tar, { maxBytes: tar.length - 1, maxEntries: 1 }),
      tarFormat(/over the \d+-byte limit/),
    );
  });
});

describe('artifact paths: every rule', () => {
  const posix = (p: string) => artifactPathParts(p, path.posix);
  const windows = (p: string) => artifactPathParts(p, path.win32);
  const unsafe = (pattern: RegExp) => refusedWith('UnsafeArtifactPath', pattern);

  test('each control folder is refused, in any case and with trailing dots or spaces', () => {
    for (const name of [
      '.git',
      '.hg',
      '.svn',
      '.bzr',
      '.jj',
      '.vscode',
      '.idea',
      '.devcontainer',
      '.envrc',
      '.ssh',
      '.aws',
      '.gnupg',
      '.kube',
      '.docker',
    ]) {
      for (const spelling of [name, name.toUpperCase(), `${name}..`, `${name}. .`]) {
        assert.throws(() => posix(`out/${spelling}/x`), unsafe(/is a control folder/), spelling);
      }
    }
    assert.throws(() => posix('GIT~12/config'), unsafe(/is a control folder/));
    for (const ok of ['xgit~1/a', 'git~1x/a', 'git~/a', 'my.git/a', 'a.vscode/b'])
      assert.deepEqual(posix(ok), ok.split('/'));
  });

  test('.bin is refused only inside node_modules', () => {
    assert.throws(() => posix('node_modules/.bin/tool'), unsafe(/"\.bin" is a control folder/));
    assert.deepEqual(posix('.bin/tool'), ['.bin', 'tool']);
    assert.deepEqual(posix('vendor/.bin/tool'), ['vendor', '.bin', 'tool']);
  });

  test('empty, absolute and dot paths each get their own reason', () => {
    assert.throws(() => posix(''), unsafe(/its path is empty/));
    assert.throws(() => posix('/etc/passwd'), unsafe(/its path is absolute/));
    for (const p of ['a//b', './a', 'a/.', 'a/', '../a', 'a/..'])
      assert.throws(() => posix(p), unsafe(/leaves the target folder or has an empty part/), p);
    assert.throws(() => posix('a\u0007b'), unsafe(/holds control characters/));
  });

  test('Windows: device names only as a whole name, before the first dot, trailing spaces ignored', () => {
    for (const device of ['con', 'CON.txt', 'aux.tar.gz', 'con  .txt', 'lpt1', 'com\u00b9.log', 'conin$']) {
      assert.throws(() => windows(`a/${device}`), unsafe(/is a Windows device name/), device);
    }
    for (const ok of ['bacon.txt', 'falcon', 'c on.txt', 'console.log', 'auxiliary', 'com10'])
      assert.deepEqual(windows(ok), [ok], ok);
    assert.throws(() => windows('a:b'), unsafe(/Windows reads as a drive, stream, separator or wildcard/));
    assert.throws(() => windows('name.'), unsafe(/ends with a dot or a space/));
    assert.deepEqual(posix('name.'), ['name.'], 'POSIX keeps a trailing dot');
  });

  test('ids become path parts only when the whole id has the right shape', () => {
    assert.equal(runArtifactsDir('/out', COMMAND, path.posix), `/out/${COMMAND}`);
    for (const bad of [`x${COMMAND}`, `${COMMAND}x`, '../x']) {
      assert.throws(() => runArtifactsDir('/out', bad, path.posix), unsafe(/is not an SSM command id/), bad);
    }
    assert.throws(
      () => instanceArtifactsDir('/out/run', '../i-0123456789abcdef0', path.posix),
      unsafe(/is not an instance id/),
    );
    assert.equal(safeTarget('/out', 'a/b.txt', path.posix), '/out/a/b.txt');
  });
});

describe('artifacts on disk: refusals and what is written', () => {
  test('an unreadable tar is one message and nothing is written', async () => {
    const dir = path.join(tempDir(), 'out');
    await assert.rejects(
      writeArtifacts(Buffer.alloc(BLOCK, 0x41), dir),
      refusedWith('UnreadableArtifacts', /Cannot save the artifacts: not a valid tar archive: .*Nothing was saved/),
    );
    assert.equal(existsSync(dir), false);
  });

  test('files share folders they created; a file in the way of a folder is refused either way round', async () => {
    const dir = path.join(tempDir(), 'ok');
    const written = await writeArtifacts(
      writeTar([
        { path: 'a/x', content: Buffer.from('1') },
        { path: 'a/y', content: Buffer.from('2') },
      ]),
      dir,
    );
    assert.deepEqual(
      written.map((p) => path.relative(dir, p)),
      ['a/x', 'a/y'],
    );
    assert.equal(statSync(path.join(dir, 'a')).mode & 0o777, 0o755);

    const fileFirst = Buffer.concat([entry('a', '1'), entry('a/b', '2'), END]);
    await assert.rejects(
      writeArtifacts(fileFirst, path.join(tempDir(), 'f')),
      refusedWith('ArtifactWriteFailed', /Cannot save artifact "a\/b": it already exists/),
    );
    const folderFirst = Buffer.concat([entry('a/b', '2'), entry('a', '1'), END]);
    await assert.rejects(
      writeArtifacts(folderFirst, path.join(tempDir(), 'g')),
      refusedWith(
        'ArtifactWriteFailed',
        /Cannot save artifact "a" to .*: it already exists \(artifacts never overwrite/,
      ),
    );
  });

  test('a name the file system refuses: one message with its error code, and nothing after it is written', async () => {
    const dir = path.join(tempDir(), 'long');
    const long = `${'n'.repeat(300)}.txt`;
    await assert.rejects(
      writeArtifacts(
        writeTar([
          { path: 'a.txt', content: Buffer.from('1') },
          { path: long, content: Buffer.from('2') },
          { path: 'z.txt', content: Buffer.from('3') },
        ]),
        dir,
      ),
      refusedWith('ArtifactWriteFailed', new RegExp(`^Cannot save artifact "${long}" to \\S+: ENAMETOOLONG\\.$`)),
    );
    assert.deepEqual(readdirSync(dir), ['a.txt']);
    const longFolder = path.join(tempDir(), 'f'.repeat(300));
    await assert.rejects(
      writeArtifacts(writeTar([{ path: 'a.txt', content: Buffer.from('1') }]), longFolder),
      refusedWith('ArtifactWriteFailed', /^Cannot save artifact \S+: ENAMETOOLONG\.$/),
      'a folder name the file system refuses is not said to exist',
    );
  });

  test('an existing run folder is refused with the fix; no tars create no folder', async () => {
    const dir = tempDir();
    const tar = writeTar([{ path: 'r.txt', content: Buffer.from('r') }]);
    await writeRunArtifacts(dir, COMMAND, [{ instanceId: ID, tar }]);
    await assert.rejects(
      writeRunArtifacts(dir, COMMAND, [{ instanceId: ID, tar }]),
      refusedWith('ArtifactsFolderExists', /the folder already exists .* Remove it or choose another folder/),
    );
    const empty = tempDir();
    assert.deepEqual(await writeRunArtifacts(empty, COMMAND, []), []);
    assert.deepEqual(readdirSync(empty), []);
  });
});
