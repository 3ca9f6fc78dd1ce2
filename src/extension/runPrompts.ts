// What a run asks the user for: a file's arguments (remembered per file in the workspace) and a
// shell command line (typed, or picked from a history kept across workspaces).
import * as vscode from 'vscode';
import { splitArguments } from './args';
import type { FileToRun } from './fileToRun';

const COMMAND_HISTORY_KEY = 'ec2Runner.commandHistory';
const ARGS_BY_FILE_KEY = 'ec2Runner.argumentsByFile';
const COMMAND_HISTORY_LIMIT = 20;

export class RunPrompts {
  constructor(
    /** Per workspace: arguments last used per file. */
    private readonly workspaceState: vscode.Memento,
    /** Across workspaces: the Run Command input's history. */
    private readonly globalState: vscode.Memento,
  ) {}

  /** The file's arguments, quoted as in a shell; undefined when the user cancels. */
  async askArguments(file: FileToRun): Promise<string[] | undefined> {
    const remembered = this.workspaceState.get<Record<string, string>>(ARGS_BY_FILE_KEY) ?? {};
    const line = await vscode.window.showInputBox({
      title: `Arguments for ${file.fileName}`,
      prompt: 'Quoted as in a shell, e.g. --epochs 3 "my file.txt" (nothing is expanded)',
      value: remembered[file.uri.toString()] ?? '',
      validateInput: (text) => {
        try {
          splitArguments(text);
          return undefined;
        } catch (error) {
          return (error as Error).message;
        }
      },
    });
    if (line === undefined) return undefined;
    await this.workspaceState.update(ARGS_BY_FILE_KEY, { ...remembered, [file.uri.toString()]: line });
    return splitArguments(line);
  }

  /** An input with history: type a new command or pick a previous one. */
  async askCommand(): Promise<string | undefined> {
    const history = this.globalState.get<string[]>(COMMAND_HISTORY_KEY) ?? [];
    const pick = vscode.window.createQuickPick();
    pick.title = 'Run Command on EC2';
    pick.placeholder = 'Shell command to run on the instance (sh -c), e.g. uname -a; previous commands below';
    const historyItems = history.map((command) => ({ label: command, description: 'previous' }));
    pick.items = historyItems;
    pick.onDidChangeValue((value) => {
      const typed = value.trim();
      pick.items =
        typed && !history.includes(typed)
          ? [{ label: typed, description: 'run this command' }, ...historyItems]
          : historyItems;
    });
    try {
      return await new Promise<string | undefined>((resolve) => {
        pick.onDidAccept(() => resolve(pick.selectedItems[0]?.label ?? (pick.value.trim() || undefined)));
        pick.onDidHide(() => resolve(undefined));
        pick.show();
      });
    } finally {
      pick.dispose();
    }
  }

  /** Puts `command` first in the history (once), keeping the newest few. */
  async remember(command: string): Promise<void> {
    const history = this.globalState.get<string[]>(COMMAND_HISTORY_KEY) ?? [];
    await this.globalState.update(
      COMMAND_HISTORY_KEY,
      [command, ...history.filter((c) => c !== command)].slice(0, COMMAND_HISTORY_LIMIT),
    );
  }
}
