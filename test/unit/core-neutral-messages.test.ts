// Core speaks no front end: no text the engine can produce names a CLI flag (`--bucket`), an
// `ec2-runner` command or a VS Code setting (`ec2Runner.bucket`). The CLI and the extension word their
// own advice from the error's code and data (src/cli/advice.ts, src/extension/advice.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { RunnerError, messageWithAdvice, toRunnerError } from '../../src/core';
import { CLI_ADVICE, cliMessage } from '../../src/cli/advice';
import { EXTENSION_ADVICE } from '../../src/extension/advice';

const ROOT = join(__dirname, '..', '..', '..');
const CORE = join(ROOT, 'src', 'core');

/**
 * A flag, our command, or an extension setting. `aws …` commands in backticks are the AWS CLI's, fine for both front
 * ends.
 */
const FRONT_END_WORDS = /(^|[\s(`'"/])--[a-z][a-z-]*|\bec2-runner [a-z]|\bec2Runner\.[a-z]/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/**
 * The instance-side programs in src/core/remote are shell and Python code (their `--flags` are curl's
 * and aws's); the header lines are the command text's own marker (`# ec2-runner run ID`), not advice.
 */
function isInstanceSide(file: string): boolean {
  // Also programs: the debug starter (Python on the instance) and the AWS CLI export (a shell script).
  return /^(remote\/|debug\/bootstrap\.ts$|awsCli\.ts$)/.test(relative(CORE, file).replace(/\\/g, '/'));
}

/** String and template literals of a TypeScript source, comments dropped. */
function literals(source: string): string[] {
  const withoutComments = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
  return [...withoutComments.matchAll(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`/g)].map((m) => m[0]);
}

function frontEndWordsIn(text: string): string | undefined {
  const withoutAwsCli = text.replace(/\\?`aws [^`\\]*\\?`/g, '').replace(/`aws sso login\$\{[^}]*\}\\?`/g, '');
  return FRONT_END_WORDS.exec(withoutAwsCli)?.[0];
}

/**
 * Being split into modules by issue 15.1 at the same time (another branch owns them): their few
 * messages are worded neutrally once that lands. Nothing else may join this list.
 */
const AWAITING_RUN_LOOP_SPLIT = new Set<string>([]);

test('no string in core (outside the instance-side programs) names a CLI flag, an ec2-runner command or a setting', () => {
  const found: string[] = [];
  for (const file of sourceFiles(CORE)) {
    if (isInstanceSide(file) || AWAITING_RUN_LOOP_SPLIT.has(relative(ROOT, file).replace(/\\/g, '/'))) continue;
    for (const literal of literals(readFileSync(file, 'utf8'))) {
      const word = frontEndWordsIn(literal);
      if (word) found.push(`${relative(ROOT, file)}: ${word.trim()} in ${literal.slice(0, 120)}`);
    }
  }
  assert.deepEqual(found, []);
});

test('the grep sees what it must: flags, commands and settings in a literal, not in comments', () => {
  assert.deepEqual(literals("// pass --bucket\nconst a = 'pass --bucket'; /* ec2-runner x */"), ["'pass --bucket'"]);
  for (const text of ['pass --bucket X', 'see `ec2-runner instances`', 'set ec2Runner.bucket', '(--no-deps)'])
    assert.ok(frontEndWordsIn(text), text);
  for (const text of ['run `aws sso login --profile dev`', 'a --> b', 'ec2-runner-123-us-east-1', 'x--y'])
    assert.equal(frontEndWordsIn(text), undefined, text);
});

test('the engine errors mapped from AWS say what to do without naming a front end; each front end words it its way', () => {
  const named = (name: string, message = name) => Object.assign(new Error(message), { name });
  const cases: Array<[unknown, object]> = [
    [named('NoSuchBucket', 'The specified bucket does not exist'), { bucket: 'b' }],
    [named('CredentialsProviderError', 'Could not load credentials from any providers'), {}],
    [named('RegionMissing', 'Region is missing'), {}],
    [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), { endpointUrl: 'http://127.0.0.1:1' }],
    [named('InvalidInstanceId', 'Instances not in a valid state'), {}],
    [named('InvalidCommandId'), {}],
    [named('KMS.NotFoundException', 'Invalid keyId'), { kmsKeyId: 'alias/x' }],
  ];
  for (const [raw, context] of cases) {
    const error = toRunnerError(raw, context);
    assert.equal(frontEndWordsIn(error.message), undefined, error.message);
    assert.ok(error.advice, `${error.code} carries neutral advice`);
    assert.ok(error.message.startsWith(error.problem), error.code);
    const cli = cliMessage(error);
    const editor = messageWithAdvice(error, EXTENSION_ADVICE);
    assert.ok(cli.startsWith(error.problem) && editor.startsWith(error.problem), error.code);
    assert.ok(
      error.code in CLI_ADVICE && error.code in EXTENSION_ADVICE,
      `${error.code} has a wording in both front ends`,
    );
    assert.match(cli, /--[a-z]|`ec2-runner /, `CLI: ${cli}`);
    assert.doesNotMatch(editor, /(^|\s|\()--(?!profile)[a-z]|ec2-runner [a-z]/, `extension: ${editor}`);
  }
});

test("a front end keeps the engine's message when it has no advice of its own, and a foreign error's message as it is", () => {
  const error = new RunnerError('Something failed', 'SomethingElse', { advice: 'retry.' });
  assert.equal(error.message, 'Something failed: retry.');
  assert.equal(cliMessage(error), 'Something failed: retry.');
  assert.equal(cliMessage(new Error('plain')), 'plain');
  const noNeutral = new RunnerError('Something failed.', 'NoSuchBucket', { data: { isDefault: true } });
  assert.match(cliMessage(noNeutral), /^Something failed\. create it with `ec2-runner bucket create`/);
});
