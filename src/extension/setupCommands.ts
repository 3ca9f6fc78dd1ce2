// The commands that set up the connection: profile and region, SSO sign-in, the staging bucket, and
// the built-in sandbox.
import * as vscode from 'vscode';
import type { Engine } from '../core/frontEnd';
import { REGION_PATTERN } from '../core/frontEnd';
import { COMMON_REGIONS, isValidProfileName, listProfiles } from './awsProfiles';
import type { Handler, Services } from './commandServices';
import { ssoLoginTerminal } from './errorInfo';
import { effectiveProfile } from './settings';

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
