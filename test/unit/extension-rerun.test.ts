// Rerunning from the status bar and the Runs view through the real command table, Runner and
// RunController, with a fake editor host (test/support/fakeEditorHost.ts) and a fake engine: a
// rerun runs the RECORDED run (its file, arguments and targets), whatever editor is active now.
import { editorHost } from '../support/fakeEditorHost'; // first: installs the `vscode` stand-in
import { beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunHandle, RunRequest, RunResult } from '../../src/core/api';
import { COMMANDS, type Services } from '../../src/extension/commands';
import { RunHistory, type RunRecord } from '../../src/extension/history';
import { BASE_SETTINGS } from '../support/extensionFakes';
import { RunController } from '../../src/extension/runController';
import { Runner } from '../../src/extension/runner';
import { RunTranscripts } from '../../src/extension/runTranscripts';
import type { ExtensionSettings } from '../../src/extension/settings';
import { statusView } from '../../src/extension/statusText';
import { DefaultTarget } from '../../src/extension/targets';
import { MemoryStore } from '../support/memoryStore';

const SETTINGS: ExtensionSettings = BASE_SETTINGS;
const WEB = { instanceId: 'i-0aaaaaaaaaaaaaaaa', name: 'web-1' };
const DB = { instanceId: 'i-0bbbbbbbbbbbbbbbb', name: 'db-1' };

/** A run that ends at once with Success. */
function finishedHandle(commandId: string, instanceIds: string[]): RunHandle {
  const result: RunResult = {
    commandId,
    invocations: instanceIds.map((instanceId) => ({
      instanceId,
      status: 'Success',
      statusDetails: 'Success',
      exitCode: 0,
      stdout: '',
      stderr: '',
      result: null,
      outputSource: 'live',
    })),
  };
  return {
    commandId,
    instanceIds,
    onOutput: () => ({ dispose() {} }),
    onStatus: () => ({ dispose() {} }),
    wait: async () => result,
    cancel: async () => undefined,
    detach() {},
  } as unknown as RunHandle;
}

function setup() {
  const requests: RunRequest[] = [];
  const history = new RunHistory(new MemoryStore());
  const defaultTarget = new DefaultTarget(new MemoryStore());
  const engine = {
    start: async (request: RunRequest) => {
      requests.push(request);
      return finishedHandle(
        `cmd-${requests.length}`,
        request.target.kind === 'instances' ? request.target.instanceIds : [],
      );
    },
    attach: async () => assert.fail('nothing to re-attach'),
  };
  const controller = new RunController({
    engine: () => engine,
    output: { append() {}, show() {}, clear() {} },
    history,
    notifier: { finished() {}, failedToStart: (_r, error) => assert.fail(String(error)) },
    transcripts: new RunTranscripts(),
  });
  const errors: unknown[] = [];
  const runner = new Runner({
    controller,
    engine: () => ({
      listInstances: async () => assert.fail('the targets are known: no quick pick'),
      startInteractiveRun: async () => assert.fail('not interactive'),
      awsCliCommands: async () => assert.fail('not copied'),
    }),
    defaultTarget,
    settings: () => SETTINGS,
    workspaceState: new MemoryStore() as never,
    globalState: new MemoryStore() as never,
    connectionSummary: () => 'sandbox',
    showError: (error) => errors.push(error),
  });
  const services = {
    runner,
    controller,
    history,
    defaultTarget,
    settings: () => SETTINGS,
    showError: (e: unknown) => errors.push(e),
  } as unknown as Services;
  /** What a click on the status bar item does: the command its view names, through the command table. */
  const clickStatusBar = async () => {
    const view = statusView(history.active(), history.last(), defaultTarget.get());
    const handler = COMMANDS[view.command];
    assert.ok(handler, `the status bar's command ${view.command} is registered`);
    return handler(services)();
  };
  const ran = (request: RunRequest) => {
    assert.equal(request.source.kind, 'file');
    const source = request.source as Extract<RunRequest['source'], { kind: 'file' }>;
    return {
      fileName: source.fileName,
      content: Buffer.from(source.content).toString('utf8'),
      args: source.args ?? [],
      instanceIds: (request.target as { instanceIds: string[] }).instanceIds,
    };
  };
  return { requests, history, runner, services, errors, clickStatusBar, ran };
}

describe('rerun runs the recorded run, not the active editor', () => {
  beforeEach(() => {
    editorHost.reset();
    editorHost.files.set('/ws/hello.py', 'print("hello")\n');
    editorHost.files.set('/ws/other.sh', 'echo other\n');
  });

  test('a click on the status bar after another file became active reruns the last file on its targets', async () => {
    const t = setup();
    editorHost.open('/ws/hello.py');
    await t.runner.runFile(undefined, [WEB], ['--epochs', '3']);
    editorHost.files.set('/ws/hello.py', 'print("hello, edited")\n'); // the rerun takes the file's current text
    editorHost.open('/ws/other.sh');
    const view = statusView([], t.history.last(), undefined);
    assert.equal(view.text, '$(play) hello.py --epochs 3 → web-1');
    await t.clickStatusBar();
    assert.deepEqual(t.errors, []);
    assert.equal(t.requests.length, 2);
    assert.deepEqual(t.ran(t.requests[1]), {
      fileName: 'hello.py',
      content: 'print("hello, edited")\n',
      args: ['--epochs', '3'],
      instanceIds: [WEB.instanceId],
    });
    assert.equal(t.history.last()?.label, 'hello.py --epochs 3', 'the new run is recorded as the same run');
  });

  test('a click with no editor open and the file closed reads the file from disk', async () => {
    const t = setup();
    editorHost.open('/ws/hello.py');
    await t.runner.runFile(undefined, [DB]);
    editorHost.close('/ws/hello.py');
    await t.clickStatusBar();
    assert.deepEqual(t.errors, []);
    assert.deepEqual(editorHost.messages, []);
    assert.deepEqual(t.ran(t.requests[1]), {
      fileName: 'hello.py',
      content: 'print("hello")\n',
      args: [],
      instanceIds: [DB.instanceId],
    });
  });

  test('Rerun on an older run in the Runs view reruns that run, not the last one nor the active file', async () => {
    const t = setup();
    editorHost.open('/ws/hello.py');
    await t.runner.runFile(undefined, [WEB]);
    const older = t.history.last() as RunRecord;
    editorHost.open('/ws/other.sh');
    await t.runner.runFile(undefined, [DB]);
    await COMMANDS['ec2Runner.rerunRun'](t.services)(older);
    assert.deepEqual(t.ran(t.requests[2]), {
      fileName: 'hello.py',
      content: 'print("hello")\n',
      args: [],
      instanceIds: [WEB.instanceId],
    });
  });

  test('a recorded command reruns the command line, not the active file', async () => {
    const t = setup();
    await t.runner.runCommand('uname -a', [WEB]);
    editorHost.open('/ws/hello.py');
    await t.clickStatusBar();
    assert.deepEqual(t.requests[1].source, { kind: 'command', command: 'uname -a' });
  });
});
