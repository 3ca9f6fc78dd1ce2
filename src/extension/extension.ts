// Composition root: reads the settings, builds the services, wires them together and hands every
// disposable to VS Code. Nothing here loads the AWS SDK: the engine bundle (dist/engine.js, next to
// this file) is required on first use through EngineProvider.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { BuiltInSandbox, type SandboxModule } from './builtinSandbox';
import { affectsEngine, readSettings } from './config';
import { Connection } from './connection';
import { EngineProvider, type EngineModule } from './engineProvider';
import { showError } from './errors';
import { interruptedRuns, RunHistory } from './history';
import { InstancesView } from './instancesView';
import { Notifications } from './notifications';
import { RunOutput } from './output';
import { RunController } from './runController';
import { RUN_OUTPUT_SCHEME, RunOutputDocuments } from './runOutputDocuments';
import { Runner } from './runner';
import { RunTranscripts } from './runTranscripts';
import { RunsView } from './runsView';
import { RunTerminals } from './runTerminals';
import { connectionSummary, effectiveProfile } from './settings';
import { RunStatusBar } from './statusBar';
import { DefaultTarget } from './targets';
import { registerCommands, type Services } from './commands';
import type { Ec2RunnerTestApi } from './testApi';
import { Ec2DebugProvider } from './debugProvider';
import { PortForwards } from './portForwards';
import { portForwardsUi } from './portForwardsView';

// A computed path keeps esbuild from bundling these into this file: each loads on first use.
function loadBundle<T>(name: 'engine.js' | 'sandbox.js'): T {
  return require(path.join(__dirname, name)) as T;
}

let shutdown: (() => Promise<void>) | undefined;

/**
 * The test API goes only to tests: VS Code's own extension-test runs (ExtensionMode.Test) and the
 * code-server harness, which installs the packaged extension and sets EC2_RUNNER_TEST_API=1.
 */
function underTest(context: vscode.ExtensionContext): boolean {
  return context.extensionMode === vscode.ExtensionMode.Test || process.env.EC2_RUNNER_TEST_API === '1';
}

export function activate(context: vscode.ExtensionContext): Ec2RunnerTestApi | undefined {
  const connection = new Connection(context.workspaceState);
  /**
   * The settings in effect: user/workspace settings (trust honoured), then the workspace's profile choice or the
   * sandbox.
   */
  const settings = () => connection.apply(readSettings());
  const profile = () => effectiveProfile(settings());
  const summary = () => {
    const sandbox = connection.sandbox;
    return sandbox ? `built-in sandbox · ${sandbox.region} · ${sandbox.endpointUrl}` : connectionSummary(settings());
  };
  const engines = new EngineProvider(
    () => loadBundle<EngineModule>('engine.js'),
    () => connection.engineSettings(readSettings()),
  );
  const sandbox = new BuiltInSandbox(
    () => loadBundle<SandboxModule>('sandbox.js'),
    connection,
    () => path.join(context.globalStorageUri.fsPath, 'sandbox'),
  );
  const history = new RunHistory(context.workspaceState);
  const defaultTarget = new DefaultTarget(context.workspaceState);
  const output = new RunOutput();
  const reportError = (error: unknown) => void showError(error, profile());
  const transcripts = new RunTranscripts();
  const runOutputDocuments = new RunOutputDocuments(history, transcripts, engines);
  const controller = new RunController({
    engine: () => engines.get(),
    output,
    history,
    notifier: new Notifications(profile),
    transcripts,
  });
  const instances = new InstancesView({ engine: () => engines.get(), defaultTarget, connectionSummary: summary });
  const runs = new RunsView(history);
  const statusBar = new RunStatusBar(history, defaultTarget);
  const terminals = new RunTerminals();
  const runner = new Runner({
    controller,
    terminals,
    engine: () => engines.get(),
    defaultTarget,
    settings,
    workspaceState: context.workspaceState,
    globalState: context.globalState,
    connectionSummary: summary,
    showError: reportError,
  });

  const debug = new Ec2DebugProvider({
    runner,
    controller,
    engine: () => engines.get(),
    settings,
    showError: reportError,
  });
  const forwardsUi = portForwardsUi();
  const forwards = new PortForwards(() => engines.get(), forwardsUi);

  const services: Services = {
    runner,
    controller,
    history,
    output,
    instances,
    defaultTarget,
    engines,
    settings,
    connection,
    sandbox,
    showError: reportError,
    showRunOutput: async (record) => {
      const document = await vscode.workspace.openTextDocument(runOutputDocuments.uriFor(record));
      await vscode.window.showTextDocument(document, { preview: true });
    },
    debug,
    forwards,
  };

  context.subscriptions.push(
    output,
    instances,
    runs,
    statusBar,
    terminals,
    runOutputDocuments,
    ...registerCommands(services),
    ...debug.register(),
    forwardsUi,
    vscode.workspace.registerTextDocumentContentProvider(RUN_OUTPUT_SCHEME, runOutputDocuments),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (!affectsEngine(event)) return;
      engines.reset();
      void instances.refresh();
    }),
    connection.onDidChange(() => {
      engines.reset();
      void instances.refresh();
    }),
  );
  let reattachTimer: NodeJS.Timeout | undefined;
  shutdown = async () => {
    clearTimeout(reattachTimer);
    // Leave remote runs going: the next activation re-attaches to them from the history.
    controller.detachAll();
    await forwards.dispose();
    engines.dispose();
    await sandbox.stop();
  };

  const reattachPending = async () => {
    for (const { record, change } of interruptedRuns(history, (id) => controller.owns(id)))
      await history.update(record.id, change);
    await Promise.all(
      history
        .toReattach()
        .filter((r) => !controller.owns(r.id))
        .map((r) => controller.reattach(r, settings().feedback)),
    );
  };
  // After activate() returns, so attaching (which loads the engine) never slows activation down.
  // The extension activates on startup (onStartupFinished): runs a previous window left going are
  // followed again and the status bar shows them without the user opening the view.
  if (history.active().length > 0) reattachTimer = setTimeout(() => void reattachPending(), 0);

  if (!underTest(context)) return undefined;
  return {
    outputText: () => output.text(),
    clearOutput: () => output.clear(),
    history: () => history.all(),
    statusBar: () => statusBar.state,
    instancesState: () => instances.currentState,
    instancesProvider: instances,
    runsProvider: runs,
    engineLoaded: () => engines.loaded,
    waitForIdle: () => controller.idle(),
    detachAll: () => controller.detachAll(),
    reattachPending,
    runTranscript: (id: string) => transcripts.get(id),
    terminalText: (name: string) => terminals.text(name),
    settingsIfUntrusted: () => readSettings(undefined, false),
    connectionChoose: (choice) => connection.choose(choice),
    connection: () => ({ effective: settings(), sandbox: connection.sandbox, choice: connection.choice }),
    portForwards: () =>
      forwards.list().map((f) => ({
        instanceId: f.target.instanceId,
        remotePort: f.remotePort,
        localPort: f.localPort,
        url: f.url,
      })),
  };
}

export async function deactivate(): Promise<void> {
  const stop = shutdown;
  shutdown = undefined;
  await stop?.();
}
