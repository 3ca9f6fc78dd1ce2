// The Instances view: SSM-managed instances with ping status, platform and IP; filter; default
// target marker. Failures land in the view itself: a welcome view (credentials, region, bucket,
// nothing found) keyed on the `ec2Runner.instancesState` context key, or an error item.
import * as vscode from 'vscode';
import type { Engine, ManagedInstance } from '../core/frontEnd';
import { errorCodeOf, errorMessageOf } from './errorInfo';
import {
  instanceDescription,
  instanceLabel,
  instanceTooltip,
  isOnline,
  matchesFilter,
  pingIcon,
  sortInstances,
  stateForError,
  type InstancesState,
} from './instanceModel';
import type { DefaultTarget } from './targets';

export const INSTANCES_VIEW_ID = 'ec2Runner.instances';
export const STATE_CONTEXT_KEY = 'ec2Runner.instancesState';
export const FILTER_CONTEXT_KEY = 'ec2Runner.filterActive';

export class InstanceNode {
  constructor(readonly instance: ManagedInstance) {}
}

/** A line of information in the tree (an error, a warning), optionally clickable. */
export class MessageNode {
  constructor(
    readonly text: string,
    readonly icon: vscode.ThemeIcon,
    readonly tooltip: string,
    readonly command?: vscode.Command,
  ) {}
}

export type InstancesNode = InstanceNode | MessageNode;

export interface InstancesViewDeps {
  engine: () => Pick<Engine, 'listInstances' | 'bucketStatus'>;
  defaultTarget: DefaultTarget;
  /** "profile · region · endpoint", shown as the view's description. */
  connectionSummary: () => string;
}

export class InstancesView implements vscode.TreeDataProvider<InstancesNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<InstancesNode | undefined | void>();
  readonly onDidChangeTreeData = this.changed.event;
  readonly view: vscode.TreeView<InstancesNode>;
  private instances: ManagedInstance[] = [];
  private warning?: MessageNode;
  private failure?: string;
  private state: InstancesState = 'loading';
  private filterText = '';
  private loading?: Promise<void>;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly deps: InstancesViewDeps) {
    this.view = vscode.window.createTreeView(INSTANCES_VIEW_ID, {
      treeDataProvider: this,
      canSelectMany: true,
      showCollapseAll: false,
    });
    this.disposables.push(
      this.view,
      this.changed,
      deps.defaultTarget.onDidChange(() => this.changed.fire()),
    );
    void this.setState('loading');
  }

  get currentState(): InstancesState {
    return this.state;
  }

  get filter(): string {
    return this.filterText;
  }

  /** The instances last listed (unfiltered). */
  get all(): readonly ManagedInstance[] {
    return this.instances;
  }

  /** Lists again; resolves when the tree has the new data (or the failure). */
  refresh(): Promise<void> {
    this.loading = this.load();
    this.changed.fire();
    return this.loading;
  }

  async setFilter(text: string): Promise<void> {
    this.filterText = text.trim();
    await vscode.commands.executeCommand('setContext', FILTER_CONTEXT_KEY, this.filterText !== '');
    this.changed.fire();
  }

  async getChildren(element?: InstancesNode): Promise<InstancesNode[]> {
    if (element) return [];
    await (this.loading ??= this.load());
    if (this.failure !== undefined && this.state === 'error') {
      return [
        new MessageNode(
          this.failure,
          new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground')),
          `${this.failure}\n\nClick to retry.`,
          { title: 'Refresh', command: 'ec2Runner.refreshInstances' },
        ),
      ];
    }
    if (this.state !== 'ready' && this.state !== 'filtered') return [];
    const shown = this.filterText ? this.instances.filter((i) => matchesFilter(i, this.filterText)) : this.instances;
    await this.setState(shown.length === 0 ? 'filtered' : 'ready');
    this.updateMessage(shown.length);
    const nodes: InstancesNode[] = shown.map((i) => new InstanceNode(i));
    return this.warning && shown.length > 0 ? [this.warning, ...nodes] : nodes;
  }

  getTreeItem(node: InstancesNode): vscode.TreeItem {
    if (node instanceof MessageNode) {
      const item = new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
      item.iconPath = node.icon;
      item.tooltip = node.tooltip;
      item.command = node.command;
      item.contextValue = 'message';
      return item;
    }
    const instance = node.instance;
    const isDefault = this.deps.defaultTarget.get()?.instanceId === instance.instanceId;
    const item = new vscode.TreeItem(instanceLabel(instance), vscode.TreeItemCollapsibleState.None);
    item.id = instance.instanceId;
    item.description = instanceDescription(instance, isDefault);
    item.tooltip = instanceTooltip(instance);
    const icon = pingIcon(String(instance.pingStatus));
    item.iconPath = new vscode.ThemeIcon(icon.id, new vscode.ThemeColor(icon.color));
    item.contextValue = `instance.${isOnline(instance) ? 'online' : 'offline'}${isDefault ? '.default' : ''}`;
    item.accessibilityInformation = {
      label:
        `${instanceLabel(instance)}, ${instance.instanceId}, ` +
        `${instance.pingStatus}${isDefault ? ', default target' : ''}`,
    };
    return item;
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  private async load(): Promise<void> {
    await this.setState('loading');
    this.view.description = this.deps.connectionSummary();
    this.warning = undefined;
    this.failure = undefined;
    try {
      const engine = this.deps.engine();
      const [instances, bucket] = await Promise.all([engine.listInstances(), checkBucket(engine)]);
      this.instances = sortInstances(instances);
      if (bucket.kind === 'missing') {
        this.failure = `The staging bucket ${bucket.bucket} does not exist.`;
        await this.setState('noBucket');
        this.view.message =
          `${this.failure} Create it, or set ec2Runner.bucket / EC2_RUNNER_BUCKET ` + 'to an existing bucket.';
        return;
      }
      if (bucket.kind === 'unknown') {
        // Listing works but the bucket check did not (e.g. no s3:ListBucket): show the instances and say why runs may
        // fail.
        this.warning = new MessageNode(
          `Staging bucket not checked: ${bucket.message}`,
          new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground')),
          bucket.message,
        );
      }
      await this.setState(this.instances.length === 0 ? 'empty' : 'ready');
      this.view.message =
        this.instances.length === 0 ? `No SSM-managed instances found (${this.deps.connectionSummary()}).` : undefined;
    } catch (error) {
      this.instances = [];
      this.failure = errorMessageOf(error);
      await this.setState(stateForError(errorCodeOf(error)));
      this.view.message = this.failure;
    }
  }

  private updateMessage(shownCount: number): void {
    if (!this.filterText) {
      this.view.message = undefined;
      return;
    }
    this.view.message =
      shownCount === 0
        ? `No instance matches "${this.filterText}" (${this.instances.length} listed).`
        : `Filter "${this.filterText}": ${shownCount} of ${this.instances.length} instances.`;
  }

  private async setState(state: InstancesState): Promise<void> {
    if (state === this.state && state !== 'loading') return;
    this.state = state;
    await vscode.commands.executeCommand('setContext', STATE_CONTEXT_KEY, state);
  }
}

type BucketCheck = { kind: 'ok' } | { kind: 'missing'; bucket: string } | { kind: 'unknown'; message: string };

async function checkBucket(engine: Pick<Engine, 'bucketStatus'>): Promise<BucketCheck> {
  try {
    const status = await engine.bucketStatus();
    return status.exists ? { kind: 'ok' } : { kind: 'missing', bucket: status.bucket };
  } catch (error) {
    // Credential and region failures surface through listInstances; only the bucket's own trouble is reported here.
    return { kind: 'unknown', message: errorMessageOf(error) };
  }
}
