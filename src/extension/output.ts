// The "EC2 Runner" output channel. It also remembers what it printed (bounded) because VS Code
// offers no way to read an output channel back: the extension-host tests assert on that text.
import * as vscode from 'vscode';
import type { OutputSink } from './runController';

export const OUTPUT_CHANNEL_NAME = 'EC2 Runner';
const RECORDED_LIMIT = 2 * 1024 * 1024;

export class RunOutput implements OutputSink, vscode.Disposable {
  private readonly channel = vscode.window.createOutputChannel(OUTPUT_CHANNEL_NAME);
  private recorded = '';

  append(text: string): void {
    if (!text) return;
    this.channel.append(text);
    this.recorded += text;
    if (this.recorded.length > RECORDED_LIMIT)
      this.recorded = this.recorded.slice(this.recorded.length - RECORDED_LIMIT);
  }

  show(preserveFocus: boolean): void {
    this.channel.show(preserveFocus);
  }

  clear(): void {
    this.channel.clear();
    this.recorded = '';
  }

  /** What the channel shows (since the last clear). */
  text(): string {
    return this.recorded;
  }

  dispose(): void {
    this.channel.dispose();
  }
}
