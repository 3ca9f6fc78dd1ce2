// Status bar: the last run's file and target (click reruns), a spinner while a run is going (click
// shows the output) and a separate stop item that cancels it.
import * as vscode from 'vscode';
import type { RunHistory } from './history';
import { statusView, type StatusView } from './statusText';
import type { DefaultTarget } from './targets';

export const RUNNING_CONTEXT_KEY = 'ec2Runner.running';
export const HAS_LAST_RUN_CONTEXT_KEY = 'ec2Runner.hasLastRun';
/** A default target is chosen (the walkthrough's "Pick an instance" step completes on it). */
export const HAS_DEFAULT_TARGET_CONTEXT_KEY = 'ec2Runner.hasDefaultTarget';

export class RunStatusBar implements vscode.Disposable {
  private readonly main = vscode.window.createStatusBarItem('ec2Runner.status', vscode.StatusBarAlignment.Left, 50);
  private readonly cancel = vscode.window.createStatusBarItem('ec2Runner.cancel', vscode.StatusBarAlignment.Left, 49);
  private readonly disposables: vscode.Disposable[];
  private current?: StatusView;

  constructor(
    private readonly history: RunHistory,
    private readonly defaultTarget: DefaultTarget,
  ) {
    this.main.name = 'EC2 Runner';
    this.cancel.name = 'EC2 Runner: Cancel Run';
    this.cancel.text = '$(debug-stop)';
    this.cancel.tooltip = 'Cancel the running EC2 run';
    this.cancel.command = 'ec2Runner.cancelRun';
    this.disposables = [
      this.main,
      this.cancel,
      history.onDidChange(() => this.update()),
      defaultTarget.onDidChange(() => this.update()),
    ];
    this.update();
  }

  /** What the status bar shows now (for tests). */
  get state(): StatusView & { cancelVisible: boolean } {
    return { ...this.current!, cancelVisible: this.current!.showCancel };
  }

  update(): void {
    const view = statusView(this.history.active(), this.history.last(), this.defaultTarget.get());
    this.current = view;
    this.main.text = view.text;
    this.main.tooltip = view.tooltip;
    this.main.command = view.command;
    this.main.show();
    if (view.showCancel) this.cancel.show();
    else this.cancel.hide();
    void vscode.commands.executeCommand('setContext', RUNNING_CONTEXT_KEY, view.showCancel);
    void vscode.commands.executeCommand('setContext', HAS_LAST_RUN_CONTEXT_KEY, this.history.last() !== undefined);
    void vscode.commands.executeCommand(
      'setContext',
      HAS_DEFAULT_TARGET_CONTEXT_KEY,
      this.defaultTarget.get() !== undefined,
    );
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
