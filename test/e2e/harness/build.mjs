// Builds what the e2e runs load: the bundles (dist/), the compiled extension-host suites (out/),
// the extension's VSIX (npm run package), and the test-only host-runner VSIX.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot, findExtensionVsix } from './stack.mjs';

const execFileAsync = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

export const fixtureWorkspace = path.join(repoRoot, 'test', 'e2e', 'fixtures', 'workspace');
export const suitesEntry = path.join(repoRoot, 'out', 'test', 'extension', 'index.js');
const hostRunnerDir = path.join(repoRoot, 'test', 'e2e', 'host-runner');

async function step(label, command, args, cwd = repoRoot) {
  const started = Date.now();
  try {
    await execFileAsync(command, args, { cwd, maxBuffer: 64 * 1024 * 1024, timeout: 600_000 });
  } catch (error) {
    throw new Error(`${label} failed (${command} ${args.join(' ')}):\n${error.stdout ?? ''}${error.stderr ?? ''}`);
  }
  console.log(`[e2e] ${label}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** npm run build + compile + package; returns the extension's VSIX. */
export async function buildExtension() {
  await step('npm run build', npm, ['run', 'build']);
  await step('npm run compile', npm, ['run', 'compile']);
  await step('npm run package', npm, ['run', 'package']);
  return findExtensionVsix();
}

/** Packs test/e2e/host-runner into `outDir`/e2e-host-runner.vsix. */
export async function packageHostRunner(outDir) {
  const out = path.join(outDir, 'e2e-host-runner.vsix');
  const vsce = path.join(repoRoot, 'node_modules', '@vscode', 'vsce', 'vsce');
  await step(
    'package host-runner',
    process.execPath,
    [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '--out', out],
    hostRunnerDir,
  );
  return out;
}

/** Copies the fixture workspace (hello.py, fail.py, long.py, reload.py) into `dir`. */
export function copyFixtureWorkspace(dir) {
  fs.cpSync(fixtureWorkspace, dir, { recursive: true });
}
