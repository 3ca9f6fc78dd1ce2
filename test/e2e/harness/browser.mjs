// Debian's Chromium driven by playwright-core (no browser download: `npx playwright install`
// cannot work on these machines). The flags keep it headless and off the network.
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { RUN_MARKER_VARIABLE, runMarker } from './processes.mjs';

export const CHROMIUM_PATH = process.env.E2E_CHROMIUM || '/usr/bin/chromium';
const WORKBENCH_READY_MS = 90_000;

export async function launchBrowser() {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `${CHROMIUM_PATH} not found: install Debian's chromium (apt-get install -y chromium) or set E2E_CHROMIUM`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // Marked like the other processes so leftoverProcesses() sees a browser that outlived the run.
    env: { ...process.env, [RUN_MARKER_VARIABLE]: runMarker },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * Opens the workbench for `workbenchUrl` and waits until it is rendered. Tall, so the Output panel
 * shows a whole short run. With `consoleLog`, the page's console messages and errors go to that file.
 */
export async function openWorkbench(browser, workbenchUrl, consoleLog) {
  // Clipboard permissions: without them a headless page leaves VS Code's clipboard calls pending.
  const context = await browser.newContext({
    viewport: { width: 1440, height: 1200 },
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  const page = await context.newPage();
  if (consoleLog) {
    const log = (line) => fs.appendFileSync(consoleLog, `${new Date().toISOString()} ${line}\n`);
    page.on('console', (message) => log(`[${message.type()}] ${message.text()}`));
    page.on('pageerror', (error) => log(`[pageerror] ${error.stack ?? error}`));
  }
  // Wait for the rendered workbench, not the page's load event: on a busy machine loading every
  // script of the workbench can take longer than Playwright's default 30 s navigation timeout.
  await page.goto(workbenchUrl, { waitUntil: 'commit', timeout: WORKBENCH_READY_MS });
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: WORKBENCH_READY_MS });
  return page;
}

export async function saveScreenshot(page, dir, name) {
  const file = path.join(dir, `${name.replace(/[^\w.-]+/g, '_')}.png`);
  try {
    await page.screenshot({ path: file, fullPage: true, timeout: 30_000 });
    return file;
  } catch (error) {
    console.error(`[e2e] screenshot ${file} failed: ${error.message}`);
    return undefined;
  }
}
