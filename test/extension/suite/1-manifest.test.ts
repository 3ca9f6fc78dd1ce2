// Commands, menus and activation, as the real extension host sees them.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { api, extension, waitFor } from './helpers';

interface MenuEntry {
  command: string;
  when?: string;
  group?: string;
}

suite('EC2 Runner manifest and activation', () => {
  test('the extension activates once the window has started, by itself, and loads no AWS SDK', async () => {
    // Nobody calls activate() here: onStartupFinished does, so that runs a previous window left going
    // are re-attached (and the status bar restored) without the user opening the view.
    await waitFor('VS Code to activate the extension after start-up', () => extension().isActive, 60_000);
    const testApi = extension().exports;
    assert.equal(
      testApi.engineLoaded(),
      false,
      'a fresh workspace has nothing to re-attach: the engine bundle is loaded on first use only',
    );
    assert.match(testApi.statusBar().text, /EC2: no target|\$\(server\)/);
  });

  test('every contributed command is registered, and every registered ec2Runner command is contributed', async () => {
    await api();
    const contributed: string[] = extension().packageJSON.contributes.commands.map(
      (c: { command: string }) => c.command,
    );
    // VS Code adds its own commands per view (ec2Runner.instances.focus, ...): those are not ours.
    const registered = (await vscode.commands.getCommands(true)).filter(
      (c) => c.startsWith('ec2Runner.') && !/^ec2Runner\.(instances|runs)\./.test(c),
    );
    assert.deepEqual([...registered].sort(), [...contributed].sort());
    for (const id of [
      'ec2Runner.runActiveFile',
      'ec2Runner.runCommand',
      'ec2Runner.rerunLast',
      'ec2Runner.cancelRun',
      'ec2Runner.selectTarget',
      'ec2Runner.selectProfileRegion',
      'ec2Runner.showOutput',
    ]) {
      assert.ok(contributed.includes(id), id);
    }
  });

  test('menus put Run Active File where users look for it, with the right when-clauses', () => {
    const menus: Record<string, MenuEntry[]> = extension().packageJSON.contributes.menus;
    const find = (menu: string, command: string) => menus[menu]?.find((e) => e.command === command);
    assert.equal(
      find('editor/context', 'ec2Runner.runActiveFile')?.when,
      'editorLangId == python || editorLangId == shellscript',
    );
    assert.equal(
      find('editor/title/run', 'ec2Runner.runActiveFile')?.when,
      'resourceLangId == python || resourceLangId == shellscript',
    );
    assert.equal(find('editor/title', 'ec2Runner.runActiveFile'), undefined, 'in the Run menu, not a second ▷');
    assert.equal(
      find('explorer/context', 'ec2Runner.runActiveFile')?.when,
      'resourceExtname == .py || resourceExtname == .sh',
    );
    assert.match(
      find('view/item/context', 'ec2Runner.runActiveFileHere')?.when ?? '',
      /view == ec2Runner\.instances && viewItem =~ \/\^instance\\\.online\//,
    );
    assert.match(find('view/item/context', 'ec2Runner.cancelRun')?.when ?? '', /viewItem == run\.running/);
    assert.equal(find('commandPalette', 'ec2Runner.copyInstanceId')?.when, 'false');
    assert.equal(find('commandPalette', 'ec2Runner.cancelRun')?.when, 'ec2Runner.running');
    const keybinding = extension().packageJSON.contributes.keybindings.find(
      (k: MenuEntry) => k.command === 'ec2Runner.runActiveFile',
    );
    assert.match(keybinding.when, /editorLangId == python/);
  });

  test('the activity bar container holds the Instances and Runs views, activated lazily', () => {
    const pkg = extension().packageJSON;
    assert.deepEqual(
      pkg.contributes.views.ec2Runner.map((v: { id: string }) => v.id),
      ['ec2Runner.instances', 'ec2Runner.runs'],
    );
    assert.deepEqual(pkg.activationEvents, [
      'onStartupFinished',
      'onDebugResolve:ec2-runner',
      'onDebugDynamicConfigurations:ec2-runner',
    ]);
  });
});
