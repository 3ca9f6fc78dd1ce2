// Which instances a run goes to: the ones the user clicked, else the workspace's default target,
// else ask (a quick pick of Online instances). The default is remembered in workspace storage.
import type { ManagedInstance } from '../core/frontEnd';
import type { TargetLabel } from './format';
import type { KeyValueStore } from './history';
import { instanceDescription, instanceLabel, isOnline, sortInstances, targetLabelOf } from './instanceModel';

export const DEFAULT_TARGET_KEY = 'ec2Runner.defaultTarget';

export class DefaultTarget {
  private readonly listeners = new Set<() => void>();

  constructor(private readonly store: KeyValueStore) {}

  get(): TargetLabel | undefined {
    const value = this.store.get<TargetLabel>(DEFAULT_TARGET_KEY);
    return value && typeof value.instanceId === 'string' ? value : undefined;
  }

  async set(target: TargetLabel | undefined): Promise<void> {
    await this.store.update(
      DEFAULT_TARGET_KEY,
      target ? { instanceId: target.instanceId, name: target.name } : undefined,
    );
    for (const listener of [...this.listeners]) listener();
  }

  onDidChange(listener: () => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }
}

export type TargetDecision = { kind: 'use'; targets: TargetLabel[] } | { kind: 'ask' };

export function decideTargets(
  explicit: readonly TargetLabel[] | undefined,
  defaultTarget: TargetLabel | undefined,
): TargetDecision {
  if (explicit && explicit.length > 0) return { kind: 'use', targets: [...explicit] };
  if (defaultTarget) return { kind: 'use', targets: [defaultTarget] };
  return { kind: 'ask' };
}

export interface TargetPickItem {
  label: string;
  description: string;
  detail?: string;
  target: TargetLabel;
}

/** Quick-pick rows: Online instances only (a command sent to an offline one would just wait), sorted. */
export function onlinePickItems(instances: readonly ManagedInstance[], defaultTarget?: TargetLabel): TargetPickItem[] {
  return sortInstances(instances.filter(isOnline)).map((instance) => ({
    label: instanceLabel(instance),
    description: instanceDescription(instance, instance.instanceId === defaultTarget?.instanceId),
    target: targetLabelOf(instance),
  }));
}
