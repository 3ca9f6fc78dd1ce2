// Composition root: reads the settings, builds the services, wires them together and hands every
// disposable to VS Code. Nothing here loads the AWS SDK: the engine bundle (dist/engine.js, next to
// this file) is required on first use through EngineProvider.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { affectsEngine, readSettings } from './config';
import { EngineProvider, type EngineModule } from './engineProvider';
import { showError } from './errors';
import { transcriptFromResult } from './format';
import { interruptedChange, RunHistory, type RunRecord } from './history';
import { InstancesView } from './instancesView';
import { Notifications } from './notifications';
import { RunOutput } from './output';
import { RunController } from './runController';
import { Runner } from './runner';
import { RunsView } from './runsView';
import { connectionSummary, effectiveProfile, engineSettingsOf } from './settings';
import { RunStatusBar } from './statusBar';
import { DefaultTarget } from './targets';
import { registerCommands, type Services } from './commands';
import type { Ec2RunnerTestApi } from './testApi';

const RUN_OUTPUT_SCHEME = 'ec2-runner-run';

function loadEngine(): EngineModule {
  // A computed path keeps esbuild from bundling the engine into this file.
  const enginePath = path.join(__dirname, 'engine.js');
  return require(enginePath) as EngineModule;
}

let shutdown: (() => void) | undefined;

export function activate(context: vscode.ExtensionContext): Ec2RunnerTestApi {
  const settings = () => readSettings();
  const profile = () => effectiveProfile(settings());
  const engines = new EngineProvider(loadEngine, () => engineSettingsOf(settings()));
  const history = new RunHistory(context.workspaceState);
  const defaultTarget = new DefaultTarget(context.workspaceState);
  const output = new RunOutput();
  const reportError = (error: unknown) => void showError(error, profile());
  const runOutputDocuments = new RunOutputDocuments(history, () => controller, engines);
  const controller = new RunController({
    engine: () => engines.get(),
    output,
    history,
    notifier: new Notifications(profile),
    onTranscript: (id) => runOutputDocuments.changed(id),
  });
  const instances = new InstancesView({ engine: () => engines.get(), defaultTarget, connectionSummary: () => connectionSummary(settings()) });
  const runs = new RunsView(history);
  const statusBar = new RunStatusBar(history, defaultTarget);
  const runner = new Runner({
    controller,
    engine: () => engines.get(),
    defaultTarget,
    settings,
    workspaceState: context.workspaceState,
    globalState: context.globalState,
    connectionSummary: () => connectionSummary(settings()),
    showError: reportError,
  });

  const services: Services = {
    runner,
    controller,
    history,
    output,
    instances,
    defaultTarget,
    engines,
    settings,
    showError: reportError,
    showRunOutput: async (record) => {
      const document = await vscode.workspace.openTextDocument(runOutputDocuments.uriFor(record));
      await vscode.window.showTextDocument(document, { preview: true });
    },
  };

  context.subscriptions.push(
    output,
    instances,
    runs,
    statusBar,
    runOutputDocuments,
    ...registerCommands(services),
    vscode.workspace.registerTextDocumentContentProvider(RUN_OUTPUT_SCHEME, runOutputDocuments),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (!affectsEngine(event)) return;
      engines.reset();
      void instances.refresh();
    }),
  );
  shutdown = () => {
    // Leave remote runs going: the next activation re-attaches to them from the history.
    controller.detachAll();
    engines.dispose();
  };

  const reattachPending = async () => {
    for (const record of history.active().filter((r) => r.state === 'starting' && !controller.owns(r.id))) {
      await history.update(record.id, interruptedChange());
    }
    await Promise.all(history.toReattach().filter((r) => !controller.owns(r.id)).map((r) => controller.reattach(r, settings().feedback)));
  };
  // After activate() returns, so attaching (which loads the engine) never slows activation down.
  if (history.active().length > 0) setTimeout(() => void reattachPending(), 0);

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
    runTranscript: (id: string) => controller.transcript(id),
  };
}

export function deactivate(): void {
  shutdown?.();
  shutdown = undefined;
}

/** Read-only documents with one run's output: what this window printed (kept current), else rebuilt from SSM/S3. */
class RunOutputDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.emitter.event;
  private readonly pending = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly history: RunHistory,
    private readonly controller: () => RunController,
    private readonly engines: EngineProvider,
  ) {}

  uriFor(record: RunRecord): vscode.Uri {
    const name = record.label.replace(/[^\w.-]+/g, '_').slice(0, 60) || 'run';
    return vscode.Uri.from({ scheme: RUN_OUTPUT_SCHEME, path: `/${name}.log`, query: record.id });
  }

  /** A run printed more: refresh its document if one is open (at most every 300 ms). */
  changed(id: string): void {
    if (this.pending.has(id)) return;
    const open = vscode.workspace.textDocuments.find((d) => d.uri.scheme === RUN_OUTPUT_SCHEME && d.uri.query === id);
    if (!open) return;
    this.pending.set(
      id,
      setTimeout(() => {
        this.pending.delete(id);
        this.emitter.fire(open.uri);
      }, 300),
    );
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const record = this.history.get(uri.query);
    if (!record) return 'This run is no longer in the history.';
    const printed = this.controller().transcript(record.id);
    if (printed) return printed;
    if (!record.commandId) return `${record.label}: the command was never sent${record.reason ? ` (${record.reason})` : ''}.`;
    try {
      const result = await this.engines.get().status(record.commandId);
      return transcriptFromResult(record.label, record.targets, result, true);
    } catch (error) {
      return `Could not fetch the output of command ${record.commandId}: ${(error as Error).message}`;
    }
  }

  dispose(): void {
    for (const timer of this.pending.values()) clearTimeout(timer);
    this.emitter.dispose();
  }
}
