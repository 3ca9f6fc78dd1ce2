// Which bytes "Run Active File" sends: the editor buffer's text, saved or not (an untitled Python or
// shell buffer gets a file name), or the file on disk when no editor has it open.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ExtensionSettings } from './settings';
import { UserError } from './userError';

/** File names for untitled buffers, by language (anything else needs a saved file with an extension). */
const UNTITLED_EXTENSIONS: Record<string, string> = { python: '.py', shellscript: '.sh' };

export interface FileToRun {
  uri: vscode.Uri;
  fileName: string;
  content: Uint8Array;
}

/** `resource`, or the active editor's document, as the file a run sends. */
export async function fileToRun(
  resource: vscode.Uri | undefined,
  settings: Pick<ExtensionSettings, 'saveBeforeRun'>,
): Promise<FileToRun> {
  const document = resource
    ? vscode.workspace.textDocuments.find((d) => d.uri.toString() === resource.toString())
    : vscode.window.activeTextEditor?.document;
  if (!document) {
    if (!resource)
      throw new UserError('No active file to run: open a Python or shell script, or right-click one in the Explorer.');
    const content = await vscode.workspace.fs.readFile(resource);
    return { uri: resource, fileName: path.posix.basename(resource.path), content };
  }
  if (document.isUntitled) {
    const extension = UNTITLED_EXTENSIONS[document.languageId];
    if (!extension)
      throw new UserError(
        `Cannot tell how to run an untitled ${document.languageId} buffer: ` +
          'set its language to Python or Shell Script, or save it with an extension.',
      );
    return {
      uri: document.uri,
      fileName: `${sanitize(path.posix.basename(document.uri.path))}${extension}`,
      content: encode(document.getText()),
    };
  }
  if (document.isDirty && settings.saveBeforeRun) await document.save();
  // The buffer's text is what runs, saved or not (saveBeforeRun only decides whether the file on disk follows).
  return { uri: document.uri, fileName: path.posix.basename(document.uri.path), content: encode(document.getText()) };
}

function encode(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function sanitize(name: string): string {
  return name.replace(/[^\w.-]+/g, '-') || 'untitled';
}
