// The VS Code side of starting a run: which file (saved or the buffer's text, untitled buffers
// too), which instances (clicked, default, or a quick pick of Online ones), which arguments, and
// the settings that shape the request. RunController does the rest.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Engine, RunRequest, RunSource } from '../core/frontEnd';
import { joinArguments, splitArguments } from './args';
import type { TargetLabel } from './format';
import type { RerunSource, RunRecord } from './history';
import type { RunController, RunSpec, RunView } from './runController';
import type { RunTerminals } from './runTerminals';
import { startSessionRun } from './sessionRun';
import { withInterpreterSetting, type ExtensionSettings } from './settings';
import { decideTargets, onlinePickItems, type DefaultTarget } from './targets';

const COMMAND_HISTORY_KEY = 'ec2Runner.commandHistory';
const ARGS_BY_FILE_KEY = 'ec2Runner.argumentsByFile';
const COMMAND_HISTORY_LIMIT = 20;

/** File names for untitled buffers, by language (anything else needs a saved file with an extension). */
const UNTITLED_EXTENSIONS: Record<string, string> = { python: '.py', shellscript: '.sh' };

export interface RunnerDeps {
  controller: RunController;
  engine: () => Pick<Engine, 'listInstances' | 'startInteractiveRun' | 'awsCliCommands'>;
  /** Terminals for runs shown in one (`ec2Runner.runIn`: terminal) and for interactive runs. */
  terminals?: Pick<RunTerminals, 'create'>;
  defaultTarget: DefaultTarget;
  settings: () => ExtensionSettings;
  /** Per workspace: arguments last used per file. */
  workspaceState: vscode.Memento;
  /** Across workspaces: the Run Command input's history. */
  globalState: vscode.Memento;
  connectionSummary: () => string;
  showError: (error: unknown) => void;
}

export interface FileToRun {
  uri: vscode.Uri;
  fileName: string;
  content: Uint8Array;
}

class UserError extends Error {}

export class Runner {
  constructor(private readonly deps: RunnerDeps) {}

  /** Runs the active editor's file, or `resource` (explorer, editor title), on `explicit` targets or the default. */
  async runFile(resource?: vscode.Uri, explicit?: TargetLabel[], args?: string[]): Promise<RunRecord | undefined> {
    return this.guard(async () => {
      const settings = this.deps.settings();
      const file = await this.fileToRun(resource, settings);
      const targets = await this.resolveTargets(explicit);
      if (!targets) return undefined;
      const scriptArgs = args ?? (settings.promptForArguments ? await this.askArguments(file) : []);
      if (!scriptArgs) return undefined;
      return this.launchFile(file, scriptArgs, targets, settings);
    });
  }

  /** Runs a shell command line; asks for it (with history) when not given. */
  async runCommand(commandLine?: string, explicit?: TargetLabel[]): Promise<RunRecord | undefined> {
    return this.guard(async () => {
      const command = commandLine?.trim() || (await this.askCommand());
      if (!command) return undefined;
      const targets = await this.resolveTargets(explicit);
      if (!targets) return undefined;
      await this.remember(command);
      return this.launch(
        command,
        { kind: 'command', command },
        { kind: 'command', command },
        targets,
        this.deps.settings(),
      );
    });
  }

  /** Runs a recorded run again: the file's current content (same arguments) or the same command, on the same targets. */
  async rerun(record: RunRecord): Promise<RunRecord | undefined> {
    return this.guard(async () => {
      const settings = this.deps.settings();
      if (record.source.kind === 'command') {
        return this.launch(
          record.source.command,
          record.source,
          { kind: 'command', command: record.source.command },
          record.targets,
          settings,
        );
      }
      if (record.source.kind !== 'file')
        return this.launch(record.label, record.source, record.source, record.targets, settings);
      const file = await this.fileToRun(vscode.Uri.parse(record.source.uri), settings);
      if (record.source.interactive)
        return this.launchInteractive(file, record.source.args, record.targets[0], settings);
      return this.launchFile(file, record.source.args, record.targets, settings);
    });
  }

  /**
   * Runs the active file (or `resource`) in a terminal through Session Manager: what the user types
   * reaches the script's stdin, the pty's size follows the panel, Ctrl+C interrupts. One instance.
   */
  async runFileInteractively(resource?: vscode.Uri, explicit?: TargetLabel[]): Promise<RunRecord | undefined> {
    return this.guard(async () => {
      const settings = this.deps.settings();
      const file = await this.fileToRun(resource, settings);
      const targets = await this.resolveTargets(explicit);
      if (!targets) return undefined;
      if (targets.length !== 1)
        throw new UserError(
          `An interactive run takes one instance (its terminal is one pty): run it on ${targets[0].name ?? targets[0].instanceId} alone, or use Run Active File on EC2 for several.`,
        );
      const args = settings.promptForArguments ? await this.askArguments(file) : [];
      if (!args) return undefined;
      return this.launchInteractive(file, args, targets[0], settings);
    });
  }

  /** Runs any engine source (a selection, a project) on `explicit` targets or the default. */
  async runSource(
    label: string,
    rerun: RerunSource,
    source: RunSource,
    explicit?: TargetLabel[],
  ): Promise<RunRecord | undefined> {
    return this.guard(async () => {
      const targets = await this.resolveTargets(explicit);
      if (!targets) return undefined;
      return this.launch(label, rerun, source, targets, this.deps.settings());
    });
  }

  /** Quick pick of Online instances; the pick becomes the workspace's default target. */
  async pickTarget(title = 'Run on which EC2 instance?'): Promise<TargetLabel | undefined> {
    const items = this.deps
      .engine()
      .listInstances({ pingStatus: ['Online'] })
      .then((instances) => {
        const rows = onlinePickItems(instances, this.deps.defaultTarget.get());
        if (rows.length === 0) {
          throw new UserError(
            `No Online SSM-managed instance (${this.deps.connectionSummary()}): start one with the SSM agent and an instance profile, or check the profile and region.`,
          );
        }
        return rows;
      });
    const picked = await vscode.window.showQuickPick(items, {
      title,
      placeHolder: 'Online SSM-managed instances',
      matchOnDescription: true,
    });
    if (!picked) return undefined;
    await this.deps.defaultTarget.set(picked.target);
    return picked.target;
  }

  private async launchFile(
    file: FileToRun,
    args: string[],
    targets: TargetLabel[],
    settings: ExtensionSettings,
  ): Promise<RunRecord> {
    const source: RunSource = { kind: 'file', fileName: file.fileName, content: file.content, args };
    const label = args.length ? `${file.fileName} ${joinArguments(args)}` : file.fileName;
    return this.launch(
      label,
      { kind: 'file', uri: file.uri.toString(), fileName: file.fileName, args },
      source,
      targets,
      settings,
    );
  }

  private async launchInteractive(
    file: FileToRun,
    args: string[],
    target: TargetLabel,
    settings: ExtensionSettings,
  ): Promise<RunRecord> {
    const terminals = this.deps.terminals;
    if (!terminals) throw new UserError('Interactive runs need a terminal, and this window has none.');
    const label = args.length ? `${file.fileName} ${joinArguments(args)}` : file.fileName;
    let recordId: string | undefined;
    const cancel = () => void (recordId && this.deps.controller.cancel(recordId));
    // Focus goes to the terminal: the user types there.
    const view = terminals.create(`EC2: ${label}`, { interactive: true, cancel, closedWhileRunning: cancel }, false);
    const source: RunSource = withInterpreterSetting(
      { kind: 'file', fileName: file.fileName, content: file.content, args },
      settings.interpreter,
    );
    const engine = this.deps.engine();
    const run = this.deps.controller.start({
      label,
      source: { kind: 'file', uri: file.uri.toString(), fileName: file.fileName, args, interactive: true },
      request: {
        launch: () =>
          startSessionRun(engine, {
            request: {
              source,
              instanceId: target.instanceId,
              workingDirectory: settings.workingDirectory.trim() || undefined,
              env: stringValues(settings.env),
            },
            connect: (input) => view.connect(input),
            notice: (text) => view.notice(text),
          }),
      },
      targets: [target],
      feedback: settings.feedback === 'fireAndForget' ? 'exitCode' : settings.feedback,
      clearPreviousOutput: false,
      preserveFocus: false,
      view,
    });
    recordId = run.record.id;
    return run.done;
  }

  /** "Copy as AWS CLI Command": the `aws` commands that run `record` again (the file's current content, today's settings). */
  async awsCliCommands(record: RunRecord): Promise<string | undefined> {
    return this.guard(async () => {
      const settings = this.deps.settings();
      const rerun = record.source;
      let source: RunSource;
      let localPath: string | undefined;
      if (rerun.kind === 'command') source = rerun;
      else if (rerun.kind === 'selection') source = { kind: 'selection', text: rerun.text, language: rerun.language };
      else if (rerun.kind === 'project')
        source = { kind: 'project', root: rerun.root, entry: rerun.entry, args: rerun.args };
      else {
        const file = await this.fileToRun(vscode.Uri.parse(rerun.uri), { ...settings, saveBeforeRun: false });
        source = { kind: 'file', fileName: file.fileName, content: file.content, args: rerun.args };
        localPath = file.uri.scheme === 'file' ? file.uri.fsPath : undefined;
      }
      return this.deps
        .engine()
        .awsCliCommands(runRequestFor(source, record.targets, settings), { localPath, label: record.label });
    });
  }

  /** A terminal for this run when the settings say so (a fire-and-forget run shows nothing). */
  private terminalFor(
    label: string,
    targets: TargetLabel[],
    settings: ExtensionSettings,
    cancel: () => void,
  ): RunView | undefined {
    if (settings.runIn !== 'terminal' || settings.feedback === 'fireAndForget' || !this.deps.terminals)
      return undefined;
    const names = new Map(targets.map((t) => [t.instanceId, t.name ?? t.instanceId]));
    return this.deps.terminals.create(
      `EC2: ${label}`,
      { interactive: false, cancel, instanceLabel: targets.length > 1 ? (id) => names.get(id) ?? id : undefined },
      settings.preserveFocus,
    );
  }

  private async launch(
    label: string,
    rerun: RerunSource,
    source: RunSource,
    targets: TargetLabel[],
    settings: ExtensionSettings,
  ): Promise<RunRecord> {
    const request = runRequestFor(source, targets, settings);
    let recordId: string | undefined;
    const view = this.terminalFor(
      label,
      targets,
      settings,
      () => void (recordId && this.deps.controller.cancel(recordId)),
    );
    const run = this.deps.controller.start({ ...runSpecFor(label, rerun, request, targets, settings), view });
    recordId = run.record.id;
    if (settings.feedback === 'fireAndForget') {
      await run.started;
      return run.record;
    }
    return run.done;
  }

  async resolveTargets(explicit: TargetLabel[] | undefined): Promise<TargetLabel[] | undefined> {
    const decision = decideTargets(explicit, this.deps.defaultTarget.get());
    if (decision.kind === 'use') return decision.targets;
    const picked = await this.pickTarget();
    return picked ? [picked] : undefined;
  }

  async fileToRun(resource: vscode.Uri | undefined, settings: ExtensionSettings): Promise<FileToRun> {
    const document = resource
      ? vscode.workspace.textDocuments.find((d) => d.uri.toString() === resource.toString())
      : vscode.window.activeTextEditor?.document;
    if (!document) {
      if (!resource)
        throw new UserError(
          'No active file to run: open a Python or shell script, or right-click one in the Explorer.',
        );
      const content = await vscode.workspace.fs.readFile(resource);
      return { uri: resource, fileName: path.posix.basename(resource.path), content };
    }
    if (document.isUntitled) {
      const extension = UNTITLED_EXTENSIONS[document.languageId];
      if (!extension)
        throw new UserError(
          `Cannot tell how to run an untitled ${document.languageId} buffer: set its language to Python or Shell Script, or save it with an extension.`,
        );
      return {
        uri: document.uri,
        fileName: `${sanitize(path.posix.basename(document.uri.path))}${extension}`,
        content: encode(document.getText()),
      };
    }
    if (document.isDirty && settings.saveBeforeRun) await document.save();
    // The buffer's text is what runs, saved or not (saveBeforeRun only decides whether the file on disk follows).
    return { uri: document.uri, fileName: path.posix.basename(document.uri.path), content: encode(document.getText()) };
  }

  private async askArguments(file: FileToRun): Promise<string[] | undefined> {
    const remembered = this.deps.workspaceState.get<Record<string, string>>(ARGS_BY_FILE_KEY) ?? {};
    const line = await vscode.window.showInputBox({
      title: `Arguments for ${file.fileName}`,
      prompt: 'Quoted as in a shell, e.g. --epochs 3 "my file.txt" (nothing is expanded)',
      value: remembered[file.uri.toString()] ?? '',
      validateInput: (text) => {
        try {
          splitArguments(text);
          return undefined;
        } catch (error) {
          return (error as Error).message;
        }
      },
    });
    if (line === undefined) return undefined;
    await this.deps.workspaceState.update(ARGS_BY_FILE_KEY, { ...remembered, [file.uri.toString()]: line });
    return splitArguments(line);
  }

  /** An input with history: type a new command or pick a previous one. */
  private async askCommand(): Promise<string | undefined> {
    const history = this.deps.globalState.get<string[]>(COMMAND_HISTORY_KEY) ?? [];
    const pick = vscode.window.createQuickPick();
    pick.title = 'Run Command on EC2';
    pick.placeholder = 'Shell command to run on the instance (sh -c), e.g. uname -a; previous commands below';
    const historyItems = history.map((command) => ({ label: command, description: 'previous' }));
    pick.items = historyItems;
    pick.onDidChangeValue((value) => {
      const typed = value.trim();
      pick.items =
        typed && !history.includes(typed)
          ? [{ label: typed, description: 'run this command' }, ...historyItems]
          : historyItems;
    });
    try {
      return await new Promise<string | undefined>((resolve) => {
        pick.onDidAccept(() => resolve(pick.selectedItems[0]?.label ?? (pick.value.trim() || undefined)));
        pick.onDidHide(() => resolve(undefined));
        pick.show();
      });
    } finally {
      pick.dispose();
    }
  }

  private async remember(command: string): Promise<void> {
    const history = this.deps.globalState.get<string[]>(COMMAND_HISTORY_KEY) ?? [];
    await this.deps.globalState.update(
      COMMAND_HISTORY_KEY,
      [command, ...history.filter((c) => c !== command)].slice(0, COMMAND_HISTORY_LIMIT),
    );
  }

  /** User mistakes and AWS failures end here as one actionable message; the command itself resolves. */
  private async guard<T>(fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof UserError) void vscode.window.showErrorMessage(error.message);
      else this.deps.showError(error);
      return undefined;
    }
  }
}

/** The engine request for a source on targets, shaped by the settings. */

function encode(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function sanitize(name: string): string {
  return name.replace(/[^\w.-]+/g, '-') || 'untitled';
}

/** Only string values reach the instance's environment (settings.json may hold anything). */
function stringValues(env: Record<string, unknown> | undefined): Record<string, string> | undefined {
  const entries = Object.entries(env ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string');
  return entries.length ? Object.fromEntries(entries) : undefined;
}

/** The engine request for a source on these targets, shaped by the settings (runs and debug runs alike). */
export function runRequestFor(source: RunSource, targets: TargetLabel[], settings: ExtensionSettings): RunRequest {
  return {
    source: withInterpreterSetting(source, settings.interpreter),
    target: { kind: 'instances', instanceIds: targets.map((t) => t.instanceId) },
    workingDirectory: settings.workingDirectory.trim() || undefined,
    env: stringValues(settings.env),
    timeoutSeconds: settings.timeoutSeconds,
    transferMode: settings.transferMode,
    installDependencies: settings.installDependencies,
    venvRoot: settings.venvRoot.trim() || undefined,
  };
}

/** How the controller shows a run: label, rerun source and the feedback settings. */
export function runSpecFor(
  label: string,
  rerun: RerunSource,
  request: RunRequest,
  targets: TargetLabel[],
  settings: ExtensionSettings,
): RunSpec {
  return {
    label,
    source: rerun,
    request,
    targets,
    feedback: settings.feedback,
    clearPreviousOutput: settings.clearPreviousOutput,
    preserveFocus: settings.preserveFocus,
  };
}
