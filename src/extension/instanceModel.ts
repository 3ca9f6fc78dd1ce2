// How instances are labelled, filtered, ordered and picked; and which welcome state the Instances
// view shows after a failure. No `vscode` here: instancesView.ts and runner.ts render it.
import type { ManagedInstance } from '../core/frontEnd';
import type { TargetLabel } from './format';

export type InstancesState =
  'loading' | 'ready' | 'empty' | 'filtered' | 'noCredentials' | 'noRegion' | 'noBucket' | 'error';

export function instanceLabel(instance: ManagedInstance): string {
  return instance.name || instance.computerName || instance.instanceId;
}

export function targetLabelOf(instance: ManagedInstance): TargetLabel {
  return { instanceId: instance.instanceId, name: instance.name || instance.computerName || undefined };
}

export function platformText(instance: ManagedInstance): string | undefined {
  const name = [instance.platformName, instance.platformVersion].filter(Boolean).join(' ');
  return name || instance.platformType || undefined;
}

/** The short line next to the label: id · ping status unless Online · platform · IP. */
export function instanceDescription(instance: ManagedInstance, isDefault = false): string {
  const ping = isOnline(instance) ? undefined : String(instance.pingStatus);
  return [isDefault ? 'default' : undefined, instance.instanceId, ping, platformText(instance), instance.ipAddress]
    .filter(Boolean)
    .join(' · ');
}

export function instanceTooltip(instance: ManagedInstance): string {
  const lines = [
    `${instanceLabel(instance)}`,
    `Instance: ${instance.instanceId}`,
    `Ping status: ${instance.pingStatus}`,
    platformText(instance) && `Platform: ${platformText(instance)}`,
    instance.ipAddress && `IP address: ${instance.ipAddress}`,
    instance.computerName && `Computer name: ${instance.computerName}`,
    instance.agentVersion && `SSM agent: ${instance.agentVersion}`,
    instance.lastPingDateTime && `Last ping: ${new Date(instance.lastPingDateTime).toISOString()}`,
    ...Object.entries(instance.tags ?? {}).map(([k, v]) => `Tag ${k}=${v}`),
  ];
  return lines.filter(Boolean).join('\n');
}

export function isOnline(instance: ManagedInstance): boolean {
  return instance.pingStatus === 'Online';
}

/** ThemeIcon id and colour id per ping status: distinct shape AND colour, so it reads without colour too. */
export function pingIcon(pingStatus: string): { id: string; color: string } {
  switch (pingStatus) {
    case 'Online':
      return { id: 'vm-running', color: 'testing.iconPassed' };
    case 'ConnectionLost':
      return { id: 'debug-disconnect', color: 'testing.iconFailed' };
    case 'Inactive':
      return { id: 'vm-outline', color: 'disabledForeground' };
    default:
      return { id: 'question', color: 'problemsWarningIcon.foreground' };
  }
}

/**
 * Filter text: every whitespace-separated term must match. `key=value` matches a tag; other terms
 * match (case-insensitively, as a substring) the name, id, IP, platform, ping status or a tag.
 */
export function matchesFilter(instance: ManagedInstance, filter: string): boolean {
  const terms = filter.toLowerCase().split(/\s+/).filter(Boolean);
  const tags = Object.entries(instance.tags ?? {}).map(([k, v]) => `${k}=${v}`.toLowerCase());
  const haystack = [
    instance.name,
    instance.computerName,
    instance.instanceId,
    instance.ipAddress,
    platformText(instance),
    instance.pingStatus,
    ...tags,
  ]
    .filter(Boolean)
    .map((s) => String(s).toLowerCase());
  return terms.every((term) =>
    term.includes('=') ? tags.some((t) => t === term || t.startsWith(term)) : haystack.some((h) => h.includes(term)),
  );
}

/** Online first, then by label, then id: the order of the tree and the quick pick. */
export function sortInstances(instances: readonly ManagedInstance[]): ManagedInstance[] {
  return [...instances].sort(
    (a, b) =>
      Number(isOnline(b)) - Number(isOnline(a)) ||
      instanceLabel(a).localeCompare(instanceLabel(b)) ||
      a.instanceId.localeCompare(b.instanceId),
  );
}

/** The welcome state for an engine error code (see RunnerError codes in src/core/errors.ts). */
export function stateForError(code: string | undefined): InstancesState {
  switch (code) {
    case 'NoCredentials':
    case 'CredentialsExpired':
    case 'InvalidCredentials':
    case 'ProfileNotFound':
      return 'noCredentials';
    case 'NoRegion':
      return 'noRegion';
    case 'NoSuchBucket':
      return 'noBucket';
    default:
      return 'error';
  }
}

/**
 * The instances a view-item command acts on. VS Code passes the clicked item and the selection;
 * the selection counts only when it contains the clicked item (as in the Explorer).
 */
export function itemsActedOn<T>(
  clicked: T | undefined,
  selected: readonly T[] | undefined,
  same: (a: T, b: T) => boolean,
): T[] {
  if (!clicked) return [...(selected ?? [])];
  if (selected && selected.length > 1 && selected.some((s) => same(s, clicked))) return [...selected];
  return [clicked];
}
