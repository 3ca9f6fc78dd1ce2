// UI tests: a person's session with the EC2 Runner extension in code-server (real VS Code 1.139
// workbench, headless Chromium), against the sandbox. The steps share one window and run in order,
// like a user would: the first run picks the instance, later runs reuse it as the default target.
// Needs: node test/e2e/install.mjs, npm run build && npm run package (test/e2e/run.mjs does all).
// On failure the step's screenshot and the sandbox/code-server logs are in .e2e-artifacts/ui/.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launchBrowser, openWorkbench, saveScreenshot } from '../harness/browser.mjs';
import { copyFixtureWorkspace } from '../harness/build.mjs';
import { installCleanupHandlers, leftoverProcesses } from '../harness/processes.mjs';
import { findExtensionVsix, repoRoot, startStack } from '../harness/stack.mjs';
import {
  activeEditorTab,
  answerInputBox,
  clearOutput,
  editorContextMenu,
  openActivityBarView,
  openFile,
  outputTop,
  pickQuickPickRow,
  dismissQuickInput,
  recordQuickInputTitles,
  quickPickRows,
  reloadWindow,
  runFromPalette,
  selectedOutputChannel,
  selectLines,
  statusBarItem,
  STEP_TIMEOUT_MS,
  terminalRowCount,
  terminalSpan,
  treeItemInlineAction,
  treeRows,
  visibleOutput,
  waitForEditorText,
  waitForOutput,
  chooseSettingValue,
  waitForTerminal,
  openWalkthrough,
  clickWalkthroughStepButton,
  walkthroughStepButtonVisible,
  walkthroughStepChecked,
  walkthroughSteps,
} from '../harness/workbench.mjs';

const STACK_TIMEOUT_MS = 180_000;
const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
const settingDefaults = manifest.contributes.configuration.properties;
const walkthrough = manifest.contributes.walkthroughs[0];
/** The first step also waits for the extension host to start and the extension to activate. */
const STARTUP_TIMEOUT_MS = 120_000;
/**
 * A run on the sandbox takes seconds on an idle machine; its scripts run at the lowest CPU priority, so a
 * loaded one needs the margin (seen: 50 s for hello.py).
 */
const RUN_TIMEOUT_MS = 120_000;

installCleanupHandlers({ onUncaughtErrors: false });

describe('EC2 Runner in code-server, as a user', () => {
  let stack;
  let browser;
  let page;
  let online;
  let firstCommandId;

  let firstFailure;

  /**
   * A test step that saves a screenshot when it fails. Steps build on each other (one window), so
   * after a failure the next steps fail at once instead of waiting out their timeouts.
   */
  const step = (name, fn, timeout = 2 * RUN_TIMEOUT_MS) =>
    test(name, { timeout }, async () => {
      if (firstFailure) assert.fail(`not attempted: the earlier step "${firstFailure}" failed`);
      try {
        await fn();
      } catch (error) {
        firstFailure = name;
        if (page) {
          const shot = await saveScreenshot(page, stack.artifacts, `failed-${name}`);
          if (shot) error.message += `\n(screenshot: ${shot})`;
        }
        throw error;
      }
    });

  before(
    async () => {
      // xterm's DOM renderer, so the terminal's text and colours can be read from the page.
      stack = await startStack({
        label: 'ui',
        vsixes: [findExtensionVsix()],
        createWorkspace: copyFixtureWorkspace,
        settings: { 'terminal.integrated.gpuAcceleration': 'off' },
      });
      online = stack.sandbox.info.instances.filter((i) => i.pingStatus === 'Online');
      assert.ok(online.length > 0, 'the sandbox has an Online instance');
      browser = await launchBrowser();
      page = await openWorkbench(
        browser,
        stack.codeServer.workbenchUrl,
        path.join(stack.artifacts, 'browser-console.log'),
      );
    },
    { timeout: STACK_TIMEOUT_MS },
  );

  after(async () => {
    await browser?.close();
    await stack?.stop();
    assert.deepEqual(leftoverProcesses(), [], 'no browser, code-server or sandbox process is left');
  });

  step(
    'the EC2 Runner view lists the sandbox instances with their ping status',
    async () => {
      await openActivityBarView(page, 'EC2 Runner', STARTUP_TIMEOUT_MS);
      let rows = [];
      const deadline = Date.now() + STARTUP_TIMEOUT_MS;
      const everyInstanceShown = () =>
        stack.sandbox.info.instances.every((i) =>
          rows.some((r) => r.text.includes(i.name) && r.ariaLabel.includes(i.pingStatus)),
        );
      while (!everyInstanceShown() && Date.now() < deadline) {
        rows = await treeRows(page, 'Instances', STARTUP_TIMEOUT_MS);
        if (!everyInstanceShown()) await page.waitForTimeout(250);
      }
      assert.ok(
        everyInstanceShown(),
        `Instances rows ${JSON.stringify(rows)} name every sandbox instance with its ping status`,
      );
      const offline = stack.sandbox.info.instances.find((i) => i.pingStatus !== 'Online');
      if (offline)
        assert.match(rows.find((r) => r.text.includes(offline.name)).text, /ConnectionLost|Connection lost|offline/i);
    },
    2 * STARTUP_TIMEOUT_MS,
  );

  step('Run Active File on EC2 from the editor context menu streams output live, then exit code 0', async () => {
    await openFile(page, 'hello.py');
    await editorContextMenu(page, 'Run Active File on EC2');
    const choices = await quickPickRows(page);
    for (const instance of online)
      assert.ok(
        choices.some((c) => c.includes(instance.name)),
        `quick pick offers ${instance.name}: ${choices}`,
      );
    const offline = stack.sandbox.info.instances.filter((i) => i.pingStatus !== 'Online');
    for (const instance of offline)
      assert.ok(!choices.some((c) => c.includes(instance.name)), `quick pick hides ${instance.name}`);
    await pickQuickPickRow(page, online[0].name);

    [, firstCommandId] = await waitForOutput(
      page,
      new RegExp(`\\[Running\\] hello\\.py on ${online[0].name} \\(${online[0].instanceId}\\) · command (\\S+)`),
      RUN_TIMEOUT_MS,
    );
    assert.equal(await selectedOutputChannel(page), 'EC2 Runner');
    await waitForOutput(page, /hello from EC2 Runner, line 2/, RUN_TIMEOUT_MS);
    assert.doesNotMatch(await visibleOutput(page), /\[Done\]/, 'output arrives while the run is still going');
    await waitForOutput(page, /\[Done\] exit code 0 · Success/, RUN_TIMEOUT_MS);
    const text = await visibleOutput(page);
    assert.match(text, /all lines printed/);
    assert.match(text, /^\[stderr\] warning: this line goes to stderr$/m, 'stderr is marked');
    // Kept as the README's picture of the real extension running a file on the sandbox.
    await saveScreenshot(page, stack.artifacts, 'run-active-file');
  });

  step('the status bar item reruns the last run, even with another file active', async () => {
    const item = statusBarItem(page, `hello.py → ${online[0].name}`);
    await item.waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
    // Another file in front: the click must rerun the recorded hello.py, not the active editor's file.
    await openFile(page, 'selection.py');
    await clearOutput(page);
    await item.click();
    const [, commandId] = await waitForOutput(
      page,
      new RegExp(`\\[Running\\] hello\\.py on ${online[0].name} .*· command (\\S+)`),
      RUN_TIMEOUT_MS,
    );
    assert.notEqual(commandId, firstCommandId, 'a new command was sent');
    await waitForOutput(page, /hello from EC2 Runner, line 6/, RUN_TIMEOUT_MS);
    await waitForOutput(page, /\[Done\] exit code 0 · Success/, RUN_TIMEOUT_MS);
    assert.doesNotMatch(
      await visibleOutput(page),
      /selection\.py|before-selection|in-selection/,
      'the active file did not run',
    );
  });

  step('Run Command on EC2… from the command palette', async () => {
    await clearOutput(page);
    await runFromPalette(page, 'EC2 Runner: Run Command on EC2…');
    await answerInputBox(page, 'echo "palette says $((6 * 7))"');
    await waitForOutput(page, /\[Running\] echo "palette says \$\(\(6 \* 7\)\)" on /, RUN_TIMEOUT_MS);
    await waitForOutput(page, /^palette says 42$/m, RUN_TIMEOUT_MS);
    await waitForOutput(page, /\[Done\] exit code 0 · Success/, RUN_TIMEOUT_MS);
  });

  step('a script that exits with 3 shows exit code 3', async () => {
    await clearOutput(page);
    await openFile(page, 'fail.py');
    await editorContextMenu(page, 'Run Active File on EC2');
    await waitForOutput(page, /about to fail with exit code 3/, RUN_TIMEOUT_MS);
    await waitForOutput(page, /\[Done\] exit code 3 · Failed/, RUN_TIMEOUT_MS);
    await statusBarItem(page, /fail\.py → /).waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  });

  step('Run Selection on EC2 from the editor context menu runs only the selected line', async () => {
    await clearOutput(page);
    await openFile(page, 'selection.py');
    await selectLines(page, 'in-selection', 1);
    // The default target was picked by the first run: no quick pick this time.
    await editorContextMenu(page, 'Run Selection on EC2', { onLine: 'in-selection' });
    await waitForOutput(page, /\[Running\] selection: print\("in-selection", 6 \* 7, flush=True\) on /, RUN_TIMEOUT_MS);
    await waitForOutput(page, /\[Done\] exit code 0 · Success/, RUN_TIMEOUT_MS);
    const text = await visibleOutput(page);
    assert.match(text, /^in-selection 42$/m, 'the selected line ran');
    assert.doesNotMatch(text, /before-selection|after-selection/, 'the lines around the selection did not run');
  });

  step('Download Artifacts in the Runs view opens the CSV the script wrote to $EC2_RUNNER_ARTIFACTS', async () => {
    const expectedCsv = 'metric,value\nanswer,42\nsquares,285\n';
    await clearOutput(page);
    await openFile(page, 'make_report.py');
    await editorContextMenu(page, 'Run Active File on EC2');
    await waitForOutput(page, /\[Done\] exit code 0 · Success/, RUN_TIMEOUT_MS);
    assert.match(await visibleOutput(page), /^ {2}report\.csv \(\d+ bytes\)$/m, 'the output lists the artifact');

    await treeItemInlineAction(page, 'Runs', 'make_report.py', 'Download Artifacts');
    await activeEditorTab(page, 'report.csv').waitFor({ state: 'visible', timeout: RUN_TIMEOUT_MS });
    // rendered lines: the last one is the empty line after the final newline
    await waitForEditorText(page, expectedCsv);
    // Saved in the workspace, one fresh folder per run and instance (<commandId>/<instanceId>/).
    const folder = path.join(stack.workspace, '.ec2-runner', 'artifacts');
    const saved = fs
      .readdirSync(folder)
      .flatMap((run) =>
        fs.readdirSync(path.join(folder, run)).map((instance) => path.join(folder, run, instance, 'report.csv')),
      );
    assert.equal(saved.length, 1, `one run's artifacts in ${folder}`);
    assert.equal(fs.readFileSync(saved[0], 'utf8'), expectedCsv);
  });

  step('the stop button in the status bar cancels a long run', async () => {
    await clearOutput(page);
    await openFile(page, 'long.py');
    await editorContextMenu(page, 'Run Active File on EC2');
    await waitForOutput(page, /long tick 3/, RUN_TIMEOUT_MS);
    await page.locator('.part.statusbar .statusbar-item:has(.codicon-debug-stop)').click({ timeout: STEP_TIMEOUT_MS });
    await waitForOutput(page, /\[Done\] .*· Cancelled/, RUN_TIMEOUT_MS);
    assert.doesNotMatch(await visibleOutput(page), /long tick 1200/);
  });

  /** Changes a user setting in the Settings editor, as a person does. */
  const setUserSetting = (key, value) =>
    chooseSettingValue(page, key, value, { isDefault: value === settingDefaults[key]?.default });

  step(
    'with ec2Runner.runIn = terminal a run shows in a terminal: colours, a "\\r" progress line, the exit code',
    async () => {
      await setUserSetting('ec2Runner.runIn', 'terminal');
      await clearOutput(page);
      await openFile(page, 'colors.py');
      await editorContextMenu(page, 'Run Active File on EC2');
      await waitForTerminal(page, /\[Running\] colors\.py on /, RUN_TIMEOUT_MS);
      const text = await waitForTerminal(page, (t) => /\[Done\] exit code 0 · Success/.test(t) && t, RUN_TIMEOUT_MS);
      assert.match(text, /^green ok and bold red$/m, 'the escape codes are rendered, not shown');
      // Each "\r" went back to the line's start: only the last state of the bar is left.
      assert.match(text, /^progress 100%$/m);
      assert.doesNotMatch(
        text,
        /progress +\d+%progress|progress {2}0%/,
        'no earlier state of the bar is left on screen',
      );
      assert.match(text, /^colors done$/m);
      await terminalSpan(page, 'xterm-fg-2', 'green ok')
        .first()
        .waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
      await terminalSpan(page, 'xterm-bold', 'bold red')
        .first()
        .waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
      await statusBarItem(page, /colors\.py → /).waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
      await saveScreenshot(page, stack.artifacts, 'run-in-terminal');
    },
  );

  step("Ctrl+C in the run's terminal cancels the run", async () => {
    await openFile(page, 'long.py');
    await editorContextMenu(page, 'Run Active File on EC2');
    await waitForTerminal(page, /long tick 3/, RUN_TIMEOUT_MS);
    // The run's terminal keeps the editor's focus (preserveFocus): give it the keyboard, as a person does, by
    // clicking into it (the palette's "Terminal: Focus Terminal" row also shows its keybinding in its label).
    await page.locator('.part.panel .xterm-screen').first().click({ timeout: STEP_TIMEOUT_MS });
    await page.locator('.part.panel .xterm.focus').first().waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
    await page.keyboard.press('Control+C');
    await waitForTerminal(page, /\[Done\] .*· Cancelled/, RUN_TIMEOUT_MS);
    await setUserSetting('ec2Runner.runIn', 'outputChannel');
  });

  step(
    'Run Active File Interactively on EC2: two lines typed into the terminal reach the script, which prints their sum',
    async () => {
      await openFile(page, 'sum.py');
      await editorContextMenu(page, 'Run Active File Interactively on EC2');
      await waitForTerminal(page, /\[Running\] sum\.py on .* · session \S+/, RUN_TIMEOUT_MS);
      await waitForTerminal(page, /^first number\?$/m, RUN_TIMEOUT_MS);
      // The terminal has the focus: type as a person would.
      await page.keyboard.type('2');
      await page.keyboard.press('Enter');
      await waitForTerminal(page, /^second number\?$/m, RUN_TIMEOUT_MS);
      await page.keyboard.type('40');
      await page.keyboard.press('Enter');
      const text = await waitForTerminal(page, (t) => /\[Done\] exit code 0 · Success/.test(t) && t, RUN_TIMEOUT_MS);
      assert.match(text, /^sum 42$/m);
      assert.match(text, /^first number\? 2$/m, 'the pty echoes what was typed');
      // The pty's size is the panel's: as many rows as the terminal shows.
      const [, rows] = /^pty size \d+x(\d+)$/m.exec(text) ?? [];
      assert.equal(Number(rows), await terminalRowCount(page), `the pty has the terminal's rows:\n${text}`);
      await statusBarItem(page, /sum\.py → /).waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
      // The runs shown in terminals left the output channel alone (it was cleared before the first of them).
      await runFromPalette(page, 'EC2 Runner: Show Output');
      await page
        .locator('.part.panel .action-label[aria-label="Clear Output"]')
        .first()
        .waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
      assert.doesNotMatch(await visibleOutput(page), /colors\.py|long\.py|sum\.py/);
    },
  );

  step(
    'a run survives a window reload: it is re-attached and its output continues, without opening the EC2 Runner view',
    async () => {
      const lastTick = (text) => Math.max(0, ...[...text.matchAll(/reload tick (\d+)/g)].map((m) => Number(m[1])));
      await clearOutput(page);
      await openFile(page, 'reload.py');
      await editorContextMenu(page, 'Run Active File on EC2');
      const [, commandId] = await waitForOutput(page, /\[Running\] reload\.py on .* · command (\S+)/, RUN_TIMEOUT_MS);
      await waitForOutput(page, /reload tick 2\b/, RUN_TIMEOUT_MS);
      const tickBeforeReload = lastTick(await visibleOutput(page));
      // The Explorer in front: after the reload nothing of EC2 Runner is on screen to activate it.
      await openActivityBarView(page, 'Explorer');
      await page
        .locator('.part.sidebar .pane-header', { hasText: 'Instances' })
        .waitFor({ state: 'hidden', timeout: STEP_TIMEOUT_MS });
      await reloadWindow(page, STACK_TIMEOUT_MS);
      // The extension activates on startup: the status bar shows the run going again, the view stays closed.
      // A new extension host has to start first: slow on a loaded 2-core machine.
      await statusBarItem(page, /reload\.py → /).waitFor({ state: 'visible', timeout: STACK_TIMEOUT_MS });
      assert.equal(
        await page.locator('.part.sidebar .pane-header', { hasText: 'Instances' }).count(),
        0,
        'the EC2 Runner view was not opened',
      );
      // The new window follows the same remote command (not a new run) and its later output arrives.
      await waitForOutput(page, /reload tick \d+/, STACK_TIMEOUT_MS);
      const top = await outputTop(page);
      assert.match(
        top.split('\n')[0],
        new RegExp(`^\\[Re-attached\\] reload\\.py on .* · command ${commandId}$`),
        `the output starts with the re-attach header:\n${top}`,
      );
      await waitForOutput(page, (text) => lastTick(text) > tickBeforeReload, RUN_TIMEOUT_MS);
      await waitForOutput(page, /reload run finished/, RUN_TIMEOUT_MS);
      await waitForOutput(page, /\[Done\] exit code 0 · Success/, RUN_TIMEOUT_MS);
      // Finished: the status bar item offers to rerun it.
      await statusBarItem(page, /reload\.py → /)
        .locator('.codicon-play')
        .waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
    },
    2 * STACK_TIMEOUT_MS,
  );

  step(
    'the walkthrough opens from "Welcome: Open Walkthrough...": five steps; a step is checked off after its action',
    async () => {
      await openWalkthrough(page, walkthrough.title);
      const titles = walkthrough.steps.map((s) => s.title);
      const steps = await walkthroughSteps(page, titles.length);
      assert.deepEqual(
        steps.map((s) => s.title),
        titles,
      );
      // Its buttons are the extension's commands (checked against package.json by the unit test).
      await walkthroughStepButtonVisible(page, walkthrough.steps[0].title, 'Try It Without AWS');
      // VS Code 1.139 creates its walkthroughs service (which records completion events) only when a walkthrough
      // is first opened, and an onContext expression already true then is never reported: so the earlier runs,
      // which set ec2Runner.hasDefaultTarget, do not check "Pick an instance" off (test/e2e/README.md). An action
      // taken with the walkthrough open does: its button runs ec2Runner.selectTarget (onCommand).
      const instanceStep = walkthrough.steps.find((s) => s.id === 'instance');
      assert.ok(instanceStep.completionEvents.includes('onCommand:ec2Runner.selectTarget'));
      assert.equal(steps.find((s) => s.title === instanceStep.title)?.done, false, 'not checked off before');
      const quickInputShown = await recordQuickInputTitles(page);
      await clickWalkthroughStepButton(page, instanceStep.title, 'Select Default Target…');
      await quickInputShown('Default EC2 target for this workspace');
      await walkthroughStepChecked(page, instanceStep.title);
      // The step may have taken the focus back and closed the quick pick (recordQuickInputTitles); if not, close it.
      await dismissQuickInput(page);
      // "View: Close Editor" cannot be picked by its exact label: its row also shows its key binding.
      await runFromPalette(page, 'View: Close Editor in All Groups');
    },
  );
});
