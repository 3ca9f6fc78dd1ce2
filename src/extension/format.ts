// What the "EC2 Runner" output channel says about a run: header, live output, done lines, result.
// Kept free of `vscode` so the exact text is unit-tested.
import type { InvocationResult, OutputChunk, RunResult } from '../core/frontEnd';
import { TextDecoder } from 'node:util';
import { isTerminalStatus } from '../core/frontEnd';

export const STDERR_PREFIX = '[stderr] ';

/** A target as the user sees it: its Name tag (when any) and its id. */
export interface TargetLabel {
  instanceId: string;
  name?: string;
}

export function describeInstance(target: TargetLabel): string {
  return target.name ? `${target.name} (${target.instanceId})` : target.instanceId;
}

export function describeTargets(targets: readonly TargetLabel[]): string {
  return targets.length === 0 ? 'no instance' : targets.map(describeInstance).join(', ');
}

/** 0.4 s, 12.3 s, 2 min 5 s, 1 h 2 min. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const totalSeconds = Math.round(ms / 1000);
  const minutes = Math.floor(totalSeconds / 60);
  if (minutes < 60) return `${minutes} min ${totalSeconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function headerLine(
  what: string,
  targets: readonly TargetLabel[],
  commandId: string,
  verb = 'Running',
  kind: 'command' | 'session' = 'command',
): string {
  return `[${verb}] ${what} on ${describeTargets(targets)} · ${kind} ${commandId}\n`;
}

export function failedToStartLine(what: string, targets: readonly TargetLabel[], message: string): string {
  return `[Failed] ${what} on ${describeTargets(targets)} did not start: ${message}\n`;
}

function exitCodeText(exitCode: number | null): string {
  return exitCode === null ? 'exit code none' : `exit code ${exitCode}`;
}

/**
 * `[Done] exit code N · <status> · <duration>` plus the reason for anything but Success; with
 * several instances each line names its instance.
 */
export function doneLine(invocation: InvocationResult, durationMs: number, instance?: TargetLabel): string {
  const who = instance ? ` ${describeInstance(instance)}:` : '';
  const verb = isTerminalStatus(invocation.status) ? 'Done' : 'Not done yet';
  const parts = [`[${verb}]${who} ${exitCodeText(invocation.exitCode)}`, invocation.status, formatDuration(durationMs)];
  if (invocation.reason) parts.push(invocation.reason);
  return `${parts.join(' · ')}\n`;
}

export function resultBlock(result: unknown, instance?: TargetLabel): string {
  if (result === null || result === undefined) return '';
  const body = typeof result === 'string' ? result : JSON.stringify(result, null, 2);
  return `[Result]${instance ? ` ${describeInstance(instance)}` : ''}\n${body}\n`;
}

export function outputLocationLine(
  invocations: readonly InvocationResult[],
  commandId: string,
  liveLocation?: string,
): string {
  if (invocations.length > 0 && invocations.every((i) => i.outputSource === 'live')) {
    return liveLocation
      ? `[Output] complete output in ${liveLocation}\n`
      : `[Output] complete output from the live channel (command ${commandId})\n`;
  }
  return `[Output] from SSM (may be truncated at 24,000 characters); the SSM console shows command ${commandId}\n`;
}

export interface CompletionOptions {
  durationMs: number;
  targets: readonly TargetLabel[];
  showResult: boolean;
  liveLocation?: string;
  /** An interactive run (Session Manager): its output was all shown as it came, nothing is kept elsewhere. */
  session?: boolean;
}

/** Everything printed after the run ends. */
export function completionText(result: RunResult, options: CompletionOptions): string {
  const names = new Map(options.targets.map((t) => [t.instanceId, t]));
  const several = result.invocations.length > 1;
  let text = '';
  for (const invocation of result.invocations) {
    const label = several ? (names.get(invocation.instanceId) ?? { instanceId: invocation.instanceId }) : undefined;
    const ownDuration =
      several && invocation.startedAt && invocation.endedAt
        ? invocation.endedAt.getTime() - invocation.startedAt.getTime()
        : options.durationMs;
    text += doneLine(invocation, ownDuration, label);
  }
  if (result.invocations.length === 0)
    text += `[Done] no instance ran the command · ${formatDuration(options.durationMs)}\n`;
  if (options.showResult) {
    for (const invocation of result.invocations) {
      text += resultBlock(
        invocation.result,
        several ? (names.get(invocation.instanceId) ?? { instanceId: invocation.instanceId }) : undefined,
      );
    }
  }
  if (!options.session) text += outputLocationLine(result.invocations, result.commandId, options.liveLocation);
  return text;
}

/** The run's overall status: Success only when every invocation succeeded, else the first non-success. */
export function overallStatus(result: RunResult): { status: string; exitCode: number | null; reason?: string } {
  const failed = result.invocations.find((i) => i.status !== 'Success' || i.exitCode !== 0);
  const pick = failed ?? result.invocations[0];
  if (!pick) return { status: 'Failed', exitCode: null, reason: 'no instance ran the command' };
  return { status: pick.status, exitCode: pick.exitCode, reason: pick.reason };
}

/**
 * Turns live output chunks into channel text as they arrive: stderr lines get STDERR_PREFIX, and
 * with several instances every line starts with its instance. A line left open by one stream is
 * ended before another stream writes, so prefixes always start a line. Multi-byte characters split
 * across chunks are decoded correctly (one streaming decoder per instance and stream).
 */
export class LiveOutputFormatter {
  private readonly decoders = new Map<string, TextDecoder>();
  /** The stream whose line is still open (no newline yet), if any. */
  private openLine?: string;

  constructor(private readonly instanceLabel?: (instanceId: string) => string) {}

  push(chunk: OutputChunk): string {
    const key = `${chunk.instanceId}\u0000${chunk.stream}`;
    let decoder = this.decoders.get(key);
    if (!decoder) this.decoders.set(key, (decoder = new TextDecoder('utf-8')));
    return this.write(key, chunk.instanceId, chunk.stream, decoder.decode(chunk.data, { stream: true }));
  }

  /** Flushes undecoded bytes and ends an open line; call once when the run is over. */
  finish(): string {
    let text = '';
    for (const [key, decoder] of this.decoders) {
      const [instanceId, stream] = key.split('\u0000');
      text += this.write(key, instanceId, stream, decoder.decode());
    }
    this.decoders.clear();
    if (this.openLine) text += '\n';
    this.openLine = undefined;
    return text;
  }

  private write(key: string, instanceId: string, stream: string, text: string): string {
    if (!text) return '';
    let out = '';
    if (this.openLine && this.openLine !== key) {
      out += '\n';
      this.openLine = undefined;
    }
    const prefix =
      (this.instanceLabel ? `[${this.instanceLabel(instanceId)}] ` : '') + (stream === 'stderr' ? STDERR_PREFIX : '');
    for (const piece of text.split(/(?<=\n)/)) {
      if (this.openLine !== key) out += prefix;
      out += piece;
      this.openLine = piece.endsWith('\n') ? undefined : key;
    }
    return out;
  }
}

/** A run's output rebuilt from a status snapshot (another window followed it): stdout, then stderr, then the end. */
export function transcriptFromResult(
  what: string,
  targets: readonly TargetLabel[],
  result: RunResult,
  showResult: boolean,
): string {
  let text = headerLine(what, targets, result.commandId, 'Status');
  const several = result.invocations.length > 1;
  const names = new Map(targets.map((t) => [t.instanceId, t.name ?? t.instanceId]));
  for (const invocation of result.invocations) {
    const formatter = new LiveOutputFormatter(several ? (id) => names.get(id) ?? id : undefined);
    const encoder = new TextEncoder();
    text += formatter.push({
      instanceId: invocation.instanceId,
      stream: 'stdout',
      data: encoder.encode(invocation.stdout),
    });
    text += formatter.push({
      instanceId: invocation.instanceId,
      stream: 'stderr',
      data: encoder.encode(invocation.stderr),
    });
    text += formatter.finish();
  }
  const ended = result.invocations
    .map((i) => (i.startedAt && i.endedAt ? i.endedAt.getTime() - i.startedAt.getTime() : NaN))
    .find(Number.isFinite);
  return text + completionText(result, { durationMs: ended ?? NaN, targets, showResult });
}
