// The Instances view against the sandbox: items, icons, tooltips, filter, default target, copy id.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { api, instanceNodes, requireSandboxEnvironment, waitFor, within } from './helpers';

suite('Instances view', () => {
  suiteSetup(async () => {
    requireSandboxEnvironment();
    const testApi = await api();
    await testApi.instancesProvider.refresh();
  });

  teardown(async () => {
    await vscode.commands.executeCommand('ec2Runner.clearInstanceFilter');
  });

  test('lists the sandbox instances with name, id, platform, IP and distinct ping icons', async () => {
    const testApi = await api();
    assert.equal(testApi.instancesState(), 'ready');
    const nodes = await instanceNodes(testApi);
    assert.ok(nodes.length >= 2, `several instances listed (${nodes.length})`);
    const items = nodes.map((n) => testApi.instancesProvider.getTreeItem(n));
    const online = items.filter((i) => String(i.contextValue).startsWith('instance.online'));
    assert.ok(online.length >= 1, 'an Online instance');
    for (const [index, item] of items.entries()) {
      const instance = nodes[index].instance;
      assert.equal(item.label, instance.name ?? instance.computerName ?? instance.instanceId);
      assert.match(String(item.description), new RegExp(instance.instanceId));
      if (instance.ipAddress)
        assert.match(String(item.description), new RegExp(instance.ipAddress.replace(/\./g, '\\.')));
      assert.match(String(item.tooltip), new RegExp(`Ping status: ${instance.pingStatus}`));
      assert.ok(item.iconPath instanceof vscode.ThemeIcon);
    }
    const offlineIndex = nodes.findIndex((n) => n.instance.pingStatus !== 'Online');
    if (offlineIndex >= 0) {
      const offline = items[offlineIndex];
      assert.notEqual(
        (offline.iconPath as vscode.ThemeIcon).id,
        (online[0].iconPath as vscode.ThemeIcon).id,
        'offline looks different',
      );
      assert.equal(offline.contextValue, 'instance.offline');
      assert.match(String(offline.description), /ConnectionLost/);
    }
    // Online instances come first.
    assert.ok(String(items[0].contextValue).startsWith('instance.online'));
  });

  test('the filter narrows by name, tag or id, and an empty match shows the filtered welcome', async () => {
    const testApi = await api();
    const all = await instanceNodes(testApi);
    const first = all[0].instance;
    await vscode.commands.executeCommand('ec2Runner.filterInstances', first.instanceId);
    assert.deepEqual(
      (await instanceNodes(testApi)).map((n) => n.instance.instanceId),
      [first.instanceId],
    );
    await vscode.commands.executeCommand('ec2Runner.filterInstances', 'no-such-instance-anywhere');
    assert.deepEqual(await testApi.instancesProvider.getChildren(), []);
    assert.equal(testApi.instancesState(), 'filtered');
    await vscode.commands.executeCommand('ec2Runner.clearInstanceFilter');
    assert.equal((await instanceNodes(testApi)).length, all.length);
  });

  test('set as default target marks the instance and is remembered for the workspace', async () => {
    const testApi = await api();
    const [node] = await instanceNodes(testApi);
    await vscode.commands.executeCommand('ec2Runner.setDefaultTarget', node);
    const item = testApi.instancesProvider.getTreeItem(
      (await instanceNodes(testApi)).find((n) => n.instance.instanceId === node.instance.instanceId)!,
    );
    assert.match(String(item.description), /^default · /);
    assert.match(String(item.contextValue), /\.default$/);
  });

  test('copy instance id copies the clicked id, or every selected one', async () => {
    const testApi = await api();
    const nodes = await instanceNodes(testApi);
    // A browser host that denies clipboard access leaves these calls pending: fail fast with a reason instead.
    await within(
      10_000,
      'the clipboard (a browser host needs clipboard permissions)',
      vscode.commands.executeCommand('ec2Runner.copyInstanceId', nodes[0], [nodes[0]]),
    );
    assert.equal(
      await within(10_000, 'reading the clipboard', vscode.env.clipboard.readText()),
      nodes[0].instance.instanceId,
    );
    await within(
      10_000,
      'the clipboard',
      vscode.commands.executeCommand('ec2Runner.copyInstanceId', nodes[1], [nodes[0], nodes[1]]),
    );
    assert.equal(
      await within(10_000, 'reading the clipboard', vscode.env.clipboard.readText()),
      `${nodes[0].instance.instanceId}\n${nodes[1].instance.instanceId}`,
    );
  });

  test('refresh lists again', async () => {
    const testApi = await api();
    await vscode.commands.executeCommand('ec2Runner.refreshInstances');
    await waitFor('instances after refresh', async () => (await instanceNodes(testApi)).length > 0, 10_000);
  });
});
