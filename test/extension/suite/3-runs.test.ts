// Running files and commands on the sandbox through the real commands: output channel text,
// status bar, history, cancel, feedback levels, re-attach, the Runs view, and failures.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { RunRecord } from '../../../src/extension/history';
import {
  api,
  instanceNodes,
  onlineNode,
  openScript,
  requireSandboxEnvironment,
  scratchDir,
  setSetting,
  waitFor,
} from './helpers';

const OK_PY = `import json, os, sys
print("hello from the host suite", flush=True)
print("careful: stderr line", file=sys.stderr, flush=True)
with open(os.environ["EC2_RUNNER_RESULT"], "w") as f:
    json.dump({"answer": 42}, f)
`;
const FAIL_SH = 'echo "failing now"\nexit 3\n';
const LONG_PY =
  'import time\nfor i in range(1, 1200):\n    print(f"long tick {i}", flush=True)\n    time.sleep(0.25)\n';
const TICKS_PY =
  'import time\nfor i in range(1, 21):\n    print(f"reattach tick {i}", flush=True)\n    ' +
  'time.sleep(0.25)\nprint("reattach run finished", flush=True)\n';

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

suite('Runs', () => {
  let target: { instanceId: string; name?: string };

  suiteSetup(async () => {
    requireSandboxEnvironment();
    const testApi = await api();
    await testApi.instancesProvider.refresh();
    const node = await onlineNode(testApi);
    target = { instanceId: node.instance.instanceId, name: node.instance.name };
    await vscode.commands.executeCommand('ec2Runner.setDefaultTarget', node);
  });

  setup(async () => {
    (await api()).clearOutput();
  });

  teardown(async () => {
    await (await api()).waitForIdle();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('Run Active File streams stdout and stderr, then exit code, result and where the output lives', async () => {
    const testApi = await api();
    await openScript('ok.py', OK_PY);
    const record = (await vscode.commands.executeCommand<RunRecord>('ec2Runner.runActiveFile'))!;
    const text = testApi.outputText();
    const header = new RegExp(
      `^\\[Running\\] ok\\.py on ${escape(target.name!)} \\(${target.instanceId}\\) · command (\\S+)$`,
      'm',
    ).exec(text);
    assert.ok(header, `header line in:\n${text}`);
    assert.equal(header[1], record.commandId);
    assert.match(text, /^hello from the host suite$/m);
    assert.match(text, /^\[stderr\] careful: stderr line$/m);
    assert.match(text, /^\[Done\] exit code 0 · Success · \d+(\.\d)? (s|min)/m);
    assert.ok(text.includes('[Result]\n{\n  "answer": 42\n}\n'), text);
    assert.match(text, /^\[Output\] complete output /m);
    assert.ok(text.indexOf('hello from the host suite') < text.indexOf('[Done]'));
    assert.equal(record.status, 'Success');
    assert.equal(record.exitCode, 0);
    assert.equal(testApi.history()[0].id, record.id);

    const status = testApi.statusBar();
    assert.equal(status.text, `$(play) ok.py → ${target.name}`);
    assert.equal(status.command, 'ec2Runner.rerunLast');
    assert.equal(status.cancelVisible, false);
  });

  test('a failing shell script reports its exit code', async () => {
    const testApi = await api();
    await openScript('fail.sh', FAIL_SH);
    const record = (await vscode.commands.executeCommand<RunRecord>('ec2Runner.runActiveFile'))!;
    assert.match(testApi.outputText(), /^failing now$/m);
    assert.match(testApi.outputText(), /^\[Done\] exit code 3 · Failed · /m);
    assert.equal(record.exitCode, 3);
    assert.equal(testApi.statusBar().text, `$(play) fail.sh → ${target.name}`);
  });

  test('Run Command on EC2 runs a shell command line; Rerun Last Run sends it again', async () => {
    const testApi = await api();
    const first = (await vscode.commands.executeCommand<RunRecord>(
      'ec2Runner.runCommand',
      'echo "cmd says $((6 * 7))"',
    ))!;
    assert.match(testApi.outputText(), /^\[Running\] echo "cmd says \$\(\(6 \* 7\)\)" on /m);
    assert.match(testApi.outputText(), /^cmd says 42$/m);
    const again = (await vscode.commands.executeCommand<RunRecord>('ec2Runner.rerunLast'))!;
    assert.equal(again.label, first.label);
    assert.notEqual(again.commandId, first.commandId);
    assert.equal(again.status, 'Success');
  });

  test('an untitled Python buffer runs from its text', async () => {
    const testApi = await api();
    const document = await vscode.workspace.openTextDocument({
      language: 'python',
      content: 'print("from an untitled buffer")\n',
    });
    await vscode.window.showTextDocument(document);
    const record = (await vscode.commands.executeCommand<RunRecord>('ec2Runner.runActiveFile'))!;
    assert.match(record.label, /^Untitled-\d+\.py$/);
    assert.match(testApi.outputText(), /^from an untitled buffer$/m);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  test('unsaved changes: staged from the buffer when saveBeforeRun is off, saved first when on', async () => {
    const testApi = await api();
    const editor = await openScript('edited.py', 'print("version on disk")\n');
    await editor.edit((e) => e.replace(new vscode.Range(0, 0, 1, 0), 'print("version in the editor")\n'));
    try {
      await setSetting('saveBeforeRun', false);
      await vscode.commands.executeCommand('ec2Runner.runActiveFile');
      assert.match(testApi.outputText(), /^version in the editor$/m);
      assert.equal(editor.document.isDirty, true);
      assert.match(fs.readFileSync(editor.document.uri.fsPath, 'utf8'), /version on disk/);
    } finally {
      await setSetting('saveBeforeRun', undefined);
    }
    await vscode.commands.executeCommand('ec2Runner.runActiveFile');
    assert.equal(editor.document.isDirty, false);
    assert.match(fs.readFileSync(editor.document.uri.fsPath, 'utf8'), /version in the editor/);
  });

  test('Run Active File Here runs on the clicked instance, not the default', async () => {
    const testApi = await api();
    const nodes = (await instanceNodes(testApi)).filter((n) => n.instance.pingStatus === 'Online');
    const other = nodes.find((n) => n.instance.instanceId !== target.instanceId) ?? nodes[0];
    await openScript('ok.py', OK_PY);
    const record = (await vscode.commands.executeCommand<RunRecord>('ec2Runner.runActiveFileHere', other, [other]))!;
    assert.deepEqual(
      record.targets.map((t) => t.instanceId),
      [other.instance.instanceId],
    );
    assert.match(
      testApi.outputText(),
      new RegExp(`^\\[Running\\] ok\\.py on .*\\(${other.instance.instanceId}\\)`, 'm'),
    );
  });

  test('without a default target a quick pick of Online instances asks, and the pick is remembered', async () => {
    const testApi = await api();
    const acceptFirst = () => vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    // "Ask every time" is the first row of Select Default Target.
    const cleared = vscode.commands.executeCommand('ec2Runner.selectTarget');
    const hasDefault = async () =>
      (await instanceNodes(testApi)).some((n) =>
        String(testApi.instancesProvider.getTreeItem(n).description).startsWith('default'),
      );
    await waitFor(
      'the default target to be cleared',
      async () => {
        await acceptFirst();
        return !(await hasDefault());
      },
      10_000,
      250,
    );
    await cleared;
    await openScript('ok.py', OK_PY);
    const before = testApi.history().length;
    const running = vscode.commands.executeCommand<RunRecord>('ec2Runner.runActiveFile');
    await waitFor(
      'the instance quick pick to be answered',
      async () => {
        await acceptFirst();
        return testApi.history().length > before;
      },
      20_000,
      250,
    );
    const record = (await running)!;
    assert.equal(record.status, 'Success');
    const node = (await instanceNodes(testApi)).find((n) => n.instance.instanceId === record.targets[0].instanceId)!;
    assert.equal(node.instance.pingStatus, 'Online');
    assert.match(
      String(testApi.instancesProvider.getTreeItem(node).description),
      /^default · /,
      'the pick became the default target',
    );
    target = { instanceId: node.instance.instanceId, name: node.instance.name };
  });

  test('cancel: the status bar shows a spinner and a stop item while running; Cancel Run ends it Cancelled', async () => {
    const testApi = await api();
    await openScript('long.py', LONG_PY);
    const running = vscode.commands.executeCommand<RunRecord>('ec2Runner.runActiveFile');
    await waitFor('live output before the end', () => /long tick 3/.test(testApi.outputText()));
    const status = testApi.statusBar();
    assert.equal(status.text, `$(sync~spin) long.py → ${target.name}`);
    assert.equal(status.cancelVisible, true);
    // The run's own output document follows the run while it is open.
    const current = testApi.history()[0];
    assert.equal(testApi.runsProvider.getTreeItem(current).contextValue, 'run.running');
    await vscode.commands.executeCommand('ec2Runner.showRunOutput', current);
    const document = (await waitFor('the run output document', () => vscode.window.activeTextEditor?.document))!;
    const seen = Number(/long tick (\d+)\n$/.exec(document.getText())?.[1] ?? 0);
    await waitFor(
      'the run output document to update',
      () => new RegExp(`long tick ${seen + 3}\\b`).test(document.getText()),
      20_000,
    );
    await vscode.commands.executeCommand('ec2Runner.cancelRun');
    const record = (await running)!;
    assert.equal(record.status, 'Cancelled');
    assert.match(testApi.outputText(), /^\[Done\] .*· Cancelled · /m);
    assert.doesNotMatch(testApi.outputText(), /long tick 1199/);
    assert.equal(testApi.statusBar().cancelVisible, false);
  });

  test('fire and forget returns once the command is sent and finishes in the background', async () => {
    const testApi = await api();
    await openScript('ok.py', OK_PY);
    await setSetting('feedback', 'fireAndForget');
    try {
      const record = (await vscode.commands.executeCommand<RunRecord>('ec2Runner.runActiveFile'))!;
      assert.ok(record.commandId, 'the command was sent');
      await testApi.waitForIdle();
      const final = testApi.history().find((r) => r.id === record.id)!;
      assert.equal(final.status, 'Success');
      assert.doesNotMatch(testApi.outputText(), /\[Result\]/, 'no structured result at this level');
    } finally {
      await setSetting('feedback', undefined);
    }
  });

  test('a run still going when the window closes is re-attached from the history and its output continues', async () => {
    const testApi = await api();
    await openScript('ticks.py', TICKS_PY);
    const running = vscode.commands.executeCommand<RunRecord>('ec2Runner.runActiveFile');
    await waitFor('the run to produce output', () => /reattach tick 2/.test(testApi.outputText()));
    testApi.detachAll();
    const detached = (await running)!;
    assert.equal(
      testApi.history().find((r) => r.id === detached.id)?.state,
      'running',
      'the history keeps it as running',
    );
    testApi.clearOutput();
    await testApi.reattachPending();
    const text = testApi.outputText();
    assert.match(text, new RegExp(`^\\[Re-attached\\] ticks\\.py on .* · command ${detached.commandId}$`, 'm'));
    assert.match(text, /^reattach run finished$/m);
    assert.match(text, /^\[Done\] exit code 0 · Success/m);
    assert.equal(testApi.history().find((r) => r.id === detached.id)?.state, 'finished');
  });

  test("the Runs view lists runs with status, exit code and duration, and reopens a run's output", async () => {
    const testApi = await api();
    const records = testApi.runsProvider.getChildren();
    assert.ok(records.length >= 3);
    const failed = records.find((r) => r.label === 'fail.sh')!;
    const item = testApi.runsProvider.getTreeItem(failed);
    assert.match(String(item.description), /· Failed · exit code 3 · /);
    assert.equal(item.contextValue, 'run.finished');
    assert.equal(item.command?.command, 'ec2Runner.showRunOutput');
    await vscode.commands.executeCommand('ec2Runner.showRunOutput', failed);
    const shown = (await waitFor('the run output document', () => vscode.window.activeTextEditor?.document.getText()))!;
    assert.match(shown, /^\[Running\] fail\.sh on /m);
    assert.match(shown, /^\[Done\] exit code 3 · Failed/m);
  });

  test('a missing staging bucket shows the bucket welcome and a run says why it did not start', async () => {
    const testApi = await api();
    await setSetting('bucket', 'ec2-runner-host-test-no-such-bucket');
    try {
      await testApi.instancesProvider.refresh();
      assert.equal(testApi.instancesState(), 'noBucket');
      assert.match(testApi.instancesProvider.view.message ?? '', /ec2-runner-host-test-no-such-bucket does not exist/);
      await openScript('ok.py', OK_PY);
      const record = (await vscode.commands.executeCommand<RunRecord>('ec2Runner.runActiveFile'))!;
      assert.equal(record.status, 'Failed');
      assert.match(
        testApi.outputText(),
        /^\[Failed\] ok\.py on .* did not start: .*ec2-runner-host-test-no-such-bucket/m,
      );
    } finally {
      await setSetting('bucket', undefined);
    }
    await testApi.instancesProvider.refresh();
    assert.equal(testApi.instancesState(), 'ready');
  });

  suiteTeardown(() => {
    fs.rmSync(path.join(scratchDir()), { recursive: true, force: true });
  });
});
