// The VS Code side of starting a run: which file (fileToRun.ts), which instances (clicked, default,
// or a quick pick of Online ones), which arguments or command line (runPrompts.ts), shown in the
// output channel or a terminal; runRequest.ts shapes the request. RunController does the rest.
import * as vscode from 'vscode';
import type { Engine, RunSource } from '../core/frontEnd';
import { joinArguments } from './args';
import { fileToRun, type FileToRun } from './fileToRun';
import type { TargetLabel } from './format';
import type { RerunSource, RunRecord } from './history';
import type { RunController, RunView } from './runController';
import { RunPrompts } from './runPrompts';
import { runRequestFor, runSpecFor, stringValues } from './runRequest';
import type { RunTerminals } from './runTerminals';
import { startSessionRun } from './sessionRun';
import { withInterpreterSetting, type ExtensionSettings } from './settings';
import { decideTargets, onlinePickItems, type DefaultTarget } from './targets';
import { UserError } from './userError';

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

export class Runner {
  private readonly prompts: RunPrompts;

  constructor(private readonly deps: RunnerDeps) {
    this.prompts = new RunPrompts(deps.workspaceState, deps.globalState);
  }

  /** Runs the active editor's file, or `resource` (explorer, editor title), on `explicit` targets or the default. */
  async runFile(resource?: vscode.Uri, explicit?: TargetLabel[], args?: string[]): Promise<RunRecord | undefined> {
    return this.guard(async () => {
      const settings = this.deps.settings();
      const file = await fileToRun(resource, settings);
      const targets = await this.resolveTargets(explicit);
      if (!targets) return undefined;
      const scriptArgs = args ?? (settings.promptForArguments ? await this.prompts.askArguments(file) : []);
      if (!scriptArgs) return undefined;
      return this.launchFile(file, scriptArgs, targets, settings);
    });
  }

  /** Runs a shell command line; asks for it (with history) when not given. */
  async runCommand(commandLine?: string, explicit?: TargetLabel[]): Promise<RunRecord | undefined> {
    return this.guard(async () => {
      const command = commandLine?.trim() || (await this.prompts.askCommand());
      if (!command) return undefined;
      const targets = await this.resolveTargets(explicit);
      if (!targets) return undefined;
      await this.prompts.remember(command);
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
      const file = await fileToRun(vscode.Uri.parse(record.source.uri), settings);
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
      const file = await fileToRun(resource, settings);
      const targets = await this.resolveTargets(explicit);
      if (!targets) return undefined;
      if (targets.length !== 1)
        throw new UserError(
          `An interactive run takes one instance (its terminal is one pty): run it on ${targets[0].name ?? targets[0].instanceId} alone, or use Run Active File on EC2 for several.`,
        );
      const args = settings.promptForArguments ? await this.prompts.askArguments(file) : [];
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
        const file = await fileToRun(vscode.Uri.parse(rerun.uri), { ...settings, saveBeforeRun: false });
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
