// The status bar's text, tooltip and click action for the current state. statusBar.ts renders it.
import { describeTargets, formatDuration, type TargetLabel } from './format';
import type { RunRecord } from './history';

export interface StatusView {
  text: string;
  tooltip: string;
  /** The command a click runs. */
  command: string;
  /** Whether the separate cancel item is shown. */
  showCancel: boolean;
}

function shortTarget(targets: readonly TargetLabel[]): string {
  if (targets.length === 0) return 'no target';
  const first = targets[0].name ?? targets[0].instanceId;
  return targets.length > 1 ? `${first} +${targets.length - 1}` : first;
}

function outcome(record: RunRecord): string {
  const parts = [record.status ?? 'Unknown'];
  if (record.exitCode !== undefined && record.exitCode !== null) parts.push(`exit code ${record.exitCode}`);
  if (record.endedAt) parts.push(formatDuration(record.endedAt - record.startedAt));
  return parts.join(', ');
}

export function statusView(
  running: readonly RunRecord[],
  last: RunRecord | undefined,
  defaultTarget: TargetLabel | undefined,
): StatusView {
  if (running.length > 0) {
    const newest = running[0];
    const text =
      running.length > 1
        ? `$(sync~spin) ${running.length} runs`
        : `$(sync~spin) ${newest.label} → ${shortTarget(newest.targets)}`;
    return {
      text,
      tooltip:
        `Running ${newest.label} on ` +
        `${describeTargets(newest.targets)}${running.length > 1 ? ` and ${running.length - 1} more` : ''}. ` +
        `Click to show the output; the stop button cancels.`,
      command: 'ec2Runner.showOutput',
      showCancel: true,
    };
  }
  if (last) {
    return {
      text: `$(play) ${last.label} → ${shortTarget(last.targets)}`,
      tooltip: `Rerun ${last.label} on ${describeTargets(last.targets)} (last run: ${outcome(last)})`,
      command: 'ec2Runner.rerunLast',
      showCancel: false,
    };
  }
  return {
    text: `$(server) ${defaultTarget ? shortTarget([defaultTarget]) : 'EC2: no target'}`,
    tooltip: defaultTarget
      ? `Default EC2 target: ${describeTargets([defaultTarget])}. Click to change.`
      : 'No default EC2 target. Click to choose one.',
    command: 'ec2Runner.selectTarget',
    showCancel: false,
  };
}

/** `web-1 · Failed · exit code 2 · 3.1 s` or `web-1 · InProgress`. */
export function runDescription(record: RunRecord): string {
  const target =
    record.targets.length === 1
      ? (record.targets[0].name ?? record.targets[0].instanceId)
      : `${record.targets.length} instances`;
  const parts = [target, record.state === 'starting' ? 'Starting' : (record.status ?? 'Unknown')];
  if (record.exitCode !== undefined && record.exitCode !== null) parts.push(`exit code ${record.exitCode}`);
  if (record.endedAt) parts.push(formatDuration(record.endedAt - record.startedAt));
  return parts.join(' · ');
}
