// How much of one run's script output the output channel shows. A run printing gigabytes would
// otherwise flood the channel (and the window's memory); past the limit the channel says once where
// the whole output is: the engine saves output that outgrows its memory to a file per instance and
// stream, whose path the done lines give (fullOutputLines in format.ts). Pure: unit-tested without VS Code.
import { pathToFileURL } from 'node:url';
import type { RunResult } from '../core/frontEnd';

/** The output channel shows at most this many characters of one run's script output. */
export const CHANNEL_RUN_LIMIT_CHARS = 16 * 1024 * 1024;

export function channelTrimmedLine(limit: number): string {
  const mb = Math.round((limit / (1024 * 1024)) * 10) / 10;
  return (
    `\n[Output] trimmed: the output channel shows the first ${mb} MB of this run's output; the whole ` +
    `output is saved to disk (its path follows when the run ends)\n`
  );
}

export class ChannelBudget {
  private readonly shown = new Map<string, number>();
  private readonly trimmed = new Set<string>();

  constructor(private readonly limit = CHANNEL_RUN_LIMIT_CHARS) {}

  /** The part of run `id`'s script output `text` that the channel shows (empty once over the limit). */
  take(id: string, text: string): string {
    if (this.trimmed.has(id)) return '';
    const shown = this.shown.get(id) ?? 0;
    if (shown + text.length <= this.limit) {
      this.shown.set(id, shown + text.length);
      return text;
    }
    this.trimmed.add(id);
    this.shown.delete(id);
    return text.slice(0, this.limit - shown) + channelTrimmedLine(this.limit);
  }

  /** The channel shows no more of run `id`'s output. */
  isTrimmed(id: string): boolean {
    return this.trimmed.has(id);
  }

  /** The run is over: forget it. */
  end(id: string): void {
    this.shown.delete(id);
    this.trimmed.delete(id);
  }
}

/** One line per stream the engine saved to disk (output that outgrew its memory), as links that open it. */
export function fullOutputLines(result: RunResult): string {
  let text = '';
  for (const invocation of result.invocations) {
    for (const [stream, file] of [
      ['stdout', invocation.stdoutFile],
      ['stderr', invocation.stderrFile],
    ] as const) {
      if (file) text += `[Output] whole ${stream} of ${invocation.instanceId}: ${pathToFileURL(file).href}\n`;
    }
  }
  return text;
}
