// The `ec2-runner` debug type in VS Code. Resolving a `launch` starts the debug run (a normal run in
// the Output channel and the Runs view, under debugpy on the instance), waits for debugpy to listen
// and for its port to be forwarded, and turns the configuration into a DAP attach with pathMappings
// local folder → remote folder; the descriptor factory then connects VS Code to the forwarded port
// (debugpy speaks DAP itself: the Python Debugger extension is not needed). An `attach` forwards the
// port of a debugpy already listening on the instance. Stopping the session cancels a launched run.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DebugRunHandle, Engine, PortForwardHandle, RunSource } from '../core/frontEnd';
import {
  DEBUG_TYPE,
  DebugConfigError,
  type Ec2DebugConfiguration,
  SessionEndWatcher,
  attachConfiguration,
  launchSource,
  resolveConfiguration,
} from './debugConfig';
import type { TargetLabel } from './format';
import type { RunController } from './runController';
import { fileToRun } from './fileToRun';
import type { Runner } from './runner';
import { runRequestFor, runSpecFor } from './runRequest';
import type { ExtensionSettings } from './settings';

export interface DebugDeps {
  runner: Runner;
  controller: RunController;
  engine: () => Engine;
  settings: () => ExtensionSettings;
  showError: (error: unknown) => void;
}

/** Where other extensions keep a debugpy we can stage (the Python Debugger's bundled copy). */
function bundledDebugpyFolders(): string[] {
  const folders: string[] = [];
  const debugpyExtension = vscode.extensions.getExtension('ms-python.debugpy');
  if (debugpyExtension) folders.push(path.join(debugpyExtension.extensionPath, 'bundled', 'libs'));
  const pythonExtension = vscode.extensions.getExtension('ms-python.python');
  if (pythonExtension) folders.push(path.join(pythonExtension.extensionPath, 'pythonFiles', 'lib', 'python'));
  return folders;
}

interface ActiveDebug {
  forward?: PortForwardHandle;
  debugRun?: DebugRunHandle;
  runId?: string;
  watcher: SessionEndWatcher;
}

export class Ec2DebugProvider implements vscode.DebugConfigurationProvider, vscode.DebugAdapterDescriptorFactory {
  /** By local port: what a session connected to that port started. */
  private readonly active = new Map<number, ActiveDebug>();

  constructor(private readonly deps: DebugDeps) {}

  register(): vscode.Disposable[] {
    return [
      vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, this),
      vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, this),
      vscode.debug.registerDebugAdapterTrackerFactory(DEBUG_TYPE, {
        createDebugAdapterTracker: (session) => {
          const watcher = this.active.get(Number(session.configuration.ec2RunnerPort))?.watcher;
          return watcher
            ? { onWillReceiveMessage: (m) => watcher.toAdapter(m), onDidSendMessage: (m) => watcher.fromAdapter(m) }
            : undefined;
        },
      }),
      vscode.debug.onDidTerminateDebugSession((session) => void this.ended(session)),
    ];
  }

  /** "Debug Active File on EC2" (palette, editor title, instance tree): a launch of the file. */
  async debugFile(resource?: vscode.Uri, target?: TargetLabel): Promise<boolean> {
    const uri = resource ?? vscode.window.activeTextEditor?.document.uri;
    if (!uri || !/\.py$/i.test(uri.path)) {
      void vscode.window.showErrorMessage(
        'Open a Python file to debug it on EC2 (shell scripts run with "Run Active File on EC2").',
      );
      return false;
    }
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    return vscode.debug.startDebugging(folder, {
      type: DEBUG_TYPE,
      request: 'launch',
      name: `Debug ${path.basename(uri.fsPath)} on EC2`,
      program: uri.fsPath,
      instance: target?.instanceId,
      justMyCode: true,
    });
  }

  /** F5 without launch.json: VS Code passes `{}`; debugging the active file is what it means. */
  resolveDebugConfiguration(
    _folder: vscode.WorkspaceFolder | undefined,
    raw: vscode.DebugConfiguration,
  ): vscode.DebugConfiguration {
    if (raw.type || raw.request || raw.name) return raw;
    return { type: DEBUG_TYPE, request: 'launch', name: 'Debug on EC2', program: '${file}', justMyCode: true };
  }

  async resolveDebugConfigurationWithSubstitutedVariables(
    _folder: vscode.WorkspaceFolder | undefined,
    raw: vscode.DebugConfiguration,
  ): Promise<vscode.DebugConfiguration | undefined> {
    try {
      const editor = vscode.window.activeTextEditor?.document;
      const config = resolveConfiguration(
        raw as Partial<Ec2DebugConfiguration>,
        editor && !editor.isUntitled ? { path: editor.uri.fsPath, languageId: editor.languageId } : undefined,
      );
      const target = await this.targetOf(config);
      if (!target) return undefined;
      return config.request === 'attach' ? await this.attach(config, target) : await this.launch(config, target);
    } catch (error) {
      if (error instanceof DebugConfigError) void vscode.window.showErrorMessage(error.message);
      else this.deps.showError(error);
      return undefined; // abort the session (null would open launch.json)
    }
  }

  createDebugAdapterDescriptor(session: vscode.DebugSession): vscode.ProviderResult<vscode.DebugAdapterDescriptor> {
    const port = Number(session.configuration.ec2RunnerPort);
    if (!this.active.has(port))
      throw new Error('This EC2 debug session has no forwarded port (start it with F5 or "Debug Active File on EC2").');
    return new vscode.DebugAdapterServer(port, '127.0.0.1');
  }

  private async targetOf(config: Ec2DebugConfiguration): Promise<TargetLabel | undefined> {
    if (config.instance) return { instanceId: config.instance };
    return (await this.deps.runner.resolveTargets(undefined))?.[0];
  }

  private async attach(config: Ec2DebugConfiguration, target: TargetLabel): Promise<vscode.DebugConfiguration> {
    const forward = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `Forwarding debug port ${config.remotePort} of ${target.instanceId}…`,
      },
      () =>
        this.deps
          .engine()
          .forwardPort({ instanceId: target.instanceId, remotePort: config.remotePort!, localPort: config.localPort }),
    );
    this.active.set(forward.localPort, { forward, watcher: new SessionEndWatcher() });
    void forward.closed.then(() => this.active.delete(forward.localPort));
    return attachConfiguration(config, forward.localPort, config.pathMappings);
  }

  private async launch(
    config: Ec2DebugConfiguration,
    target: TargetLabel,
  ): Promise<vscode.DebugConfiguration | undefined> {
    const settings = this.deps.settings();
    const args = config.args ?? [];
    const { project, localRoot } = launchSource(config);
    const file = await fileToRun(vscode.Uri.file(config.program!), settings);
    const source: RunSource = project
      ? { kind: 'project', root: project.root, entry: project.entry, args, interpreter: config.python }
      : { kind: 'file', fileName: file.fileName, content: file.content, args, interpreter: config.python };
    const request = runRequestFor(source, [target], settings);
    if (config.env) request.env = { ...request.env, ...config.env };
    if (config.cwd) request.workingDirectory = config.cwd;
    let debugRun: DebugRunHandle | undefined;
    const label = `debug ${file.fileName}${args.length ? ` ${args.join(' ')}` : ''}`;
    const started = this.deps.controller.start({
      ...runSpecFor(
        label,
        project
          ? { kind: 'project', ...project, args }
          : { kind: 'file', uri: file.uri.toString(), fileName: file.fileName, args },
        request,
        [target],
        { ...settings, feedback: settings.feedback === 'fireAndForget' ? 'exitCode' : settings.feedback },
      ),
      start: async () => {
        debugRun = await this.deps.engine().startDebugRun({
          ...request,
          debugpy: { path: settings.debugpyPath.trim() || undefined, candidates: bundledDebugpyFolders() },
          remotePort: config.remotePort,
          localPort: config.localPort,
        });
        return debugRun.run;
      },
    });
    const endpoint = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `Starting ${file.fileName} under debugpy on ${target.name ?? target.instanceId}…`,
        cancellable: true,
      },
      async (_progress, token) => {
        await started.started;
        if (!debugRun) return undefined; // failed to start: the Output channel says why
        token.onCancellationRequested(() => void this.deps.controller.cancel(started.record.id));
        return debugRun.ready;
      },
    );
    if (!endpoint || !debugRun) return undefined;
    this.active.set(endpoint.localPort, { debugRun, runId: started.record.id, watcher: new SessionEndWatcher() });
    void started.done.then(() => this.active.delete(endpoint.localPort));
    return attachConfiguration(
      config,
      endpoint.localPort,
      [{ localRoot, remoteRoot: endpoint.remoteRoot }],
      started.record.id,
    );
  }

  private async ended(session: vscode.DebugSession): Promise<void> {
    if (session.type !== DEBUG_TYPE) return;
    const port = Number(session.configuration.ec2RunnerPort);
    const active = this.active.get(port);
    if (!active) return;
    this.active.delete(port);
    if (active.runId && active.watcher.userStopped) await this.deps.controller.cancel(active.runId);
    await active.debugRun?.close();
    await active.forward?.close();
  }
}
