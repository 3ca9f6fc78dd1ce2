// The commands that start, rerun, cancel and show runs, and copy or download what a run made.
import * as vscode from 'vscode';
import { downloadArtifacts as downloadRunArtifacts } from './artifacts';
import { isRecord, targetFrom, targetsFrom } from './commandArgs';
import type { Handler, Services } from './commandServices';
import type { InstancesNode } from './instancesView';
import { runProjectFile as runProject, runSelection as runSelected } from './projectRuns';

export const runActiveFile =
  (s: Services): Handler =>
  (resource?: unknown) =>
    s.runner.runFile(resource instanceof vscode.Uri ? resource : undefined);

export const runActiveFileHere =
  (s: Services): Handler =>
  (node?: InstancesNode, selected?: InstancesNode[]) =>
    s.runner.runFile(undefined, targetsFrom(node, selected) ?? []);

export const runActiveFileInteractively =
  (s: Services): Handler =>
  (resource?: unknown) =>
    s.runner.runFileInteractively(resource instanceof vscode.Uri ? resource : undefined);

export const runCommand =
  (s: Services): Handler =>
  (commandLine?: unknown) =>
    s.runner.runCommand(typeof commandLine === 'string' ? commandLine : undefined);

export const runCommandHere =
  (s: Services): Handler =>
  (node?: InstancesNode, selected?: InstancesNode[]) =>
    s.runner.runCommand(undefined, targetsFrom(node, selected) ?? []);

export const runSelection =
  (s: Services): Handler =>
  (text?: unknown, language?: unknown) =>
    runSelected(
      s.runner,
      typeof text === 'string' ? text : undefined,
      typeof language === 'string' ? language : undefined,
    );

export const runProjectFile =
  (s: Services): Handler =>
  (resource?: unknown) =>
    runProject(s.runner, resource instanceof vscode.Uri ? resource : undefined);

export const debugActiveFile =
  (s: Services): Handler =>
  (arg?: unknown) =>
    s.debug.debugFile(
      arg instanceof vscode.Uri ? arg : undefined,
      arg instanceof vscode.Uri ? undefined : targetFrom(arg),
    );

export const rerunLast =
  (s: Services): Handler =>
  async () => {
    const last = s.history.last();
    if (!last) {
      void vscode.window.showInformationMessage(
        'Nothing to rerun yet: run a file with "Run Active File on EC2" first.',
      );
      return undefined;
    }
    return s.runner.rerun(last);
  };

export const rerunRun =
  (s: Services): Handler =>
  (record?: unknown) =>
    isRecord(record) ? s.runner.rerun(record) : undefined;

export const cancelRun =
  (s: Services): Handler =>
  async (record?: unknown) => {
    if (isRecord(record)) return s.controller.cancel(record.id);
    const running = s.history.active();
    if (running.length === 0) {
      void vscode.window.showInformationMessage('No EC2 run is in progress.');
      return;
    }
    const chosen =
      running.length === 1
        ? running[0]
        : (
            await vscode.window.showQuickPick(
              running.map((r) => ({ label: r.label, description: r.commandId, record: r })),
              { title: 'Cancel which run?' },
            )
          )?.record;
    if (chosen) await s.controller.cancel(chosen.id);
  };

export const showOutput =
  (s: Services): Handler =>
  () =>
    s.output.show(false);

export const showRunOutput =
  (s: Services): Handler =>
  (record?: unknown) =>
    isRecord(record) ? s.showRunOutput(record) : s.output.show(false);

export const clearRunHistory =
  (s: Services): Handler =>
  () =>
    s.history.clearFinished();

export const copyAsAwsCli =
  (s: Services): Handler =>
  async (record?: unknown) => {
    const chosen = isRecord(record) ? record : s.history.last();
    if (!chosen) {
      void vscode.window.showInformationMessage('No run to copy yet: run a file or a command first.');
      return undefined;
    }
    const script = await s.runner.awsCliCommands(chosen);
    if (script === undefined) return undefined;
    await vscode.env.clipboard.writeText(script);
    void vscode.window.showInformationMessage(
      `Copied the AWS CLI commands that run ${chosen.label} (a sh script: no live output; a staged file is fetched with the instance role).`,
    );
    return script;
  };

export const downloadArtifacts =
  (s: Services): Handler =>
  async (record?: unknown) => {
    try {
      return await downloadRunArtifacts(s.engines.get(), s.history, record);
    } catch (error) {
      s.showError(error);
      return undefined;
    }
  };
