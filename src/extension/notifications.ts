// Tells the user how a run ended when they are not watching the output: fire-and-forget runs
// always notify on completion; failures to start always show the actionable error.
import * as vscode from 'vscode';
import { formatDuration } from './format';
import type { RunRecord } from './history';
import type { RunNotifier } from './runController';
import type { Feedback } from './settings';
import { showError } from './errors';

export class Notifications implements RunNotifier {
  constructor(private readonly profile: () => string | undefined) {}

  finished(record: RunRecord, feedback: Feedback): void {
    if (feedback !== 'fireAndForget') return;
    const ok = record.status === 'Success' && record.exitCode === 0;
    const duration = record.endedAt ? ` in ${formatDuration(record.endedAt - record.startedAt)}` : '';
    const exit = record.exitCode === null || record.exitCode === undefined ? '' : `, exit code ${record.exitCode}`;
    const ending = ok ? 'finished' : `ended ${record.status ?? 'Unknown'}`;
    const reason = record.reason ? ` (${record.reason})` : '';
    const text = `EC2 Runner: ${record.label} ${ending}${exit}${duration}${reason}.`;
    const show = ok ? vscode.window.showInformationMessage : vscode.window.showWarningMessage;
    void Promise.resolve(show(text, 'Show Output', 'Rerun')).then((picked) => {
      if (picked === 'Show Output') void vscode.commands.executeCommand('ec2Runner.showRunOutput', record);
      if (picked === 'Rerun') void vscode.commands.executeCommand('ec2Runner.rerunRun', record);
    });
  }

  failedToStart(_record: RunRecord, error: unknown): void {
    void showError(error, this.profile());
  }
}
