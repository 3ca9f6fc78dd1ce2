// What a user does in the VS Code workbench, as playwright-core steps. Every wait is bounded and
// waits for something visible (text, a row, a menu item), never a fixed sleep.
// Context menus and some widgets live in shadow roots; Playwright's CSS locators pierce open ones.

export const STEP_TIMEOUT_MS = 30_000;

const quickInput = (page) => page.locator('.quick-input-widget');
const quickInputBox = (page) => page.locator('.quick-input-widget .quick-input-box input');
const quickInputRows = (page) => page.locator('.quick-input-widget .quick-input-list .monaco-list-row');

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** F1, type the command's title, pick the row with exactly that title. */
export async function runFromPalette(page, title) {
  await page.keyboard.press('F1');
  await quickInputBox(page).waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  await quickInputBox(page).fill(`>${title}`);
  const row = quickInputRows(page).filter({
    has: page.locator('.quick-input-list-label', { hasText: new RegExp(`^${escapeRegExp(title)}$`) }),
  });
  await row.first().waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  // The list re-renders while the palette gathers commands (a click can wait for a row that is never
  // "stable"): the row already focused is taken with Enter, as a user would.
  if (await row.first().evaluate((el) => el.classList.contains('focused'))) await page.keyboard.press('Enter');
  else await row.first().click();
}

/** Quick Open (F1 without the '>'), type the file name, open it, wait for its editor tab. */
export async function openFile(page, fileName) {
  await page.keyboard.press('F1');
  await quickInputBox(page).waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  await quickInputBox(page).fill(fileName);
  const row = quickInputRows(page).filter({ hasText: fileName });
  await row.first().waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  await row.first().click();
  await activeEditorTab(page, fileName).waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
}

export function activeEditorTab(page, fileName) {
  return page.locator(`.part.editor .tab.active[data-resource-name="${fileName}"]`);
}

/** The rendered line of the active text editor that contains `text` (a string without spaces, or a RegExp). */
function editorLine(page, text) {
  return page
    .locator('.part.editor .editor-group-container.active .monaco-editor .view-lines .view-line', { hasText: text })
    .first();
}

/**
 * Right-click in the active text editor and choose `item` from its context menu. With `onLine`, the
 * click lands at the start of the line showing that text (inside a selection there, which a
 * right-click elsewhere would collapse).
 */
export async function editorContextMenu(page, item, { onLine } = {}) {
  if (onLine) {
    const line = editorLine(page, onLine);
    await line.waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
    await line.click({ button: 'right', position: { x: 20, y: 5 } });
  } else {
    const text = page.locator('.part.editor .editor-instance .monaco-editor .view-lines').first();
    await text.waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
    await text.click({ button: 'right', position: { x: 200, y: 10 } });
  }
  await chooseMenuItem(page, item);
}

/**
 * Selects `count` whole lines of the active editor, from the line showing `fromLine`; waits until the status bar counts
 * the selection.
 */
export async function selectLines(page, fromLine, count) {
  const line = editorLine(page, fromLine);
  await line.waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  await line.click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('Home');
  for (let i = 0; i < count; i++) await page.keyboard.press('Shift+ArrowDown');
  await statusBarItem(page, /\(\d+ selected\)/)
    .first()
    .waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
}

/** Chooses `item` from the open context menu. */
async function chooseMenuItem(page, item) {
  const entry = page.locator('.monaco-menu .action-item .action-label', {
    hasText: new RegExp(`^${escapeRegExp(item)}$`),
  });
  await entry.first().waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  await entry.first().click();
  // Seen in CI: the workbench sometimes drops a click that lands right as the menu opens (the item
  // is highlighted, the menu stays). The highlighted item then takes Enter, as it would for a person.
  await entry
    .first()
    .waitFor({ state: 'hidden', timeout: 3_000 })
    .catch(async () => {
      await entry.first().hover();
      await page.keyboard.press('Enter');
      await entry.first().waitFor({ state: 'hidden', timeout: STEP_TIMEOUT_MS });
    });
}

/** The open quick pick's rows as their visible text, once at least one row is shown. */
export async function quickPickRows(page) {
  await quickInputRows(page).first().waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  return quickInputRows(page).allInnerTexts();
}

export async function pickQuickPickRow(page, text) {
  const row = quickInputRows(page).filter({ hasText: text });
  await row.first().waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  await row.first().click();
  await quickInput(page).waitFor({ state: 'hidden', timeout: STEP_TIMEOUT_MS });
}

/** Closes the quick input if one is open (Escape, as a person would). */
export async function dismissQuickInput(page) {
  if (!(await quickInput(page).isVisible())) return;
  await page.keyboard.press('Escape');
  await quickInput(page).waitFor({ state: 'hidden', timeout: STEP_TIMEOUT_MS });
}

/**
 * Records the title of every quick input the workbench shows from now on, however briefly; resolves to a function
 * that waits until one titled `title` has been seen. For a quick pick that something else may close at once: VS Code
 * closes one opened from a walkthrough button when its step takes the focus back (seen in CI, one run in five).
 */
export async function recordQuickInputTitles(page) {
  await page.evaluate(() => {
    const seen = (window.__quickInputTitlesSeen = []);
    const note = () => {
      const widget = document.querySelector('.quick-input-widget');
      const title = widget?.querySelector('.quick-input-title')?.textContent ?? '';
      if (widget && widget.style.display !== 'none' && title && !seen.includes(title)) seen.push(title);
    };
    window.__quickInputTitlesObserver = new window.MutationObserver(note);
    window.__quickInputTitlesObserver.observe(document.body, { subtree: true, childList: true, attributes: true });
  });
  return async (title) => {
    try {
      await page.waitForFunction((t) => window.__quickInputTitlesSeen.includes(t), title, { timeout: STEP_TIMEOUT_MS });
    } catch (error) {
      const seen = await page.evaluate(() => window.__quickInputTitlesSeen);
      throw new Error(`no quick input titled "${title}" was shown; seen: ${JSON.stringify(seen)}`, { cause: error });
    } finally {
      // It watches every change to the workbench's DOM: only for as long as it is needed.
      await page.evaluate(() => window.__quickInputTitlesObserver.disconnect());
    }
  };
}

/** Types into the open input box (e.g. "Run Command on EC2…") and presses Enter. */
export async function answerInputBox(page, text) {
  await quickInputBox(page).waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  await quickInputBox(page).fill(text);
  await page.keyboard.press('Enter');
}

/** Opens a view container from the activity bar by its title. */
export async function openActivityBarView(page, title, timeoutMs = STEP_TIMEOUT_MS) {
  const item = page.locator(
    `.part.activitybar .action-item [aria-label^="${title}"], .part.activitybar .action-item[aria-label^="${title}"]`,
  );
  await item.first().waitFor({ state: 'visible', timeout: timeoutMs });
  await item.first().click();
}

function sidebarPane(page, viewTitle) {
  return page.locator('.part.sidebar .pane', { has: page.locator('.pane-header', { hasText: viewTitle }) });
}

/** Rows of a sidebar tree view whose pane header is `viewTitle`: visible label text and aria-label. */
export async function treeRows(page, viewTitle, timeoutMs = STEP_TIMEOUT_MS) {
  const rows = sidebarPane(page, viewTitle).locator('.monaco-list-row');
  await rows.first().waitFor({ state: 'visible', timeout: timeoutMs });
  return rows.evaluateAll((elements) =>
    elements.map((e) => ({
      text: e.innerText.replace(/\s+/g, ' ').trim(),
      ariaLabel: e.getAttribute('aria-label') ?? '',
    })),
  );
}

/**
 * Clicks the inline action `actionTitle` (an icon shown while the pointer is over the row) of the row
 * showing `rowText` in the sidebar view `viewTitle`. Waits for the action: it appears only once the
 * item's state allows it (its `when` clause).
 */
export async function treeItemInlineAction(page, viewTitle, rowText, actionTitle, timeoutMs = STEP_TIMEOUT_MS) {
  const row = sidebarPane(page, viewTitle).locator('.monaco-list-row', { hasText: rowText }).first();
  await row.waitFor({ state: 'visible', timeout: timeoutMs });
  await row.hover();
  const action = row.locator(`.actions .action-label[aria-label^="${actionTitle}"]`);
  await action.waitFor({ state: 'visible', timeout: timeoutMs });
  await action.click();
}

/** The rendered (visible) lines of the first editor matching `selector`, in line order. */
function renderedLines(page, selector) {
  return page.evaluate((editorSelector) => {
    const editor = document.querySelector(editorSelector);
    if (!editor) return '';
    const lines = [...editor.querySelectorAll('.view-lines .view-line')];
    lines.sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top));
    return lines.map((line) => line.textContent.replace(/\u00a0/g, ' ')).join('\n');
  }, selector);
}

/** The text the Output panel shows now (only the rendered, i.e. visible, lines), in line order. */
export function visibleOutput(page) {
  return renderedLines(page, '.part.panel .output-view .monaco-editor, .part.panel .monaco-editor');
}

/** The text the active editor shows now (its rendered lines). */
export function activeEditorText(page) {
  return renderedLines(page, '.part.editor .editor-group-container.active .monaco-editor');
}

/** The channel the Output panel shows (its channel picker's value). */
export async function selectedOutputChannel(page) {
  return page.evaluate(() => {
    const select = document.querySelector('.part.panel select.monaco-select-box');
    return select ? (select.options[select.selectedIndex]?.text ?? '') : '';
  });
}

/** Polls `read()` until `expected` (a RegExp, or a function of the text) matches; returns the match. */
async function waitForText(read, expected, timeoutMs, where) {
  const check = typeof expected === 'function' ? expected : (text) => text.match(expected);
  const deadline = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < deadline) {
    text = await read().catch(() => ''); // the page may be navigating (reload)
    const match = check(text);
    if (match) return match;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${where} never showed ${expected} within ${timeoutMs} ms; it shows:\n${text.slice(-2000)}`);
}

/**
 * Polls the Output panel until `expected` (a RegExp, or a function of the text returning a truthy
 * value) matches its visible text; returns the match. Survives a window reload in between.
 */
export function waitForOutput(page, expected, timeoutMs = STEP_TIMEOUT_MS) {
  return waitForText(() => visibleOutput(page), expected, timeoutMs, 'Output panel');
}

/** Polls the active editor until its visible text is exactly `expected`. */
export function waitForEditorText(page, expected, timeoutMs = STEP_TIMEOUT_MS) {
  return waitForText(
    () => activeEditorText(page),
    (text) => text === expected,
    timeoutMs,
    'The active editor',
  );
}

/**
 * The first lines of the Output panel: scrolls its editor to the top (Ctrl+Home), reads what is
 * shown, then returns to the end (Ctrl+End) so the panel follows new output again.
 */
export async function outputTop(page) {
  // Click near the editor's top-left corner: .view-lines spans all lines, so its centre can lie
  // outside the panel.
  const editor = page.locator('.part.panel .monaco-editor').first();
  await editor.click({ position: { x: 60, y: 10 }, timeout: STEP_TIMEOUT_MS });
  await page.keyboard.press('Control+Home');
  // Scrolled to the top when the vertical scrollbar's slider is at 0 (no slider: all lines fit).
  await page.waitForFunction(
    () => {
      const slider = document.querySelector('.part.panel .monaco-editor .scrollbar.vertical .slider');
      return !slider || parseFloat(slider.style.top || '0') === 0;
    },
    undefined,
    { timeout: STEP_TIMEOUT_MS },
  );
  const top = await visibleOutput(page);
  await page.keyboard.press('Control+End');
  return top;
}

/** Runs "Developer: Reload Window" and waits for the new workbench to render. */
export async function reloadWindow(page, timeoutMs) {
  const navigated = page.waitForEvent('framenavigated', {
    predicate: (frame) => frame === page.mainFrame(),
    timeout: timeoutMs,
  });
  await runFromPalette(page, 'Developer: Reload Window');
  await navigated;
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: timeoutMs });
}

/** The Output panel's "Clear Output" toolbar button, so the next checks see only the next run. */
export async function clearOutput(page) {
  await page
    .locator('.part.panel .action-label[aria-label="Clear Output"]')
    .first()
    .click({ timeout: STEP_TIMEOUT_MS });
  await waitForOutput(page, (text) => text.trim() === '');
}

export function statusBarItem(page, text) {
  return page.locator('.part.statusbar .statusbar-item', { hasText: text });
}

/** The terminal shown in the panel, row by row (xterm's DOM renderer: terminal.integrated.gpuAcceleration off). */
export function visibleTerminal(page) {
  return page.evaluate(() => {
    const shown = [...document.querySelectorAll('.part.panel .xterm-rows')].find((rows) => rows.offsetParent !== null);
    if (!shown) return '';
    return [...shown.children].map((row) => row.textContent.replace(/\u00a0/g, ' ').trimEnd()).join('\n');
  });
}

/** The number of rows the panel's terminal shows (its size in lines). */
export function terminalRowCount(page) {
  return page.evaluate(
    () =>
      [...document.querySelectorAll('.part.panel .xterm-rows')].find((rows) => rows.offsetParent !== null)?.children
        .length ?? 0,
  );
}

/** Polls the panel's terminal until `expected` (a RegExp, or a function of its text) matches. */
export function waitForTerminal(page, expected, timeoutMs = STEP_TIMEOUT_MS) {
  return waitForText(() => visibleTerminal(page), expected, timeoutMs, 'Terminal');
}

/**
 * The panel terminal's text run that shows `text` with the xterm class `className` (a colour such as xterm-fg-2, or
 * xterm-bold).
 */
export function terminalSpan(page, className, text) {
  return page.locator(`.part.panel .xterm-rows span.${className}`, { hasText: text });
}

/**
 * Sets a user setting of enum type as a person does: the Settings editor filtered to `key`, its
 * drop-down, the option `value`; waits until the Settings editor says the value is stored, then
 * closes the editor. `isDefault`: `value` is the setting's default, which VS Code stores by removing
 * the key (the row then loses its "modified" mark instead of gaining it).
 */
export async function chooseSettingValue(page, key, value, { isDefault = false } = {}) {
  await runFromPalette(page, 'Preferences: Open Settings (UI)');
  const search = page.locator('.settings-editor .search-container .monaco-editor').first();
  await search.waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  await search.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.type(key);
  // The filter applies after a moment: until then the first drop-down is a "Commonly Used" one. Take the
  // row whose title is the key's (ec2Runner.runIn → "Run In").
  const title = key
    .split('.')
    .pop()
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/^./, (c) => c.toUpperCase());
  const row = page
    .locator('.settings-editor .setting-item-enum', { has: page.locator('.setting-item-title', { hasText: title }) })
    .first();
  const select = row.locator('select');
  await select.waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  if ((await select.inputValue()) !== value) {
    await select.click();
    const option = page.locator('.monaco-select-box-dropdown-container .monaco-list-row', {
      hasText: new RegExp(`^${escapeRegExp(value)}`),
    });
    await option.first().waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
    await option.first().click();
  }
  await waitForText(
    () => select.inputValue(),
    (text) => text === value,
    STEP_TIMEOUT_MS,
    `Setting ${key}`,
  );
  // The Settings editor writes a change 200 ms after it (debounced), and closing the editor sooner drops
  // the change: VS Code 1.139 shows Settings as a modal that Escape closes. So wait until the row shows
  // the value as stored (the "modified" mark, class is-configured, follows the written configuration).
  await row.locator(`.setting-item-contents${isDefault ? ':not(.is-configured)' : '.is-configured'}`).waitFor({
    state: 'visible',
    timeout: STEP_TIMEOUT_MS,
  });
  // The drop-down (or its hover) may still hold the keyboard: Escape first, then close the Settings editor.
  await page.keyboard.press('Escape');
  const editor = page.locator('.settings-editor').first();
  if (await editor.isVisible()) await runFromPalette(page, 'View: Close Editor');
  await editor.waitFor({ state: 'hidden', timeout: STEP_TIMEOUT_MS });
}

/** "Welcome: Open Walkthrough...", then the walkthrough titled `title` from the quick pick. */
export async function openWalkthrough(page, title) {
  await runFromPalette(page, 'Welcome: Open Walkthrough...');
  await pickQuickPickRow(page, title);
}

const walkthroughStep = (page, title) =>
  page.locator('.part.editor button.getting-started-step', {
    has: page.locator('.step-title', { hasText: new RegExp(`^${escapeRegExp(title)}$`) }),
  });

/** The open walkthrough's steps once `count` are shown: title and whether it is checked off. */
export async function walkthroughSteps(page, count) {
  const steps = page.locator('.part.editor button.getting-started-step');
  await steps.nth(count - 1).waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  return steps.evaluateAll((buttons) =>
    buttons.map((b) => ({
      title: b.querySelector('.step-title')?.textContent.trim() ?? '',
      done: b.getAttribute('aria-checked') === 'true',
    })),
  );
}

/** Waits until the walkthrough step titled `stepTitle` is expanded and shows its button `label`. */
export async function walkthroughStepButtonVisible(page, stepTitle, label) {
  await walkthroughStep(page, stepTitle).first().waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  await page
    .locator('.part.editor .getting-started-step.expanded .monaco-button', {
      hasText: new RegExp(`^${escapeRegExp(label)}$`),
    })
    .first()
    .waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
}

/** Expands the walkthrough step titled `stepTitle` and clicks its button `label`. */
export async function clickWalkthroughStepButton(page, stepTitle, label) {
  const step = walkthroughStep(page, stepTitle).first();
  await step.waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  await step.click();
  await walkthroughStepButtonVisible(page, stepTitle, label);
  await page
    .locator('.part.editor .getting-started-step.expanded .monaco-button', {
      hasText: new RegExp(`^${escapeRegExp(label)}$`),
    })
    .first()
    .click();
}

/** Waits until the walkthrough step titled `stepTitle` is shown checked off. */
export async function walkthroughStepChecked(page, stepTitle, timeoutMs = STEP_TIMEOUT_MS) {
  await page
    .locator('.part.editor button.getting-started-step[aria-checked="true"]', {
      has: page.locator('.step-title', { hasText: new RegExp(`^${escapeRegExp(stepTitle)}$`) }),
    })
    .first()
    .waitFor({ state: 'visible', timeout: timeoutMs });
}
