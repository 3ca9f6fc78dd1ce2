// Terminals that show runs: a vscode.Pseudoterminal around each TerminalRun (terminalRun.ts has the
// logic). A new run's terminal replaces the finished ones, as a task's terminal is reused.
import * as vscode from 'vscode';
import { TerminalRun, type TerminalRunOptions } from './terminalRun';

/** What each terminal was sent (bounded), for the extension-host tests: VS Code cannot read a terminal back. */
const RECORDED_LIMIT = 256 * 1024;

export class RunTerminals implements vscode.Disposable {
  private readonly open = new Map<vscode.Terminal, TerminalRun>();
  private readonly recorded = new Map<string, string>();
  private readonly closing = vscode.window.onDidCloseTerminal((terminal) => this.open.delete(terminal));

  /** Opens (and shows) a terminal named `name` for one run. */
  create(name: string, options: Omit<TerminalRunOptions, 'write' | 'close'>, preserveFocus: boolean): TerminalRun {
    for (const [terminal, run] of this.open) {
      if (!run.isRunning) terminal.dispose();
    }
    const written = new vscode.EventEmitter<string>();
    const closed = new vscode.EventEmitter<void>();
    this.recorded.set(name, '');
    const run = new TerminalRun({
      ...options,
      write: (text) => {
        written.fire(text);
        const all = (this.recorded.get(name) ?? '') + text;
        this.recorded.set(name, all.length > RECORDED_LIMIT ? all.slice(all.length - RECORDED_LIMIT) : all);
      },
      close: () => closed.fire(),
    });
    const pty: vscode.Pseudoterminal = {
      onDidWrite: written.event,
      onDidClose: closed.event,
      open: (dimensions) => run.open(dimensions),
      close: () => {
        run.close();
        written.dispose();
        closed.dispose();
      },
      handleInput: (data) => run.handleInput(data),
      setDimensions: (dimensions) => run.setDimensions(dimensions),
    };
    const terminal = vscode.window.createTerminal({ name, pty, iconPath: new vscode.ThemeIcon('cloud') });
    this.open.set(terminal, run);
    terminal.show(preserveFocus);
    return run;
  }

  /** What the terminal named `name` was sent, escape sequences included. */
  text(name: string): string | undefined {
    return this.recorded.get(name);
  }

  dispose(): void {
    this.closing.dispose();
    for (const terminal of this.open.keys()) terminal.dispose();
    this.open.clear();
  }
}
