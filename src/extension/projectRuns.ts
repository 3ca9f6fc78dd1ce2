// "Run Selection on EC2" and "Run File with Its Project Folder on EC2": both become engine RunSources (a selection,
// a project) and go through Runner like any run.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunSource } from '../core/frontEnd';
import type { RerunSource } from './history';
import type { Runner } from './runner';

/** Files that mark a project's root folder, nearest first wins. */
export const PROJECT_MARKERS = ['pyproject.toml', 'requirements.txt', '.ec2-runner'];

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}

/** The nearest ancestor folder (up to the workspace folder) holding a marker, else the workspace folder. */
export async function projectRootFor(file: vscode.Uri): Promise<vscode.Uri | undefined> {
  const workspace = vscode.workspace.getWorkspaceFolder(file);
  const top = workspace?.uri.fsPath ?? path.dirname(file.fsPath);
  for (let dir = path.dirname(file.fsPath); ; dir = path.dirname(dir)) {
    for (const marker of PROJECT_MARKERS)
      if (await exists(vscode.Uri.file(path.join(dir, marker)))) return vscode.Uri.file(dir);
    if (dir === top || path.dirname(dir) === dir || !dir.startsWith(top)) break;
  }
  return workspace?.uri;
}

/** Runs the active editor's selection (or `text`) as a script of the editor's language. */
export async function runSelection(runner: Runner, text?: string, language?: string): Promise<unknown> {
  const editor = vscode.window.activeTextEditor;
  const selected = text ?? (editor ? editor.selections.map((s) => editor.document.getText(s)).join('\n') : '');
  const languageId = language ?? editor?.document.languageId ?? 'python';
  if (!selected.trim()) {
    void vscode.window.showErrorMessage('Nothing selected: select the code to run on EC2 (Python or shell).');
    return undefined;
  }
  const source: RunSource = { kind: 'selection', text: selected, language: languageId };
  const firstLine = selected.trim().split('\n')[0].slice(0, 40);
  const rerun: RerunSource = { kind: 'selection', text: selected, language: languageId };
  return runner.runSource(`selection: ${firstLine}`, rerun, source);
}

/** Stages the file's project folder and runs the file from there on the instance. */
export async function runProjectFile(runner: Runner, resource?: vscode.Uri): Promise<unknown> {
  const document = resource ? undefined : vscode.window.activeTextEditor?.document;
  const file = resource ?? document?.uri;
  if (!file || file.scheme !== 'file') {
    void vscode.window.showErrorMessage(
      'No saved file to run: open a file of a workspace folder, or right-click one in the Explorer.',
    );
    return undefined;
  }
  if (document?.isDirty) await document.save();
  const root = await projectRootFor(file);
  if (!root) {
    void vscode.window.showErrorMessage(
      `${path.basename(file.fsPath)} is not in a workspace folder: open its folder, or add a pyproject.toml ` +
        `or requirements.txt next to it.`,
    );
    return undefined;
  }
  const entry = path.relative(root.fsPath, file.fsPath).split(path.sep).join('/');
  const rerun: RerunSource = { kind: 'project', root: root.fsPath, entry, args: [] };
  return runner.runSource(`${entry} (${path.basename(root.fsPath)})`, rerun, {
    kind: 'project',
    root: root.fsPath,
    entry,
    args: [],
  });
}
