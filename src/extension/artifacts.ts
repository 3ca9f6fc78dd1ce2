// Artifacts in VS Code: a line per run in the output channel, and "Download Artifacts", which fetches
// them again through the engine (attach replays the run's live output, artifacts included, so it works
// after a reload too), saves them in the workspace (or a temp folder) and opens images and tables.
import { mkdtemp } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { RunnerError, type Engine } from '../core/frontEnd';
import { saveRunArtifacts } from './artifactList';
import type { RunHistory, RunRecord } from './history';

/** Folder in the workspace that receives downloaded artifacts, one subfolder per run (`<commandId>/<instanceId>/`). */
export const ARTIFACTS_FOLDER = '.ec2-runner/artifacts';
const OPENED_IN_EDITOR = /\.(png|jpe?g|gif|svg|webp|bmp|csv|tsv|txt|json|md|log)$/i;
const OPEN_AT_MOST = 5;

async function targetFolder(): Promise<string> {
  const workspace = vscode.workspace.workspaceFolders?.[0];
  if (workspace?.uri.scheme === 'file') return path.join(workspace.uri.fsPath, ARTIFACTS_FOLDER);
  return mkdtemp(path.join(os.tmpdir(), 'ec2-runner-artifacts-'));
}

async function openInEditor(file: string): Promise<void> {
  await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(file), { preview: false, preserveFocus: true });
}

/** Downloads a finished run's artifacts; returns the local paths (also opens images and tables). */
export async function downloadArtifacts(
  engine: Pick<Engine, 'attach'>,
  history: RunHistory,
  arg?: unknown,
): Promise<string[] | undefined> {
  const record = recordFrom(history, arg);
  if (!record?.commandId) {
    void vscode.window.showInformationMessage(
      'No run with artifacts: files a script writes to $EC2_RUNNER_ARTIFACTS come back after the run.',
    );
    return undefined;
  }
  const reveal = 'Reveal in Explorer';
  const root = await targetFolder();
  let saved: { folder: string; written: string[] };
  try {
    saved = await saveRunArtifacts(engine, record.commandId, root);
  } catch (error) {
    // Downloaded before: artifacts never overwrite, so point at the existing copy instead.
    if (!(error instanceof RunnerError && error.code === 'ArtifactsFolderExists')) throw error;
    const folder = path.join(root, record.commandId);
    void vscode.window
      .showInformationMessage(`The artifacts of ${record.label} are already in ${folder}.`, reveal)
      .then((choice) => {
        if (choice === reveal) void vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(folder));
      });
    return [];
  }
  const { folder: dir, written } = saved;
  if (written.length === 0) {
    void vscode.window.showInformationMessage(`${record.label} left no artifacts.`);
    return written;
  }
  for (const file of written.filter((f) => OPENED_IN_EDITOR.test(f)).slice(0, OPEN_AT_MOST)) await openInEditor(file);
  void vscode.window
    .showInformationMessage(`Saved ${written.length} artifact(s) of ${record.label} to ${dir}.`, reveal)
    .then((choice) => {
      if (choice === reveal) void vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(written[0]));
    });
  return written;
}

/** A record from a Runs view item, else the newest finished run that has artifacts. */
function recordFrom(history: RunHistory, arg: unknown): RunRecord | undefined {
  const given = arg as RunRecord | undefined;
  if (given && typeof given.id === 'string') return history.get(given.id) ?? given;
  return history.all().find((r) => r.state === 'finished' && (r.artifacts?.length ?? 0) > 0);
}
