// The Runs view: this workspace's runs, newest first, with status, exit code and duration; items
// offer show output, rerun and (while running) cancel.
import * as vscode from 'vscode';
import { describeTargets } from './format';
import type { RunHistory, RunRecord } from './history';
import { runDescription } from './statusText';

export const RUNS_VIEW_ID = 'ec2Runner.runs';

function statusIcon(record: RunRecord): vscode.ThemeIcon {
  if (record.state !== 'finished') return new vscode.ThemeIcon('sync~spin');
  switch (record.status) {
    case 'Success':
      return new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed'));
    case 'Cancelled':
      return new vscode.ThemeIcon('circle-slash');
    case 'TimedOut':
      return new vscode.ThemeIcon('watch', new vscode.ThemeColor('testing.iconFailed'));
    case 'Failed':
      return new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed'));
    default:
      return new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'));
  }
}

export class RunsView implements vscode.TreeDataProvider<RunRecord>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<RunRecord | undefined | void>();
  readonly onDidChangeTreeData = this.changed.event;
  readonly view: vscode.TreeView<RunRecord>;
  private readonly disposables: vscode.Disposable[];

  constructor(private readonly history: RunHistory) {
    this.view = vscode.window.createTreeView(RUNS_VIEW_ID, { treeDataProvider: this });
    this.disposables = [this.view, this.changed, history.onDidChange(() => this.changed.fire())];
  }

  getChildren(element?: RunRecord): RunRecord[] {
    return element ? [] : [...this.history.all()];
  }

  getTreeItem(record: RunRecord): vscode.TreeItem {
    const item = new vscode.TreeItem(record.label, vscode.TreeItemCollapsibleState.None);
    item.id = record.id;
    item.description = runDescription(record);
    item.iconPath = statusIcon(record);
    const artifacts = record.artifacts ?? [];
    item.contextValue =
      record.state === 'finished' ? (artifacts.length ? 'run.finished.artifacts' : 'run.finished') : 'run.running';
    const lines = [
      `${record.label} on ${describeTargets(record.targets)}`,
      record.commandId && `Command: ${record.commandId}`,
      `Started: ${new Date(record.startedAt).toLocaleString()}`,
      `Status: ${runDescription(record)}`,
      record.reason && `Reason: ${record.reason}`,
      record.liveLocation && `Output: ${record.liveLocation}`,
      artifacts.length > 0 && `Artifacts: ${artifacts.map((a) => a.path).join(', ')}`,
    ];
    item.tooltip = lines.filter(Boolean).join('\n');
    item.command = { title: 'Show Run Output', command: 'ec2Runner.showRunOutput', arguments: [record] };
    return item;
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
