#!/usr/bin/env node
// npm run test:e2e: the real-VS Code suites.
//   1. install Node 24 + code-server once (cached outside the repo, see install.mjs)
//   2. npm run build, compile, package (the extension's VSIX)
//   3. the extension-host suites inside code-server (host-suites.mjs)
//   4. the Playwright UI tests (test/e2e/ui/*.test.mjs, node:test)
// Flags: --skip-build (reuse dist/, out/ and the VSIX), --only=host | --only=ui,
// --fresh-cache (install into a new empty cache first, as on a fresh machine, and run the suites on that
// install; see fresh-install.mjs; the folder is removed afterwards).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freshInstall } from './fresh-install.mjs';
import { ensureInstalled } from './install.mjs';
import { buildExtension } from './harness/build.mjs';
import { installCleanupHandlers, leftoverProcesses } from './harness/processes.mjs';
import { findExtensionVsix, repoRoot } from './harness/stack.mjs';
import { runHostSuites } from './host-suites.mjs';

const args = process.argv.slice(2);
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const skipBuild = args.includes('--skip-build');
const freshCache = args.includes('--fresh-cache');
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

function runUiTests() {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--test', '--test-concurrency=1', path.join('test', 'e2e', 'ui')], {
      cwd: repoRoot,
      stdio: 'inherit',
    });
    child.on('exit', (code) => resolve({ ok: code === 0, durationMs: Date.now() - started }));
  });
}

async function main() {
  installCleanupHandlers();
  const started = Date.now();
  const timings = [];
  const time = async (label, fn) => {
    const t = Date.now();
    const value = await fn();
    timings.push(`${label} ${seconds(Date.now() - t)}`);
    return value;
  };
  const results = {};
  if (freshCache) {
    const label = 'fresh-cache install (install.mjs under npm run)';
    try {
      const fresh = await time('fresh install', () => freshInstall());
      results[label] = { ok: true };
      process.env.EC2_RUNNER_E2E_CACHE = fresh.root; // the suites below run on the fresh install
      process.once('exit', () => fs.rmSync(fresh.root, { recursive: true, force: true }));
    } catch (error) {
      console.error(error.message);
      results[label] = { ok: false };
    }
  }
  await time('install', () => ensureInstalled());
  const vsix = skipBuild ? findExtensionVsix() : await time('build', () => buildExtension());
  console.log(`[e2e] extension VSIX: ${path.relative(repoRoot, vsix)}`);

  if (!only || only === 'host')
    results['extension-host suites (code-server)'] = await time('host suites', () => runHostSuites({ vsix }));
  if (!only || only === 'ui') results['UI tests (Playwright)'] = await time('UI tests', () => runUiTests());

  const left = leftoverProcesses();
  if (left.length > 0) results['no process left behind'] = { ok: false };
  console.log('\n[e2e] summary');
  for (const [name, { ok }] of Object.entries(results)) console.log(`[e2e]   ${ok ? 'pass' : 'FAIL'}  ${name}`);
  for (const p of left) console.log(`[e2e]   left behind: ${p.pid} ${p.cmdline}`);
  console.log(`[e2e] timings: ${timings.join(', ')}; total ${seconds(Date.now() - started)}`);
  const ok = Object.values(results).every((r) => r.ok);
  console.log(ok ? '[e2e] all real-VS Code suites passed' : '[e2e] FAILED (logs and screenshots in .e2e-artifacts/)');
  process.exitCode = ok ? 0 : 1;
}

main().catch((error) => {
  console.error(`[e2e] ${error.stack ?? error}`);
  process.exitCode = 1;
});
