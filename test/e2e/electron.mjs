#!/usr/bin/env node
// npm run test:electron: the same extension-host suites in desktop VS Code via @vscode/test-electron,
// with the same environment code-server gets in host-suites.mjs (the sandbox's variables).
// @vscode/test-electron downloads VS Code (into .vscode-test/) unless VSCODE_EXECUTABLE names an
// installed one; machines without access to update.code.visualstudio.com (like our CI) must use
// `npm run test:e2e`, which runs these suites in code-server instead. On Linux without a display,
// run it under xvfb-run. Flags: --skip-build.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { buildExtension, copyFixtureWorkspace, suitesEntry } from './harness/build.mjs';
import { installCleanupHandlers } from './harness/processes.mjs';
import { artifactsDir, repoRoot, sandboxEnvironment, startSandbox } from './harness/stack.mjs';

installCleanupHandlers();
if (!process.argv.includes('--skip-build')) await buildExtension();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ec2-runner-electron-'));
const workspace = path.join(dir, 'workspace');
copyFixtureWorkspace(workspace);
const sandbox = await startSandbox({ dir, logFile: path.join(artifactsDir('electron'), 'sandbox.log') });
let exitCode = 1;
try {
  const env = sandboxEnvironment(sandbox.info, dir);
  exitCode = await runTests({
    vscodeExecutablePath: process.env.VSCODE_EXECUTABLE || undefined,
    extensionDevelopmentPath: repoRoot,
    extensionTestsPath: suitesEntry,
    extensionTestsEnv: Object.fromEntries(
      Object.entries(env).filter(([key]) => key.startsWith('AWS_') || key === 'EC2_RUNNER_BUCKET'),
    ),
    launchArgs: [
      workspace,
      '--disable-extensions',
      '--disable-workspace-trust',
      '--user-data-dir',
      path.join(dir, 'user-data'),
      '--extensions-dir',
      path.join(dir, 'extensions'),
    ],
  });
} catch (error) {
  console.error(`[electron] ${error.message ?? error}`);
  if (!process.env.VSCODE_EXECUTABLE) {
    console.error(
      '[electron] could not download VS Code. Set VSCODE_EXECUTABLE=/path/to/code, or run the same suites in ' +
        'code-server: npm run test:e2e',
    );
  }
} finally {
  await sandbox.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
process.exitCode = exitCode;
