// The fuzz cases of test/unit/security-fuzz.test.ts (seeded, deterministic). They run in a worker
// thread (fuzzWorker.ts) so that a case stuck in a synchronous loop (the old tar hang) is caught by a
// watchdog instead of freezing the test run: `tick` reports progress before each step.
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RunnerError } from '../../src/core/api';
import { readTar, TarFormatError, writeTar } from '../../src/core/archive';
import { writeArtifacts } from '../../src/core/artifacts';
import { ARTIFACTS_MAX_BYTES, ARTIFACTS_MAX_FILES } from '../../src/core/defaults';
import { InstanceProgress } from '../../src/core/progress';
import {
  chunkKey,
  CorruptFramesError,
  decodeFrames,
  encodeFrames,
  isInstanceId,
  parseChunkKey,
  type Frame,
} from '../../src/core/remote';
import { seededRandom } from './remoteWrapperSuite';
import { fixChecksum, paxRecord, paxTar } from './tarFixtures';
import { makeTempDir } from './tempDirs';

let tick: () => void = () => undefined;
/** Called before every timed step (the worker posts a heartbeat). */
export function onTick(callback: () => void): void {
  tick = callback;
}

const CASE_LIMIT_MS = 1_000;
/** Errors a hostile artifact may legitimately end in. */
const EXPECTED_WRITE_ERRORS = new Set(['UnsafeArtifactPath', 'UnreadableArtifacts', 'ArtifactWriteFailed']);

type Random = () => number;
const pick = <T>(next: Random, items: readonly T[]): T => items[Math.floor(next() * items.length)];
const int = (next: Random, max: number) => Math.floor(next() * max);

const NAME_PARTS = [
  'a',
  'data.csv',
  'x'.repeat(120),
  'é€😀',
  '..',
  '.',
  '',
  '.git',
  '.GIT',
  'config',
  '.vscode',
  'node_modules',
  '.bin',
  'C:',
  'aux.txt',
  'CON',
  'a:b',
  '\\\\host\\share',
  'a\\..\\b',
  '\u001b[31m',
  '\u0000',
  '/',
  'GIT~1',
  'trail. ',
];
const NUMBERS = [
  '-1536',
  '-512',
  '-1024',
  '-2048',
  '-1',
  '0',
  '1',
  '512',
  '99999999999999999999',
  '1e9',
  '0x200',
  ' 7',
  '+3',
  '1.5',
  '',
  'NaN',
  '077777777777',
  '\u0080\u0000\u0000\u0001',
];

function randomName(next: Random): string {
  return Array.from({ length: 1 + int(next, 3) }, () => pick(next, NAME_PARTS)).join(
    pick(next, ['/', '/', '/', '\\', '//']),
  );
}

function baseTar(next: Random): Buffer {
  switch (int(next, 4)) {
    case 0:
      return writeTar(
        Array.from({ length: 1 + int(next, 4) }, () => ({
          path: randomName(next),
          content: Buffer.alloc(int(next, 1500), 0x61),
        })),
      );
    case 1: {
      const raw = Array.from({ length: 1 + int(next, 3) }, () =>
        next() < 0.5
          ? paxRecord(
              pick(next, ['size', 'path', 'linkpath', 'x']),
              next() < 0.5 ? pick(next, NUMBERS) : randomName(next),
            )
          : `${pick(next, NUMBERS)} size=${pick(next, NUMBERS)}\n`,
      ).join('');
      return paxTar({ raw }, 'content'.repeat(int(next, 200)));
    }
    case 2:
      // A pax size that disagrees with the entry: negative, huge, not a number (the old hang was size=-1536).
      return paxTar({ size: pick(next, NUMBERS), path: randomName(next) }, 'x'.repeat(int(next, 3000)));
    default:
      return writeTar([{ path: 'ok.txt', content: Buffer.from('fine') }]);
  }
}

function mutateTar(next: Random, input: Buffer): Buffer {
  let tar = Buffer.from(input);
  const headerAt = () => 512 * int(next, Math.max(1, Math.floor(tar.length / 512)));
  for (let round = int(next, 4); round > 0; round--) {
    const op = int(next, 7);
    if (op === 0 && tar.length > 0) {
      for (let i = 1 + int(next, 8); i > 0; i--) tar[int(next, tar.length)] = int(next, 256);
    } else if (op === 1 && tar.length >= 512) {
      const at = headerAt();
      Buffer.from(pick(next, NUMBERS).padEnd(12, '\0').slice(0, 12), 'latin1').copy(tar, at + 124);
      if (next() < 0.8) fixChecksum(tar.subarray(at, at + 512));
    } else if (op === 2 && tar.length >= 512) {
      const at = headerAt();
      tar[at + 156] = pick(next, [...'xLg5120 7', '\0', 'K']).charCodeAt(0);
      if (next() < 0.8) fixChecksum(tar.subarray(at, at + 512));
    } else if (op === 3) {
      tar = tar.subarray(0, int(next, tar.length + 1));
    } else if (op === 4 && tar.length >= 1024) {
      const at = headerAt();
      tar = Buffer.concat([tar.subarray(0, at), tar.subarray(at, at + 512), tar.subarray(at)]);
    } else if (op === 5) {
      tar = Buffer.concat([tar, Buffer.from(Array.from({ length: int(next, 1100) }, () => int(next, 256)))]);
    } else if (op === 6 && tar.length >= 512) {
      const at = headerAt();
      Buffer.from(randomName(next).slice(0, 100).padEnd(100, '\0'), 'utf8').copy(tar, at, 0, 100);
      fixChecksum(tar.subarray(at, at + 512));
    }
  }
  return tar;
}

/** Every path under `dir` (lstat: links are reported, not followed). */
function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    const info = lstatSync(full);
    assert.ok(!info.isSymbolicLink(), `a link was created: ${full}`);
    return info.isDirectory() ? [full, ...walk(full)] : [full];
  });
}

function timed<T>(what: string, action: () => T): T {
  tick();
  const started = performance.now();
  try {
    return action();
  } finally {
    const ms = performance.now() - started;
    assert.ok(ms < CASE_LIMIT_MS, `${what} took ${ms.toFixed(0)} ms`);
  }
}

export async function fuzzTars(seed: number, count: number): Promise<string> {
  const next = seededRandom(seed);
  const outer = makeTempDir('ec2-runner-fuzz-');
  writeFileSync(path.join(outer, 'sentinel'), 'untouched');
  const root = path.join(outer, 'chosen');
  mkdirSync(root);
  const outcomes = { parsed: 0, refusedByReader: 0, written: 0, refusedByWriter: 0 };
  let slowest = 0;
  for (let i = 0; i < count; i++) {
    const tar = mutateTar(next, baseTar(next));
    const where = `seed ${seed} case ${i}`;
    const started = performance.now();
    let parsed = false;
    try {
      timed(where, () => readTar(tar, { maxBytes: ARTIFACTS_MAX_BYTES, maxEntries: ARTIFACTS_MAX_FILES }));
      parsed = true;
      outcomes.parsed++;
    } catch (error) {
      if (!(error instanceof TarFormatError)) throw new Error(`${where}: the reader threw ${String(error)}`);
      outcomes.refusedByReader++;
    }
    if (parsed && i % 4 === 0) {
      // Every fourth readable tar goes to disk too (the file system is the slow part).
      try {
        await writeArtifacts(tar, path.join(root, `c${i}`));
        outcomes.written++;
      } catch (error) {
        if (!(error instanceof RunnerError && EXPECTED_WRITE_ERRORS.has(error.code)))
          throw new Error(`${where}: the writer threw ${String(error)}`);
        outcomes.refusedByWriter++;
      }
    }
    slowest = Math.max(slowest, performance.now() - started);
  }
  assert.deepEqual(readdirSync(outer).sort(), ['chosen', 'sentinel']);
  assert.equal(readFileSync(path.join(outer, 'sentinel'), 'utf8'), 'untouched');
  for (const file of walk(root)) {
    const inside = path.relative(root, file).split(path.sep);
    assert.match(inside[0], /^c\d+$/, file);
    assert.ok(!inside.some((part) => ['..', '.git', '.vscode'].includes(part.toLowerCase())), file);
  }
  // The mutations must reach both outcomes, or the fuzzer tests nothing.
  assert.ok(outcomes.parsed > count / 20 && outcomes.refusedByReader > count / 20, JSON.stringify(outcomes));
  assert.ok(outcomes.written > 0 && outcomes.refusedByWriter > 0, JSON.stringify(outcomes));
  return `tar fuzz: ${JSON.stringify(outcomes)}, slowest case ${slowest.toFixed(1)} ms`;
}

export async function fuzzKeys(seed: number, count: number): Promise<string> {
  const next = seededRandom(seed + 1);
  const prefix = 'ec2-runner/runs/0123456789abcdef/';
  const tokens = [
    'i-',
    'mi-',
    '0123456789abcdef0',
    'deadbeef',
    'ABCDEF01',
    '..',
    '.',
    '/',
    '\\',
    ':',
    'C:',
    '%2e%2e',
    '00000000',
    '000000001',
    '99999999999999999',
    '-',
    'x',
    'é',
    '\u0000',
    ' ',
  ];
  let parsed = 0;
  for (let i = 0; i < count; i++) {
    const start = next() < 0.8 ? prefix : pick(next, ['', 'ec2-runner/runs/', prefix.slice(0, -1), 'other/']);
    let rest: string;
    if (next() < 0.5) {
      // Shaped like a chunk key (id / sequence), then maybe spoiled with a token at a random place.
      const hex = Array.from({ length: 6 + int(next, 14) }, () =>
        pick(next, [...'0123456789abcdef', ...'0123456789abcdef', 'A', 'g']),
      ).join('');
      const prefix = pick(next, ['i-', 'i-', 'mi-', 'I-', '']);
      rest = `${prefix}${hex}/${'0'.repeat(int(next, 4))}${int(next, 100_000_000)}`.replace(
        /\/(\d+)$/,
        (_, d: string) => `/${d.padStart(7 + int(next, 3), '0')}`,
      );
      if (next() < 0.3) {
        const at = int(next, rest.length + 1);
        rest = rest.slice(0, at) + pick(next, tokens) + rest.slice(at);
      }
    } else {
      rest = Array.from({ length: 1 + int(next, 6) }, () => pick(next, tokens)).join('');
    }
    const key = start + rest;
    const result = timed(`seed ${seed} key ${i}`, () => parseChunkKey(prefix, key));
    if (!result) continue;
    parsed++;
    assert.ok(isInstanceId(result.instanceId), `${key} gave ${result.instanceId}`);
    assert.ok(Number.isSafeInteger(result.seq) && result.seq >= 0, key);
    for (const p of [path.posix, path.win32]) {
      assert.equal(
        p.dirname(p.join('/root', result.instanceId)),
        p.join('/root'),
        `${result.instanceId} is not one path part`,
      );
    }
  }
  // Valid keys are produced too, so the positive side is exercised.
  for (const id of ['i-0123456789abcdef0', 'mi-0123456789abcdef0', 'i-deadbeef'])
    assert.deepEqual(parseChunkKey(prefix, chunkKey(prefix, id, 7)), { instanceId: id, seq: 7 });
  assert.ok(parsed > 0, 'no fuzzed key parsed');
  return `key fuzz: ${parsed} of ${count} keys parsed`;
}

export async function fuzzFrames(seed: number, count: number): Promise<string> {
  const next = seededRandom(seed + 2);
  const frameOf = (): Frame => {
    switch (int(next, 7)) {
      case 0:
        return { type: 'start', info: { pid: int(next, 9999) } };
      case 1:
        return { type: 'stdout', data: Buffer.from('out'.repeat(int(next, 50))) };
      case 2:
        return { type: 'stderr', data: Buffer.from([int(next, 256), int(next, 256)]) };
      case 3:
        return { type: 'result', data: Buffer.from(pick(next, ['{"ok":true}', '[1,2', 'null', '"x"'])) };
      case 4:
        return { type: 'artifacts', data: mutateTar(next, baseTar(next)) };
      case 5:
        return next() < 0.5
          ? { type: 'exit', exitCode: int(next, 256) - 1 }
          : { type: 'exit', exitCode: 137, signal: 9 };
      default:
        return { type: 'error', message: 'wrapper failed' };
    }
  };
  let decoded = 0;
  for (let i = 0; i < count; i++) {
    const body = Buffer.from(encodeFrames(Array.from({ length: 1 + int(next, 4) }, frameOf)));
    for (let flips = int(next, 4); flips > 0 && body.length > 0; flips--) body[int(next, body.length)] = int(next, 256);
    const cut = next() < 0.2 ? body.subarray(0, int(next, body.length + 1)) : body;
    const where = `seed ${seed + 2} object ${i}`;
    let frames: Frame[];
    try {
      frames = timed(where, () => decodeFrames(cut));
    } catch (error) {
      if (!(error instanceof CorruptFramesError)) throw new Error(`${where}: the decoder threw ${String(error)}`);
      continue;
    }
    decoded++;
    const progress = new InstanceProgress('i-0123456789abcdef0', true);
    const result = timed(where, () => {
      progress.applyFrames(frames, 0);
      return progress.toResult(true, undefined);
    });
    assert.ok(Array.isArray(result.artifacts), where);
  }
  assert.ok(decoded > count / 10, `only ${decoded} objects decoded`);
  return `frame fuzz: ${decoded} of ${count} objects decoded`;
}
