// The commands of the Instances view: refresh and filter it, copy ids, choose the default target,
// forward a port of an instance.
import * as vscode from 'vscode';
import { targetFrom, targetsFrom } from './commandArgs';
import type { Handler, Services } from './commandServices';
import type { TargetLabel } from './format';
import { instanceDescription, instanceLabel, sortInstances, targetLabelOf } from './instanceModel';

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
