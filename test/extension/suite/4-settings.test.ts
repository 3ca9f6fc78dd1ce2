// Settings-driven behaviour: several targets at once, profile/region selection, and what the
// Instances view shows when credentials cannot be found.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { RunRecord } from '../../../src/extension/history';
import { api, instanceNodes, openScript, requireSandboxEnvironment, setSetting, waitFor } from './helpers';

suite('Settings and several targets', () => {
  suiteSetup(async () => {
    requireSandboxEnvironment();
    await (await api()).instancesProvider.refresh();
  });

  teardown(async () => {
    await (await api()).waitForIdle();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('Run Active File Here on several selected instances labels every line with its instance', async () => {
    const testApi = await api();
    testApi.clearOutput();
    const online = (await instanceNodes(testApi)).filter((n) => n.instance.pingStatus === 'Online');
    assert.ok(online.length >= 2, 'the sandbox has two Online instances');
    const [a, b] = online;
    await openScript('both.sh', 'echo "ran on $(hostname 2>/dev/null || echo host)"\necho "to stderr" >&2\n');
    const record = (await vscode.commands.executeCommand<RunRecord>('ec2Runner.runActiveFileHere', a, [a, b]))!;
    assert.deepEqual(
      record.targets.map((t) => t.instanceId).sort(),
      [a.instance.instanceId, b.instance.instanceId].sort(),
    );
    const text = testApi.outputText();
    for (const node of [a, b]) {
      const name = node.instance.name!;
      assert.match(text, new RegExp(`^\\[${name}\\] ran on `, 'm'));
      assert.match(text, new RegExp(`^\\[${name}\\] \\[stderr\\] to stderr$`, 'm'));
      assert.match(
        text,
        new RegExp(`^\\[Done\\] ${name} \\(${node.instance.instanceId}\\): exit code 0 · Success`, 'm'),
      );
    }
    assert.equal(record.status, 'Success');
  });

  test('Select Profile and Region keeps the choice in workspace state, not in settings.json', async () => {
    const testApi = await api();
    const config = vscode.workspace.getConfiguration('ec2Runner');
    const before = { profile: config.inspect('profile'), region: config.inspect('region') };
    const picking = Promise.resolve(vscode.commands.executeCommand('ec2Runner.selectProfileRegion'));
    let done = false;
    void picking.then(() => (done = true));
    // Accept the first row of each step: "From the environment", then "From the profile or AWS_REGION".
    await waitFor(
      'both quick picks to be answered',
      async () => {
        await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
        return done;
      },
      20_000,
      250,
    );
    assert.deepEqual(testApi.connection().choice, { profile: '', region: '' });
    const after = vscode.workspace.getConfiguration('ec2Runner');
    assert.deepEqual(
      { profile: after.inspect('profile'), region: after.inspect('region') },
      before,
      'no setting was written',
    );
    const settingsFile = path.join(vscode.workspace.workspaceFolders![0].uri.fsPath, '.vscode', 'settings.json');
    assert.ok(
      !fs.existsSync(settingsFile) || !/ec2Runner\.(profile|region)/.test(fs.readFileSync(settingsFile, 'utf8')),
      'nothing in .vscode/settings.json',
    );
    await testApi.connectionChoose(undefined);
  });

  test('a profile without credentials shows the credentials welcome with the reason', async () => {
    const testApi = await api();
    await setSetting('profile', 'ec2-runner-host-test-no-such-profile');
    try {
      await testApi.instancesProvider.refresh();
      assert.equal(testApi.instancesState(), 'noCredentials');
      assert.deepEqual(await testApi.instancesProvider.getChildren(), [], 'the welcome view shows (empty tree)');
      assert.match(testApi.instancesProvider.view.message ?? '', /credentials/i);
      assert.match(testApi.instancesProvider.view.message ?? '', /ec2-runner-host-test-no-such-profile/);
    } finally {
      await setSetting('profile', undefined);
    }
    await testApi.instancesProvider.refresh();
    assert.equal(testApi.instancesState(), 'ready');
  });
});
