// What a command receives from VS Code: a clicked tree node and the multi-selection, a run record,
// or (keybindings, tests) an instance id or a plain object; each read into the target or record it means.
import type { ManagedInstance } from '../core/frontEnd';
import type { TargetLabel } from './format';
import type { RunRecord } from './history';
import { itemsActedOn, targetLabelOf } from './instanceModel';
import { InstanceNode } from './instancesView';

/** Instances a view-item command acts on (clicked + multi-selection), as targets. */
export function targetsFrom(node: unknown, selected: unknown): TargetLabel[] | undefined {
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
export function targetFrom(arg: unknown): TargetLabel | undefined {
  if (arg instanceof InstanceNode) return targetLabelOf(arg.instance);
  if (typeof arg === 'string' && arg) return { instanceId: arg };
  const value = arg as Partial<ManagedInstance & TargetLabel> | undefined;
  if (value && typeof value.instanceId === 'string') return { instanceId: value.instanceId, name: value.name };
  return undefined;
}

export function isRecord(arg: unknown): arg is RunRecord {
  return Boolean(arg && typeof (arg as RunRecord).id === 'string' && (arg as RunRecord).source);
}
