// "Copy as AWS CLI Command": the Runner rebuilds the request of a recorded run (the file's current
// content, its arguments and targets, today's settings) and hands it to the engine; the script's
// shell quoting keeps every word literal.
import { editorHost } from '../support/fakeEditorHost'; // first: installs the `vscode` stand-in
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import type { RunRequest } from '../../src/core/api';
import { awsCliScript, shellQuote } from '../../src/core/awsCli';
import { RunHistory } from '../../src/extension/history';
import { RunTranscripts } from '../../src/extension/runTranscripts';
import { RunController } from '../../src/extension/runController';
import { Runner } from '../../src/extension/runner';
import { DefaultTarget } from '../../src/extension/targets';
import { BASE_SETTINGS, MemoryStore } from '../support/extensionFakes';

describe('Copy as AWS CLI Command', () => {
  test('the recorded run is rebuilt: current file content, arguments, targets, settings, and the local path', async () => {
    editorHost.reset();
    editorHost.files.set('/w/train.py', 'print("v2")');
    const calls: Array<{ request: RunRequest; options: unknown }> = [];
    const history = new RunHistory(new MemoryStore());
    const controller = new RunController({
      engine: () => assert.fail('nothing runs') as never,
      output: { append() {}, show() {}, clear() {} },
      history,
      notifier: { finished() {}, failedToStart() {} },
      transcripts: new RunTranscripts(),
    });
    const runner = new Runner({
      controller,
      engine: () => ({
        listInstances: async () => assert.fail('no pick'),
        startInteractiveRun: async () => assert.fail('no run'),
        awsCliCommands: async (request, options) => (calls.push({ request, options }), '#!/bin/sh\n'),
      }),
      defaultTarget: new DefaultTarget(new MemoryStore()),
      settings: () => ({ ...BASE_SETTINGS, env: { A: 'b' }, workingDirectory: '/srv', timeoutSeconds: 60 }),
      workspaceState: new MemoryStore() as never,
      globalState: new MemoryStore() as never,
      connectionSummary: () => 'sandbox',
      showError: (error) => assert.fail(String(error)),
    });
    const record = {
      id: 'r',
      label: 'train.py --x',
      source: { kind: 'file' as const, uri: 'file:///w/train.py', fileName: 'train.py', args: ['--x'] },
      targets: [{ instanceId: 'i-0aaaaaaaaaaaaaaaa' }],
      state: 'finished' as const,
      startedAt: 1,
    };
    assert.equal(await runner.awsCliCommands(record), '#!/bin/sh\n');
    const [{ request, options }] = calls;
    assert.equal(request.source.kind, 'file');
    assert.equal(new TextDecoder().decode((request.source as { content: Uint8Array }).content), 'print("v2")');
    assert.deepEqual((request.source as { args: string[] }).args, ['--x']);
    assert.deepEqual(request.target, { kind: 'instances', instanceIds: ['i-0aaaaaaaaaaaaaaaa'] });
    assert.deepEqual(request.env, { A: 'b' });
    assert.equal(request.workingDirectory, '/srv');
    assert.equal(request.timeoutSeconds, 60);
    assert.deepEqual(options, { localPath: '/w/train.py', label: 'train.py --x' });
  });

  test('shell quoting: sh reads every word back literally', () => {
    const words = ["it's", 'a "b"', '$HOME', '`id`', 'x;y', 'plain-word_1.py', '', 'new\nline'];
    const echoed = execFileSync('sh', ['-c', `printf '%s\\0' ${words.map(shellQuote).join(' ')}`]).toString('utf8');
    assert.deepEqual(echoed.split('\0').slice(0, -1), words);
  });

  test('the script stages first when told, passes the JSON through a quoted heredoc, and exits with the code', () => {
    const script = awsCliScript({
      label: 'big.py',
      region: 'eu-west-1',
      profile: 'dev team',
      sendCommand: { DocumentName: 'AWS-RunShellScript', Parameters: { commands: ['echo \'$HOME\' "`id`"'] } },
      instanceIds: ['i-0aaaaaaaaaaaaaaaa'],
      staging: {
        localPath: 'my dir/big.py',
        s3Uri: 's3://b/ec2-runner/staged/abc/big.py',
        region: 'eu-central-1',
        kmsKeyId: 'alias/k',
      },
    });
    assert.match(
      script,
      /^aws --profile 'dev team' --region eu-central-1 s3 cp --only-show-errors --sse aws:kms --sse-kms-key-id alias\/k 'my dir\/big\.py' s3:\/\/b\/ec2-runner\/staged\/abc\/big\.py$/m,
    );
    assert.match(script, /<<'EC2_RUNNER_SEND_COMMAND_JSON'\n\{\n[^]*\n\}\nEC2_RUNNER_SEND_COMMAND_JSON\n/);
    assert.ok(
      script.includes(JSON.stringify('echo \'$HOME\' "`id`"')),
      'the command text is JSON in the heredoc, not re-quoted',
    );
    assert.match(script, /exit "\$ec2r_status"\n$/);
  });
});
