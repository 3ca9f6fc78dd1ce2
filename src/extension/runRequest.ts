// The engine request and the controller's run spec for a source on targets, shaped by the settings
// (runs, reruns, interactive runs and debug runs alike).
import type { RunRequest, RunSource } from '../core/frontEnd';
import type { TargetLabel } from './format';
import type { RerunSource } from './history';
import type { RunSpec } from './runController';
import { withInterpreterSetting, type ExtensionSettings } from './settings';

/** Only string values reach the instance's environment (settings.json may hold anything). */
export function stringValues(env: Record<string, unknown> | undefined): Record<string, string> | undefined {
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
