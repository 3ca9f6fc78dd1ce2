// The layers (ARCHITECTURE.md) are guarded by eslint.config.mjs: an import that crosses a layer is a
// lint error, and `npm test` runs the lint. This checks the rules themselves on imports placed in
// each room, so a config change that stops guarding a layer fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ESLint } from 'eslint';

const ROOT = join(__dirname, '..', '..', '..');
const eslint = new ESLint({ cwd: ROOT });

async function restrictedImports(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${source}\nexport {};\n`, { filePath: join(ROOT, file) });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const cases: Array<[string, string, boolean]> = [
  ['src/core/x.ts', "import 'vscode';", false],
  ['src/core/session/x.ts', "import { main } from '../../cli/main';", false],
  ['src/core/x.ts', "import { activate } from '../extension/extension';", false],
  ['src/core/x.ts', "import { startSandbox } from '../sandbox/index';", false],
  ['src/core/x.ts', "import { RUN_DOCUMENT } from './awsLimits';", true],
  ['src/sandbox/x.ts', "import { createEngine } from '../core/engine';", false],
  ['src/sandbox/x.ts', "import { RunnerError } from '../core';", false],
  ['src/sandbox/x.ts', "import 'vscode';", false],
  ['src/sandbox/x.ts', "import { main } from '../cli/main';", false],
  ['src/sandbox/x.ts', "import { REGION_PATTERN } from '../core/awsLimits';", true],
  ['src/sandbox/x.ts', "import { encodeMessage } from '../core/session/message';", true],
  ['src/extension/x.ts', "import type { Engine } from '../core/api';", false],
  ['src/extension/x.ts', "import { isTerminalStatus } from '../core/outcome';", false],
  ['src/extension/x.ts', "import { startSandbox } from '../sandbox/index';", false],
  ['src/extension/x.ts', "import type { Sandbox } from '../sandbox/index';", true],
  ['src/extension/x.ts', "import { RunnerError, type Engine } from '../core/frontEnd';", true],
  ['src/extension/x.ts', "import * as vscode from 'vscode';", true],
  ['src/cli/x.ts', "import 'vscode';", false],
  ['src/cli/x.ts', "import { activate } from '../extension/extension';", false],
  ['src/cli/x.ts', "import { createEngine } from '../core';", true],
];

for (const [file, source, allowed] of cases) {
  test(`${file}: ${source} is ${allowed ? 'allowed' : 'a lint error'}`, async () => {
    const messages = await restrictedImports(file, source);
    if (allowed) assert.deepEqual(messages, []);
    else assert.equal(messages.length, 1, `expected one no-restricted-imports error, got ${JSON.stringify(messages)}`);
  });
}
