// The bounded output store (outputStore.ts): small output stays whole in memory and never touches the
// disk; bigger output goes whole to a file, byte for byte and in order, while memory keeps its two ends;
// a file that cannot be written costs the middle (said once), never the run.
import { describe, test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunOutputStores, StreamStore } from '../../src/core/outputStore';
import { InstanceProgress } from '../../src/core/progress';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ec2-runner-store-test-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Deterministic bytes whose every offset differs from its neighbours' (order mistakes show). */
function pattern(length: number, seed: number): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) b[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return b;
}

describe('output store', () => {
  test('under the budget: the whole text in memory, no file, the same text a join would give', () => {
    const store = new StreamStore(join(dir, 'i.stdout'), 1000);
    store.append(Buffer.from('héllo '));
    store.append(Buffer.from('world\n'));
    store.append(new Uint8Array(0));
    assert.equal(store.text(), 'héllo world\n');
    assert.equal(store.size, Buffer.byteLength('héllo world\n'));
    assert.equal(store.file, undefined);
    assert.equal(store.problem, undefined);
    assert.deepEqual(readdirSync(dir), [], 'nothing written to disk');
    // Exactly at the budget still fits.
    const full = new StreamStore(join(dir, 'full'), 4);
    full.append(Buffer.from('abcd'));
    assert.equal(full.text(), 'abcd');
    assert.equal(full.file, undefined);
  });

  test('over the budget: the file holds every byte in order; memory keeps the first and last halves', () => {
    const path = join(dir, 'run', 'i.stdout');
    const budget = 64 * 1024;
    const store = new StreamStore(path, budget);
    const parts: Buffer[] = [];
    let maxChunk = 0;
    for (let i = 0; i < 300; i++) {
      const part = pattern(1 + ((i * 7919) % 9000), i);
      maxChunk = Math.max(maxChunk, part.length);
      parts.push(part);
      store.append(part);
      assert.ok(store.memoryHeld <= budget * 1.5 + maxChunk, `memory bounded (${store.memoryHeld} bytes held)`);
    }
    store.close();
    const all = Buffer.concat(parts);
    assert.ok(all.length > budget * 10);
    assert.equal(store.size, all.length);
    assert.equal(store.file, path);
    assert.ok(readFileSync(path).equals(all), 'the file is byte-identical, in order');
    assert.equal(store.bytes(), undefined);
    const text = store.text();
    const marker =
      `\n[ec2-runner: ${all.length - budget} bytes of ${all.length} not kept in memory; ` +
      `the whole output is in ${path}]\n`;
    const at = text.indexOf(marker);
    assert.ok(at > 0, 'one line says where the whole output is');
    const latin = (b: Buffer) => new TextDecoder('utf-8', { fatal: false }).decode(b);
    assert.equal(text.slice(0, at), latin(all.subarray(0, budget / 2)), 'the first half of the budget');
    assert.equal(text.slice(at + marker.length), latin(all.subarray(all.length - budget / 2)), 'the last half');
  });

  test('one huge chunk is cut down to the tail it needs', () => {
    const store = new StreamStore(join(dir, 'big'), 1024);
    store.append(pattern(1024 * 1024, 3));
    assert.ok(store.memoryHeld <= 1024, `${store.memoryHeld} bytes held`);
    store.close();
    assert.equal(readFileSync(join(dir, 'big')).length, 1024 * 1024);
  });

  test('a folder that cannot be written: one clear problem, the two ends kept, the run goes on', () => {
    writeFileSync(join(dir, 'not-a-folder'), '');
    const path = join(dir, 'not-a-folder', 'i.stdout');
    const store = new StreamStore(path, 100);
    store.append(Buffer.from('a'.repeat(80)));
    store.append(Buffer.from('b'.repeat(80)));
    store.append(Buffer.from('c'.repeat(80)));
    assert.equal(store.file, undefined);
    assert.match(store.problem ?? '', /beyond 100 bytes could not be saved to .*not-a-folder.*\((ENOTDIR|EEXIST)\)/);
    const text = store.text();
    assert.ok(text.startsWith('a'.repeat(50)));
    assert.ok(text.endsWith('c'.repeat(50)));
    assert.match(text, /\[ec2-runner: 140 bytes of 240 not kept in memory; it could not be saved: /);
  });

  test('a file already at the path (or a link planted there) is never written through', () => {
    const target = join(dir, 'victim');
    writeFileSync(target, 'keep me');
    mkdirSync(join(dir, 'run'));
    symlinkSync(target, join(dir, 'run', 'i.stdout'));
    const store = new StreamStore(join(dir, 'run', 'i.stdout'), 10);
    store.append(Buffer.from('x'.repeat(50)));
    assert.equal(readFileSync(target, 'utf8'), 'keep me');
    assert.match(store.problem ?? '', /EEXIST/);
  });

  test('an output folder made by someone else (a link, or writable by every user) is neither used nor tidied', () => {
    const theirs = join(dir, 'theirs');
    mkdirSync(theirs);
    const linked = join(dir, 'linked');
    symlinkSync(theirs, linked);
    const viaLink = new RunOutputStores('run', { dir: linked, memoryBytes: 10 }).create('i-0123456789abcdef0').stdout;
    viaLink.append(Buffer.from('x'.repeat(50)));
    assert.equal(viaLink.file, undefined);
    assert.match(viaLink.problem ?? '', /linked is not a folder \(a link or a file\)/);
    assert.deepEqual(readdirSync(join(theirs, 'run')), [], 'nothing written through the link');

    const open = join(dir, 'open');
    mkdirSync(join(open, 'old-run'), { recursive: true });
    chmodSync(open, 0o777);
    const eightDaysAgo = new Date(Date.now() - 8 * 24 * 3600 * 1000);
    utimesSync(join(open, 'old-run'), eightDaysAgo, eightDaysAgo);
    const stores = new RunOutputStores('c1', { dir: open, memoryBytes: 8 });
    const { stdout } = stores.create('i-0123456789abcdef0');
    stdout.append(Buffer.from('0123456789abcdef'));
    assert.match(stdout.problem ?? '', /open is writable by every user/);
    assert.ok(readdirSync(open).includes('old-run'), 'not tidied');
  });

  test('runs: one folder per command, names made safe, old folders tidied, in the result', () => {
    const old = join(dir, 'old-run');
    mkdirSync(old);
    const eightDaysAgo = new Date(Date.now() - 8 * 24 * 3600 * 1000);
    utimesSync(old, eightDaysAgo, eightDaysAgo);
    mkdirSync(join(dir, 'recent-run'));
    const stores = new RunOutputStores('cmd/../x', { dir, memoryBytes: 8 });
    const p = new InstanceProgress('i-0123456789abcdef0', true, stores.create('i-0123456789abcdef0'));
    assert.deepEqual(readdirSync(dir).sort(), ['recent-run'], 'the old folder went, the recent stays');
    p.applyFrames([{ type: 'stdout', data: Buffer.from('0123456789abcdef\n') }], 0);
    p.applyFrames([{ type: 'stderr', data: Buffer.from('small') }], 0);
    p.closeOutput();
    const result = p.toResult(true, undefined);
    assert.equal(result.stdoutFile, join(dir, 'cmd____x', 'i-0123456789abcdef0.stdout'));
    assert.equal(readFileSync(result.stdoutFile!, 'utf8'), '0123456789abcdef\n');
    assert.equal(result.stderrFile, undefined);
    assert.equal(result.stderr, 'small');
    assert.match(result.stdout, /^0123\n\[ec2-runner: 9 bytes of 17 not kept.*\]\ndef\n$/);
  });
});
