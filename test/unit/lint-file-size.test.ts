// Small modules (ARCHITECTURE.md): no source file under src/ grows past 400 lines, except the
// sandbox's per-API tables (one handler per AWS operation, read by looking an operation up). A file
// that grows past the limit is split along a seam (one concern per module), not cut into chunks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
const MAX_LINES = 400;

/** Files allowed past MAX_LINES, and why. */
const EXEMPT: Record<string, string> = {
  'src/sandbox/ssmApi.ts': "the sandbox's SSM per-API table",
  'src/sandbox/s3Api.ts': "the sandbox's S3 per-API table",
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|py|mjs|js)$/.test(entry.name) && !entry.name.includes('.generated.') ? [path] : [];
  });
}

function linesOf(text: string): number {
  if (text === '') return 0;
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

test(`every file under src/ has at most ${MAX_LINES} lines, except the per-API tables`, () => {
  const files = sourceFiles(join(ROOT, 'src')).map((path) => relative(ROOT, path).split('\\').join('/'));
  assert.ok(files.length > 50, `found only ${files.length} source files`);
  const over = files
    .filter((file) => !(file in EXEMPT))
    .map((file) => ({ file, lines: linesOf(readFileSync(join(ROOT, file), 'utf8')) }))
    .filter(({ lines }) => lines > MAX_LINES)
    .map(({ file, lines }) => `${file}: ${lines} lines`);
  assert.deepEqual(over, [], `split these along a seam (ARCHITECTURE.md):\n${over.join('\n')}`);
});

test('each exemption names a file that exists', () => {
  for (const file of Object.keys(EXEMPT)) assert.ok(linesOf(readFileSync(join(ROOT, file), 'utf8')) > 0, file);
});

test('lines are counted as an editor numbers them', () => {
  assert.equal(linesOf(''), 0);
  assert.equal(linesOf('a\n'), 1);
  assert.equal(linesOf('a\nb'), 2);
  assert.equal(linesOf('a\n\nb\n'), 3);
});
