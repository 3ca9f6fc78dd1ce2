// Runs the extension-host suites (out/test/extension/index.js run()) inside code-server's real
// extension host: the test-only host-runner extension is installed next to the extension under
// test, activates on startup, runs the suites and writes a results file that we wait for.
// The extension host starts only when a workbench page connects, so a headless Chromium opens it.
// Usage (after npm run build, compile, package): node test/e2e/host-suites.mjs
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser, openWorkbench, saveScreenshot } from './harness/browser.mjs';
import { copyFixtureWorkspace, packageHostRunner, suitesEntry } from './harness/build.mjs';
import { installCleanupHandlers, leftoverProcesses } from './harness/processes.mjs';
import { findExtensionVsix, startStack, waitFor } from './harness/stack.mjs';

const SUITES_TIMEOUT_MS = Number(process.env.E2E_SUITES_TIMEOUT_MS || 10 * 60_000);

export async function runHostSuites({ vsix = findExtensionVsix() } = {}) {
  const started = Date.now();
  if (!fs.existsSync(suitesEntry)) {
    console.error(`[e2e] extension-host suites: ${suitesEntry} is missing; run npm run compile`);
    return { ok: false, durationMs: 0 };
  }
  const resultsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ec2-runner-e2e-results-'));
  const resultsFile = path.join(resultsDir, 'results.json');
  let stack;
  let browser;
  let page;
  let ok = false;
  try {
    const hostRunnerVsix = await packageHostRunner(resultsDir);
    stack = await startStack({
      label: 'host-suites',
      vsixes: [vsix, hostRunnerVsix],
      createWorkspace: copyFixtureWorkspace,
      extraEnv: {
        EC2_RUNNER_E2E_SUITES: suitesEntry,
        EC2_RUNNER_E2E_RESULTS: resultsFile,
        // The extension hands out its test API only under test (src/extension/extension.ts).
        EC2_RUNNER_TEST_API: '1',
      },
    });
    browser = await launchBrowser();
    page = await openWorkbench(
      browser,
      stack.codeServer.workbenchUrl,
      path.join(stack.artifacts, 'browser-console.log'),
    );
    console.log(`[e2e] host suites: workbench open, waiting for results (up to ${SUITES_TIMEOUT_MS / 1000} s)`);
    const result = await waitFor(
      'the extension-host suites to finish (see .e2e-artifacts/host-suites/code-server.log)',
      () => fs.existsSync(resultsFile) && JSON.parse(fs.readFileSync(resultsFile, 'utf8')),
      SUITES_TIMEOUT_MS,
      500,
    );
    const report = formatReport(result);
    process.stdout.write(report);
    fs.writeFileSync(path.join(stack.artifacts, 'suites.log'), report);
    // No test at all means the suites did not load what they should: that is a failure too.
    ok = result.ok && result.tests.length > 0 && result.tests.every((t) => t.state === 'passed');
  } catch (error) {
    console.error(`[e2e] extension-host suites could not run: ${error.stack ?? error}`);
  } finally {
    if (page && !ok) await saveScreenshot(page, stack.artifacts, 'host-suites-failure');
    await browser?.close();
    await stack?.stop();
    fs.rmSync(resultsDir, { recursive: true, force: true });
  }
  const left = leftoverProcesses();
  if (left.length > 0) {
    console.error(`[e2e] processes left behind:\n${left.map((p) => `  ${p.pid} ${p.cmdline}`).join('\n')}`);
    ok = false;
  }
  const durationMs = Date.now() - started;
  console.log(
    `[e2e] extension-host suites in code-server: ${ok ? 'passed' : 'FAILED'} in ${(durationMs / 1000).toFixed(1)} s`,
  );
  return { ok, durationMs };
}

function formatReport({ ok, error, tests, durationMs }) {
  const mark = { passed: '✔', failed: '✖', pending: '-' };
  const lines = tests.map((t) => `  ${mark[t.state]} ${t.title}${t.durationMs ? ` (${t.durationMs} ms)` : ''}`);
  for (const t of tests.filter((t) => t.state === 'failed')) lines.push('', `  ✖ ${t.title}`, `    ${t.error}`);
  const count = (state) => tests.filter((t) => t.state === state).length;
  lines.push(
    '',
    `  ${count('passed')} passing, ${count('failed')} failing, ${count('pending')} pending (${durationMs} ms ` +
      `in the extension host)`,
  );
  if (!ok && error) lines.push(`  run() failed: ${error}`);
  if (tests.length === 0) lines.push('  no test ran: check that out/test/extension/index.js loads the compiled suites');
  return lines.join('\n') + '\n';
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  installCleanupHandlers();
  runHostSuites().then(({ ok }) => process.exit(ok ? 0 : 1));
}
