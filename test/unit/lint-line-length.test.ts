// Lines of at most 120 characters (ARCHITECTURE.md): Prettier wraps code, ESLint's @stylistic/max-len
// catches the strings and comments Prettier leaves long. This checks the rule itself on lines of
// each kind, so a config change that stops guarding the limit fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ESLint } from 'eslint';

const ROOT = join(__dirname, '..', '..', '..');
const eslint = new ESLint({ cwd: ROOT });

async function tooLong(file: string, line: string): Promise<boolean> {
  const [result] = await eslint.lintText(`${line}\n`, { filePath: join(ROOT, file) });
  return result.messages.some((m) => m.ruleId === '@stylistic/max-len');
}

/** A statement of exactly `length` characters: a string constant padded to fit. */
function statementOf(length: number): string {
  const head = "export const text = '";
  return `${head}${'x'.repeat(length - head.length - 2)}';`;
}

test('a 120-character line passes; a 121-character one is an error, in src/ and test/', async () => {
  assert.equal(statementOf(121).length, 121);
  assert.equal(await tooLong('src/core/x.ts', statementOf(120)), false);
  assert.equal(await tooLong('src/core/x.ts', statementOf(121)), true);
  assert.equal(await tooLong('test/unit/x.test.ts', statementOf(121)), true);
});

test('a long comment is an error; a long URL or regular expression is not', async () => {
  assert.equal(await tooLong('src/core/x.ts', `// ${'word '.repeat(30)}`), true);
  assert.equal(await tooLong('src/core/x.ts', `// See https://docs.aws.amazon.com/${'a'.repeat(120)}`), false);
  assert.equal(await tooLong('test/unit/x.test.ts', `export const pattern = /^${'a'.repeat(120)}$/;`), false);
});

test("a test's title line may run longer (wrapping it would re-indent the whole test)", async () => {
  assert.equal(await tooLong('test/unit/x.test.ts', `test('${'a'.repeat(130)}', () => {});`), false);
});

/** The lines of `text` longer than 120 characters, as `file:line`. */
function longLines(file: string, text: string): string[] {
  return text.split('\n').flatMap((line, at) => (line.length > 120 ? [`${file}:${at + 1}`] : []));
}

function pythonFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === '__pycache__' ? [] : pythonFiles(path);
    return entry.name.endsWith('.py') ? [path] : [];
  });
}

test('Python files (which ESLint does not read) keep to 120 characters too', () => {
  const files = ['src', 'test', 'bench', 'examples', 'scripts'].flatMap((dir) => pythonFiles(join(ROOT, dir)));
  assert.ok(files.length >= 10, `found only ${files.length} Python files`);
  const long = files.flatMap((path) => longLines(relative(ROOT, path), readFileSync(path, 'utf8')));
  assert.deepEqual(long, [], 'wrap these lines');
  assert.deepEqual(longLines('x.py', `${'x'.repeat(120)}\n${'y'.repeat(121)}\n`), ['x.py:2'], 'the check can fail');
});
