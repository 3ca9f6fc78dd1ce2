// A run shown in a terminal (the `ec2Runner.runIn` setting, and interactive runs): the logic behind
// the vscode.Pseudoterminal, free of `vscode` so it is unit-tested with fakes. The script's output
// passes through as a terminal shows it (colours, `\r` progress bars; only "\n" becomes "\r\n"),
// EC2 Runner's own lines are dimmed, Ctrl+C cancels a Run Command run, and an interactive run gets
// every keystroke and the panel's size.
import { TextDecoder } from 'node:util';
import type { OutputChunk } from '../core/frontEnd';

export const CTRL_C = '\u0003';
const DIM = '\u001b[2m';
const NORMAL = '\u001b[22m';

/** The part of the run an interactive terminal talks to (InteractiveRunHandle). */
export interface TerminalInput {
  write(bytes: Buffer): void;
  resize(cols: number, rows: number): void;
}

export interface TerminalDimensions {
  columns: number;
  rows: number;
}

export interface TerminalRunOptions {
  /** What the Pseudoterminal's onDidWrite fires. */
  write(text: string): void;
  /** Closes the terminal (the Pseudoterminal's onDidClose). */
  close(): void;
  /** True: keystrokes reach the script (a pty over Session Manager); false: only Ctrl+C counts. */
  interactive: boolean;
  /** Ctrl+C in a Run Command run's terminal: cancel the run. */
  cancel(): void;
  /** The user closed the terminal while the run was going. */
  closedWhileRunning?(): void;
  /** With several instances, the name that starts each of an instance's lines. */
  instanceLabel?: (instanceId: string) => string;
}

/**
 * "\n" (not already after "\r") becomes "\r\n": a terminal needs both, and "\r" alone (progress bars) stays as it is.
 */
export function terminalNewlines(text: string): string {
  return text.replace(/\r?\n/g, '\r\n');
}

/** EC2 Runner's own lines ("[Running] …", "[Done] …"), dimmed so the script's output stands out. */
export function noticeText(text: string): string {
  return text
    .split(/(?<=\n)/)
    .map((line) => (line.endsWith('\n') ? `${DIM}${line.slice(0, -1)}${NORMAL}\n` : `${DIM}${line}${NORMAL}`))
    .map(terminalNewlines)
    .join('');
}

export class TerminalRun {
  private opened = false;
  private readonly held: string[] = [];
  private readonly decoders = new Map<string, TextDecoder>();
  /** True when the last text written left the cursor at the start of a line. */
  private atLineStart = true;
  /** The instance whose line is open (several instances only). */
  private openInstance?: string;
  private input?: TerminalInput;
  private readonly pendingInput: Buffer[] = [];
  private dimensions?: TerminalDimensions;
  private running = true;
  private hinted = false;

  constructor(private readonly options: TerminalRunOptions) {}

  // The Pseudoterminal's side (VS Code calls these).

  open(initial: TerminalDimensions | undefined): void {
    this.opened = true;
    if (initial) this.setDimensions(initial);
    for (const text of this.held.splice(0)) this.options.write(text);
  }

  /** The terminal was closed (its trash icon, or the window). */
  close(): void {
    if (this.running) this.options.closedWhileRunning?.();
    this.running = false;
  }

  handleInput(data: string): void {
    if (!this.running) {
      this.options.close(); // "Press any key to close", as a task's terminal
      return;
    }
    if (this.options.interactive) {
      const bytes = Buffer.from(data, 'utf8');
      if (this.input) this.input.write(bytes);
      else this.pendingInput.push(bytes);
      return;
    }
    if (data.includes(CTRL_C)) {
      this.options.cancel();
    } else if (!this.hinted) {
      this.hinted = true;
      this.notice(
        '(Typed input does not reach a Run Command run: use "Run Active File Interactively on EC2" for a ' +
          'script that reads stdin. Ctrl+C cancels.)\n',
      );
    }
  }

  setDimensions(dimensions: TerminalDimensions): void {
    this.dimensions = dimensions;
    this.input?.resize(dimensions.columns, dimensions.rows);
  }

  // The run's side.

  /** The interactive run started: input typed so far and the panel's size go to it. */
  connect(input: TerminalInput): void {
    this.input = input;
    if (this.dimensions) input.resize(this.dimensions.columns, this.dimensions.rows);
    for (const bytes of this.pendingInput.splice(0)) input.write(bytes);
  }

  /** EC2 Runner's own text (header, warnings, done lines); always starts on a fresh line. */
  notice(text: string): void {
    if (!text) return;
    this.emit(`${this.atLineStart ? '' : '\r\n'}${noticeText(text)}`);
    this.openInstance = undefined;
  }

  /** The script's output as it arrived (multi-byte characters split across chunks are decoded whole). */
  output(chunk: OutputChunk): void {
    const key = `${chunk.instanceId}\u0000${chunk.stream}`;
    let decoder = this.decoders.get(key);
    if (!decoder) this.decoders.set(key, (decoder = new TextDecoder('utf-8')));
    this.outputText(chunk.instanceId, decoder.decode(chunk.data, { stream: true }));
  }

  /** The run is over: flush what is undecoded, then "press any key". */
  ended(): void {
    for (const [key, decoder] of this.decoders) this.outputText(key.split('\u0000')[0], decoder.decode());
    this.decoders.clear();
    this.running = false;
    this.notice('Press any key to close this terminal.\n');
  }

  get isRunning(): boolean {
    return this.running;
  }

  private outputText(instanceId: string, text: string): void {
    if (!text) return;
    const label = this.options.instanceLabel;
    if (!label) {
      this.emit(terminalNewlines(text));
      return;
    }
    // Several instances: each line starts with its instance, so interleaved lines stay readable.
    let lineStart = this.atLineStart || this.openInstance !== instanceId;
    let out = lineStart && !this.atLineStart ? '\r\n' : '';
    for (const piece of text.split(/(?<=\n)/)) {
      if (lineStart) out += `${DIM}[${label(instanceId)}]${NORMAL} `;
      out += terminalNewlines(piece);
      lineStart = piece.endsWith('\n');
    }
    this.openInstance = lineStart ? undefined : instanceId;
    this.emit(out);
  }

  private emit(text: string): void {
    if (!text) return;
    this.atLineStart = text.endsWith('\n');
    if (this.opened) this.options.write(text);
    else this.held.push(text);
  }
}
