// "Try It Without AWS": one command starts the sandbox inside the extension host and points the
// extension at it in memory (no setting written); the same command again stops it.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { RunRecord } from '../../../src/extension/history';
import { api, instanceNodes, within } from './helpers';

suite('Try It Without AWS', () => {
  test('starts the built-in sandbox, lists its instances, runs on one, and a second click stops it', async () => {
    const testApi = await api();
    const config = vscode.workspace.getConfiguration('ec2Runner');
    const endpointBefore = config.inspect('endpointUrl');
    const outerEndpoint = process.env.AWS_ENDPOINT_URL;
    try {
      assert.equal(
        await within(60_000, 'the sandbox to start', vscode.commands.executeCommand('ec2Runner.trySandbox')),
        true,
      );
      const sandbox = testApi.connection().sandbox;
      assert.ok(sandbox, 'the extension points at the built-in sandbox');
      assert.match(sandbox.endpointUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.notEqual(sandbox.endpointUrl, outerEndpoint, 'its own endpoint, not the one of the environment');
      assert.equal(testApi.connection().effective.endpointUrl, sandbox.endpointUrl);
      assert.deepEqual(
        vscode.workspace.getConfiguration('ec2Runner').inspect('endpointUrl'),
        endpointBefore,
        'no setting written',
      );

      await testApi.instancesProvider.refresh();
      assert.equal(testApi.instancesState(), 'ready');
      assert.match(testApi.instancesProvider.view.description ?? '', /built-in sandbox/);
      const online = (await instanceNodes(testApi)).find((n) => n.instance.pingStatus === 'Online');
      assert.ok(online, 'the built-in sandbox has an Online instance');
      await vscode.commands.executeCommand('ec2Runner.setDefaultTarget', online);
      testApi.clearOutput();
      const record = await within(
        90_000,
        'a command on the built-in sandbox',
        Promise.resolve(
          vscode.commands.executeCommand<RunRecord>('ec2Runner.runCommand', 'echo "from the built-in $((6 * 7))"'),
        ),
      );
      assert.equal(record?.status, 'Success', testApi.outputText());
      assert.match(testApi.outputText(), /^from the built-in 42$/m);
    } finally {
      assert.equal(
        await within(30_000, 'the sandbox to stop', vscode.commands.executeCommand('ec2Runner.trySandbox')),
        false,
      );
    }
    assert.equal(testApi.connection().sandbox, undefined, 'back to the settings');
    await testApi.instancesProvider.refresh();
    assert.doesNotMatch(testApi.instancesProvider.view.description ?? '', /built-in sandbox/);
    const outer = (await instanceNodes(testApi)).find((n) => n.instance.pingStatus === 'Online');
    await vscode.commands.executeCommand('ec2Runner.setDefaultTarget', outer);
  });
});
