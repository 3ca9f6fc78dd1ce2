// Shows a failure as one actionable message with buttons that fix it (sign in, pick a profile,
// create the bucket, open settings). Never awaited by callers: the toast stays until dismissed.
import * as vscode from 'vscode';
import { describeError } from './errorInfo';

export async function showError(error: unknown, profile: string | undefined): Promise<void> {
  const info = describeError(error, profile);
  const picked = await vscode.window.showErrorMessage(info.message, ...info.actions.map((a) => a.title));
  const action = info.actions.find((a) => a.title === picked);
  if (action) await vscode.commands.executeCommand(action.command, ...(action.args ?? []));
}
