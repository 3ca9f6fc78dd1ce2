// Every command as a factory `(services) => handler`, registered in one place.
import * as vscode from 'vscode';
import type { Engine, ManagedInstance } from '../core/frontEnd';
import { REGION_PATTERN } from '../core/frontEnd';
import { downloadArtifacts as downloadRunArtifacts } from './artifacts';
import { COMMON_REGIONS, isValidProfileName, listProfiles } from './awsProfiles';
import type { BuiltInSandbox } from './builtinSandbox';
import type { Connection } from './connection';
import type { EngineProvider } from './engineProvider';
import { ssoLoginTerminal } from './errorInfo';
import type { TargetLabel } from './format';
import type { RunHistory, RunRecord } from './history';
import { instanceDescription, instanceLabel, itemsActedOn, sortInstances, targetLabelOf } from './instanceModel';
import { InstanceNode, type InstancesNode, type InstancesView } from './instancesView';
import type { RunOutput } from './output';
import { runProjectFile as runProject, runSelection as runSelected } from './projectRuns';
import type { RunController } from './runController';
import type { Runner } from './runner';
import type { ExtensionSettings } from './settings';
import { effectiveProfile } from './settings';
import type { DefaultTarget } from './targets';
import type { Ec2DebugProvider } from './debugProvider';
import type { PortForwards } from './portForwards';

export interface Services {
  runner: Runner;
  controller: RunController;
  history: RunHistory;
  output: RunOutput;
  instances: InstancesView;
  defaultTarget: DefaultTarget;
  engines: EngineProvider;
  /** The effective settings (workspace choice and sandbox applied). */
  settings: () => ExtensionSettings;
  connection: Connection;
  sandbox: BuiltInSandbox;
  showError: (error: unknown) => void;
  showRunOutput: (record: RunRecord) => Promise<void>;
  debug: Ec2DebugProvider;
  forwards: PortForwards;
}

type Handler = (...args: any[]) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Instances a view-item command acts on (clicked + multi-selection), as targets. */
function targetsFrom(node: unknown, selected: unknown): TargetLabel[] | undefined {
  const clicked = node instanceof InstanceNode ? node : undefined;
  const selection = Array.isArray(selected)
    ? selected.filter((n): n is InstanceNode => n instanceof InstanceNode)
    : undefined;
  if (!clicked && !selection?.length) return undefined;
  return itemsActedOn(clicked, selection, (a, b) => a.instance.instanceId === b.instance.instanceId).map((n) =>
    targetLabelOf(n.instance),
  );
}

/** A target from a tree node, a ManagedInstance, a TargetLabel or an instance id (keybindings, tests). */
function targetFrom(arg: unknown): TargetLabel | undefined {
  if (arg instanceof InstanceNode) return targetLabelOf(arg.instance);
  if (typeof arg === 'string' && arg) return { instanceId: arg };
  const value = arg as Partial<ManagedInstance & TargetLabel> | undefined;
  if (value && typeof value.instanceId === 'string') return { instanceId: value.instanceId, name: value.name };
  return undefined;
}

function isRecord(arg: unknown): arg is RunRecord {
  return Boolean(arg && typeof (arg as RunRecord).id === 'string' && (arg as RunRecord).source);
}

export const runActiveFile =
  (s: Services): Handler =>
  (resource?: unknown) =>
    s.runner.runFile(resource instanceof vscode.Uri ? resource : undefined);

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

export const runActiveFileInteractively =
  (s: Services): Handler =>
  (resource?: unknown) =>
    s.runner.runFileInteractively(resource instanceof vscode.Uri ? resource : undefined);

export const runActiveFileHere =
  (s: Services): Handler =>
  (node?: InstancesNode, selected?: InstancesNode[]) =>
    s.runner.runFile(undefined, targetsFrom(node, selected) ?? []);

export const runCommand =
  (s: Services): Handler =>
  (commandLine?: unknown) =>
    s.runner.runCommand(typeof commandLine === 'string' ? commandLine : undefined);

export const runCommandHere =
  (s: Services): Handler =>
  (node?: InstancesNode, selected?: InstancesNode[]) =>
    s.runner.runCommand(undefined, targetsFrom(node, selected) ?? []);

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

export const refreshInstances =
  (s: Services): Handler =>
  () =>
    s.instances.refresh();

export const filterInstances =
  (s: Services): Handler =>
  async (text?: unknown) => {
    const value =
      typeof text === 'string'
        ? text
        : await vscode.window.showInputBox({
            title: 'Filter Instances',
            prompt: 'Name, instance id, IP, platform or tag KEY=VALUE (all words must match); empty shows all',
            value: s.instances.filter,
          });
    if (value !== undefined) await s.instances.setFilter(value);
  };

export const clearInstanceFilter =
  (s: Services): Handler =>
  () =>
    s.instances.setFilter('');

export const copyInstanceId =
  (_s: Services): Handler =>
  async (node?: unknown, selected?: unknown) => {
    const single = targetFrom(node);
    const ids = (targetsFrom(node, selected) ?? (single ? [single] : [])).map((t) => t.instanceId);
    if (ids.length === 0) return;
    await vscode.env.clipboard.writeText(ids.join('\n'));
    vscode.window.setStatusBarMessage(`Copied ${ids.join(', ')}`, 3000);
  };

export const setDefaultTarget =
  (s: Services): Handler =>
  async (node?: unknown) => {
    const target = targetFrom(node);
    if (target) await s.defaultTarget.set(target);
  };

export const selectTarget =
  (s: Services): Handler =>
  async () => {
    type Item = vscode.QuickPickItem & { target?: TargetLabel };
    const current = s.defaultTarget.get();
    const items: Promise<Item[]> = s.engines
      .get()
      .listInstances()
      .then((instances) => [
        { label: '$(question) Ask every time', description: current ? undefined : 'current' },
        ...sortInstances(instances).map((i) => ({
          label: `${i.pingStatus === 'Online' ? '$(vm-running)' : '$(debug-disconnect)'} ${instanceLabel(i)}`,
          description: instanceDescription(i, i.instanceId === current?.instanceId),
          target: targetLabelOf(i),
        })),
      ]);
    try {
      const picked = await vscode.window.showQuickPick(items, {
        title: 'Default EC2 target for this workspace',
        matchOnDescription: true,
      });
      if (picked) await s.defaultTarget.set(picked.target);
    } catch (error) {
      s.showError(error);
    }
  };

export const selectProfileRegion =
  (s: Services): Handler =>
  async () => {
    const settings = s.settings();
    const profiles = listProfiles().filter(isValidProfileName);
    const profilePick = await vscode.window.showQuickPick(
      [
        {
          label: '$(globe) From the environment',
          description: 'AWS_PROFILE, AWS_ACCESS_KEY_ID… or the default profile',
          value: '',
        },
        ...profiles.map((p) => ({ label: p, description: p === settings.profile ? 'current' : undefined, value: p })),
      ],
      { title: 'AWS profile (1/2)', placeHolder: settings.profile || 'from the environment' },
    );
    if (!profilePick) return;
    const other = { label: 'Other region…', value: undefined as string | undefined };
    const regions = [...new Set([settings.region, ...COMMON_REGIONS].filter(Boolean))];
    const regionPick = await vscode.window.showQuickPick(
      [
        { label: '$(globe) From the profile or AWS_REGION', value: '' as string | undefined },
        ...regions.map((r) => ({
          label: r,
          description: r === settings.region ? 'current' : undefined,
          value: r as string | undefined,
        })),
        other,
      ],
      { title: 'AWS region (2/2)', placeHolder: settings.region || 'from the profile or AWS_REGION' },
    );
    if (!regionPick) return;
    const region =
      regionPick === other
        ? await vscode.window.showInputBox({
            title: 'AWS region',
            prompt: 'e.g. eu-central-1',
            validateInput: (v) => (REGION_PATTERN.test(v.trim()) ? undefined : 'A region looks like eu-central-1'),
          })
        : regionPick.value;
    if (region === undefined) return;
    // Workspace state, not .vscode/settings.json: a committed file would hand the choice to everyone who clones it.
    await s.connection.choose({ profile: profilePick.value, region: region.trim() });
  };

export const ssoLogin =
  (s: Services): Handler =>
  () => {
    const profile = effectiveProfile(s.settings());
    const login = ssoLoginTerminal(profile);
    if (!login) {
      void vscode.window.showErrorMessage(
        `"${profile}" is not an AWS profile name (letters, digits and _ . @ + : / - only): fix ec2Runner.profile or AWS_PROFILE.`,
      );
      return undefined;
    }
    const terminal = vscode.window.createTerminal({ name: 'AWS SSO login', env: login.env });
    terminal.show();
    terminal.sendText(login.text);
    return terminal;
  };

export const createBucket =
  (s: Services): Handler =>
  async (options?: { confirmed?: boolean }) => {
    try {
      const engine: Engine = s.engines.get();
      const status = await engine.bucketStatus();
      if (!status.exists) {
        const create = 'Create Bucket';
        const confirmed =
          options?.confirmed === true ||
          (await vscode.window.showWarningMessage(
            `Create the S3 bucket ${status.bucket}? Public access is blocked, objects are encrypted, and staged files and output expire after 7 days.`,
            { modal: true },
            create,
          )) === create;
        if (!confirmed) return;
        await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: `Creating ${status.bucket}…` },
          () => engine.createBucket(),
        );
        void vscode.window.showInformationMessage(`Created the staging bucket ${status.bucket}.`);
      } else {
        void vscode.window.showInformationMessage(`The staging bucket ${status.bucket} already exists.`);
      }
      await s.instances.refresh();
    } catch (error) {
      s.showError(error);
    }
  };

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

export const trySandbox =
  (s: Services): Handler =>
  async () => {
    try {
      await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Window,
          title: s.sandbox.isRunning ? 'Stopping the EC2 Runner sandbox' : 'Starting the EC2 Runner sandbox',
        },
        () => s.sandbox.toggle(),
      );
    } catch (error) {
      void vscode.window.showErrorMessage(`The sandbox could not start: ${(error as Error).message}`);
    }
    return s.sandbox.isRunning;
  };

export const stopSandbox =
  (s: Services): Handler =>
  async () => {
    await s.sandbox.stop();
    return s.sandbox.isRunning;
  };

export const debugActiveFile =
  (s: Services): Handler =>
  (arg?: unknown) =>
    s.debug.debugFile(
      arg instanceof vscode.Uri ? arg : undefined,
      arg instanceof vscode.Uri ? undefined : targetFrom(arg),
    );

export const forwardPort =
  (s: Services): Handler =>
  async (node?: unknown, spec?: unknown) => {
    try {
      const target = targetFrom(node) ?? (await s.runner.pickTarget('Forward a port of which EC2 instance?'));
      if (!target) return undefined;
      const forward = await s.forwards.forward(target, typeof spec === 'string' ? spec : undefined);
      return forward && { localPort: forward.localPort, url: forward.url };
    } catch (error) {
      s.showError(error);
      return undefined;
    }
  };

export const stopPortForwarding =
  (s: Services): Handler =>
  async () => {
    if (s.forwards.list().length === 0) {
      void vscode.window.showInformationMessage('No port is being forwarded.');
      return false;
    }
    return s.forwards.stop();
  };

/** Command id → factory. package.json contributes exactly these (a test checks both directions). */
export const COMMANDS: Record<string, (s: Services) => Handler> = {
  'ec2Runner.runActiveFile': runActiveFile,
  'ec2Runner.runActiveFileHere': runActiveFileHere,
  'ec2Runner.runCommand': runCommand,
  'ec2Runner.runCommandHere': runCommandHere,
  'ec2Runner.rerunLast': rerunLast,
  'ec2Runner.rerunRun': rerunRun,
  'ec2Runner.cancelRun': cancelRun,
  'ec2Runner.showOutput': showOutput,
  'ec2Runner.showRunOutput': showRunOutput,
  'ec2Runner.clearRunHistory': clearRunHistory,
  'ec2Runner.refreshInstances': refreshInstances,
  'ec2Runner.filterInstances': filterInstances,
  'ec2Runner.clearInstanceFilter': clearInstanceFilter,
  'ec2Runner.copyInstanceId': copyInstanceId,
  'ec2Runner.setDefaultTarget': setDefaultTarget,
  'ec2Runner.selectTarget': selectTarget,
  'ec2Runner.selectProfileRegion': selectProfileRegion,
  'ec2Runner.ssoLogin': ssoLogin,
  'ec2Runner.createBucket': createBucket,
  'ec2Runner.runSelection': runSelection,
  'ec2Runner.runProjectFile': runProjectFile,
  'ec2Runner.downloadArtifacts': downloadArtifacts,
  'ec2Runner.trySandbox': trySandbox,
  'ec2Runner.stopSandbox': stopSandbox,
  'ec2Runner.debugActiveFile': debugActiveFile,
  'ec2Runner.forwardPort': forwardPort,
  'ec2Runner.stopPortForwarding': stopPortForwarding,
  'ec2Runner.runActiveFileInteractively': runActiveFileInteractively,
  'ec2Runner.copyAsAwsCli': copyAsAwsCli,
};

export function registerCommands(services: Services): vscode.Disposable[] {
  return Object.entries(COMMANDS).map(([id, factory]) => vscode.commands.registerCommand(id, factory(services)));
}
