// Run Selection, Run Workspace File (project folder) and Download Artifacts through the real commands
// on the sandbox: what the output channel shows, what the Runs record keeps, which editor opens.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { RunRecord } from '../../../src/extension/history';
import { api, onlineNode, openScript, requireSandboxEnvironment, scratchDir, setSetting } from './helpers';

const PLOT_PY = `import os
open(os.path.join(os.environ["EC2_RUNNER_ARTIFACTS"], "table.csv"), "w").write("x,y\\n1,2\\n")
print("artifact written", flush=True)
`;

suite('Projects, selections and artifacts', () => {
  suiteSetup(async () => {
    requireSandboxEnvironment();
    const testApi = await api();
    await testApi.instancesProvider.refresh();
    await vscode.commands.executeCommand('ec2Runner.setDefaultTarget', await onlineNode(testApi));
  });

  setup(async () => (await api()).clearOutput());

  teardown(async () => {
    await (await api()).waitForIdle();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('Run Selection runs only the selected lines as a script of the file language', async () => {
    const editor = await openScript(
      'selection-source.py',
      'print("not selected")\nprint("only this line", 6 * 7)\nprint("not selected either")\n',
    );
    editor.selection = new vscode.Selection(1, 0, 2, 0);
    const record = (await vscode.commands.executeCommand<RunRecord>('ec2Runner.runSelection'))!;
    assert.equal(record.status, 'Success', (await api()).outputText());
    const text = (await api()).outputText();
    assert.match(text, /^only this line 42$/m);
    assert.doesNotMatch(text, /not selected/);
    assert.equal(record.source.kind, 'selection');
  });

  test('Run Selection and Run Workspace File run with the ec2Runner.interpreter setting, as Run Active File does', async () => {
    // `-X name` only shows in sys._xoptions: the script can tell which interpreter command started it.
    const script = 'import sys\nprint("interpreter setting used:", "ec2runner_setting" in sys._xoptions, flush=True)\n';
    await setSetting('interpreter', 'python3 -X ec2runner_setting');
    try {
      const editor = await openScript('interpreter-selection.py', script);
      editor.selection = new vscode.Selection(0, 0, 2, 0);
      const selection = (await vscode.commands.executeCommand<RunRecord>('ec2Runner.runSelection'))!;
      assert.equal(selection.status, 'Success', (await api()).outputText());
      assert.match(
        (await api()).outputText(),
        /^interpreter setting used: True$/m,
        'the selection ran with the setting',
      );

      (await api()).clearOutput();
      const root = path.join(scratchDir(), 'interpreter-project');
      fs.mkdirSync(root, { recursive: true });
      fs.writeFileSync(path.join(root, '.ec2-runner'), '');
      fs.writeFileSync(path.join(root, 'main.py'), script);
      const project = (await vscode.commands.executeCommand<RunRecord>(
        'ec2Runner.runProjectFile',
        vscode.Uri.file(path.join(root, 'main.py')),
      ))!;
      assert.equal(project.status, 'Success', (await api()).outputText());
      assert.equal(project.source.kind, 'project');
      assert.match(
        (await api()).outputText(),
        /^interpreter setting used: True$/m,
        'the project entry ran with the setting',
      );
    } finally {
      await setSetting('interpreter', undefined);
    }
  });

  test('Run Workspace File stages the project folder (relative import works) and Download Artifacts opens the CSV', async () => {
    const root = path.join(scratchDir(), 'project-with-marker');
    fs.mkdirSync(root, { recursive: true });
    fs.writeFileSync(path.join(root, 'pyproject.toml'), '[project]\nname = "marker"\n');
    fs.writeFileSync(path.join(root, 'helper.py'), 'GREETING = "from helper"\n');
    fs.writeFileSync(
      path.join(root, 'main.py'),
      `from helper import GREETING\nprint(GREETING, flush=True)\n${PLOT_PY}`,
    );
    const document = await vscode.workspace.openTextDocument(path.join(root, 'main.py'));
    await vscode.window.showTextDocument(document);
    const record = (await vscode.commands.executeCommand<RunRecord>('ec2Runner.runProjectFile'))!;
    const text = (await api()).outputText();
    assert.equal(record.status, 'Success', text);
    assert.match(text, /^from helper$/m);
    assert.match(text, /^Artifacts \(1; .*\n {2}table\.csv \(8 bytes\)$/m);
    assert.deepEqual((await api()).history()[0].artifacts, [{ path: 'table.csv', size: 8 }]);
    const written = (await vscode.commands.executeCommand<string[]>('ec2Runner.downloadArtifacts', record))!;
    assert.equal(written.length, 1);
    assert.equal(fs.readFileSync(written[0], 'utf8'), 'x,y\n1,2\n');
    const opened = vscode.window.visibleTextEditors.map((e) => e.document.uri.fsPath);
    assert.ok(opened.includes(written[0]), `the CSV is open: ${opened.join(', ')}`);
  });
});
