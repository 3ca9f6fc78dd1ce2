// Reads the `ec2Runner.*` settings. No defaults here: getConfiguration returns package.json's
// `contributes.configuration` defaults for anything the user has not set (one source of truth).
import * as vscode from 'vscode';
import { ENGINE_SETTING_KEYS, SETTING_KEYS, type ExtensionSettings } from './settings';

export const SECTION = 'ec2Runner';

export function readSettings(scope?: vscode.ConfigurationScope): ExtensionSettings {
  const config = vscode.workspace.getConfiguration(SECTION, scope);
  const values: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) values[key] = config.get(key);
  return values as unknown as ExtensionSettings;
}

export function affectsEngine(event: vscode.ConfigurationChangeEvent): boolean {
  return ENGINE_SETTING_KEYS.some((key) => event.affectsConfiguration(`${SECTION}.${key}`));
}

/** Writes a setting where the user will see it: the workspace when one is open, else the user settings. */
export async function writeSetting(key: keyof ExtensionSettings, value: unknown): Promise<void> {
  const target = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await vscode.workspace.getConfiguration(SECTION).update(key, value, target);
}
