// Reads the `ec2Runner.*` settings. No defaults here: getConfiguration returns package.json's
// `contributes.configuration` defaults for anything the user has not set (one source of truth).
import * as vscode from 'vscode';
import { ENGINE_SETTING_KEYS, SETTING_KEYS, trustedValue, type ExtensionSettings } from './settings';

export const SECTION = 'ec2Runner';

/**
 * The settings in effect; in Restricted Mode the workspace's values of restricted settings are ignored (as VS Code
 * does).
 */
export function readSettings(
  scope?: vscode.ConfigurationScope,
  trusted = vscode.workspace.isTrusted,
): ExtensionSettings {
  const config = vscode.workspace.getConfiguration(SECTION, scope);
  const values: Record<string, unknown> = {};
  for (const key of SETTING_KEYS)
    values[key] = trustedValue(key, trusted ? undefined : config.inspect(key), config.get(key), trusted);
  return values as unknown as ExtensionSettings;
}

export function affectsEngine(event: vscode.ConfigurationChangeEvent): boolean {
  return ENGINE_SETTING_KEYS.some((key) => event.affectsConfiguration(`${SECTION}.${key}`));
}
