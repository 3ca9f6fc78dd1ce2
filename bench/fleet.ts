// Fleet: the same short script on 10, 100 and 500 sandbox instances through the engine's fleet
// path (SendCommand Targets by tag), client in its own process.
//
// Definitions:
// - wallOverScriptMs: what a real fleet would wait beyond the script's own runtime. On a real fleet
//   every instance starts the wrapper and runs the script on its own CPU, in parallel; here N
//   instances are N local processes sharing 2 CPUs, so their wrappers start one after another
//   (hundreds of Python start-ups) and the instance-side span says nothing about the client. So:
//     client launch (start() -> first delivery: staging, pre-flight, SendCommand, SSM delivery)
//   + one instance's wrapper startup on an otherwise idle sandbox (delivery -> script start,
//     median of 3 single-instance runs just before the fleet run)
//   + detection tail (latest script end -> wait() resolved).
//   wallMinusScriptSpanMs (wall - (first script start -> last script end)), the earlier
//   definition, is reported too: it counts the serialized wrapper start-ups as launch.
// - A poll round is one burst of SSM calls after SendCommand: calls less than ROUND_GAP_MS apart
//   belong to the same round. ssmCallsPerPollRound = the largest round. Calls before SendCommand
//   (the pre-flight instance check) are not polling and are reported separately.
import { join } from 'node:path';
import { runJsonChild } from './childJson';
import type { FleetClientReport } from './fleetClient';
import { SandboxProcess, ssmCalls } from './sandboxProcess';
import type { CallRecord } from './sandboxHost';
import { median, progress, round } from './stats';

export const ROUND_GAP_MS = 150;

export interface FleetResult {
  instances: number;
  wallOverScriptMs: number;
  ssmCallsPerPollRound: number;
  peakRssMb: number;
  wallMs: number;
  scriptSpanMs: number;
  scriptRuntimeMedianMs: number;
  /** wall - scriptSpanMs (the earlier definition; includes the serialized wrapper start-ups). */
  wallMinusScriptSpanMs: number;
  /** start() called -> first delivery (staging, pre-flight, SendCommand, SSM delivery). */
  clientLaunchMs: number;
  /** Delivery -> script start on an idle sandbox (median of 3 single-instance runs). */
  idleWrapperStartupMs: number;
  /** Delivery -> script start over the fleet (median; inflated by the shared CPUs). */
  fleetWrapperStartupMedianMs: number;
  /** start() called -> first script start (staging, SendCommand, delivery, wrapper start). */
  launchMs: number;
  /** Last script end -> wait() resolved. */
  detectionTailMs: number;
  pollRounds: number;
  /** Operations in the largest poll round. */
  largestRound: Record<string, number>;
  ssmCallsAfterSend: number;
  ssmCallsByOperation: Record<string, number>;
  s3Calls: number;
  peakSsmCallsPerSecond: number;
  ssmOutputFallbacks: number;
  fallbackReason?: string;
}

export function pollRounds(calls: CallRecord[]): CallRecord[][] {
  const sendAt = calls.find((c) => c.operation === 'ssm:SendCommand')?.atMs ?? Infinity;
  const polling = calls.filter((c) => c.atMs > sendAt || (c.atMs === sendAt && c.operation !== 'ssm:SendCommand'));
  const rounds: CallRecord[][] = [];
  for (const call of polling) {
    const current = rounds[rounds.length - 1];
    if (current && call.atMs - current[current.length - 1].atMs < ROUND_GAP_MS) current.push(call);
    else rounds.push([call]);
  }
  return rounds;
}

function countOperations(calls: CallRecord[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of calls) counts[c.operation] = (counts[c.operation] ?? 0) + 1;
  return counts;
}

function peakPerSecond(calls: CallRecord[]): number {
  let peak = 0;
  let start = 0;
  for (let end = 0; end < calls.length; end++) {
    while (calls[end].atMs - calls[start].atMs >= 1000) start++;
    peak = Math.max(peak, end - start + 1);
  }
  return peak;
}

export async function measureFleet(size: number, scriptSeconds: number): Promise<FleetResult> {
  // One more instance than targets: the sandbox makes the last one ConnectionLost (Role=offline).
  const sandbox = await SandboxProcess.start({ instances: size + 1 });
  try {
    const workers = sandbox.onlineInstanceIds.length;
    if (workers !== size) throw new Error(`sandbox has ${workers} online instances, expected ${size}`);
    const client = (args: string[]) =>
      runJsonChild<FleetClientReport>(
        join(__dirname, 'fleetClient.js'),
        [JSON.stringify(sandbox.engineSettings), ...args],
        360_000,
      );
    const idleStartups: number[] = [];
    for (let i = 0; i < 3; i++)
      idleStartups.push(
        (await client(['1', String(scriptSeconds), sandbox.onlineInstanceIds[0]])).wrapperStartupsMs[0],
      );
    const idleWrapperStartupMs = median(idleStartups);
    await sandbox.resetStats();
    const report = await client([String(size), String(scriptSeconds)]);
    const [{ counts }, log] = await Promise.all([sandbox.stats(), sandbox.ssmCallLog()]);
    const rounds = pollRounds(log);
    const wallMs = report.doneAtMs - report.startedAtMs;
    const scriptSpanMs = report.lastScriptEndMs - report.firstScriptStartMs;
    const clientLaunchMs = report.firstDeliveryMs - report.startedAtMs;
    const detectionTailMs = report.doneAtMs - report.lastScriptEndMs;
    const result: FleetResult = {
      instances: size,
      wallOverScriptMs: round(clientLaunchMs + idleWrapperStartupMs + detectionTailMs, 0),
      ssmCallsPerPollRound: Math.max(0, ...rounds.map((r) => r.length)),
      peakRssMb: round(report.maxRssMb),
      wallMs: round(wallMs, 0),
      scriptSpanMs: round(scriptSpanMs, 0),
      scriptRuntimeMedianMs: round(median(report.scriptRuntimesMs), 0),
      wallMinusScriptSpanMs: round(wallMs - scriptSpanMs, 0),
      clientLaunchMs: round(clientLaunchMs, 0),
      idleWrapperStartupMs: round(idleWrapperStartupMs, 0),
      fleetWrapperStartupMedianMs: round(median(report.wrapperStartupsMs), 0),
      launchMs: round(report.firstScriptStartMs - report.startedAtMs, 0),
      detectionTailMs: round(detectionTailMs, 0),
      pollRounds: rounds.length,
      largestRound: countOperations(rounds.reduce<CallRecord[]>((a, r) => (r.length > a.length ? r : a), [])),
      ssmCallsAfterSend: rounds.reduce((n, r) => n + r.length, 0),
      ssmCallsByOperation: Object.fromEntries(Object.entries(counts).filter(([k]) => k.startsWith('ssm:'))),
      s3Calls: Object.entries(counts)
        .filter(([k]) => k.startsWith('s3:'))
        .reduce((n, [, v]) => n + v, 0),
      peakSsmCallsPerSecond: peakPerSecond(log),
      ssmOutputFallbacks: report.ssmOutputFallbacks,
      fallbackReason: report.fallbackReason,
    };
    if (ssmCalls(counts) !== log.length)
      progress(`fleet ${size}: note: sandbox counted ${ssmCalls(counts)} SSM calls, the host log ${log.length}`);
    progress(
      `fleet ${size}: wall ${result.wallMs} ms, script span ${result.scriptSpanMs} ms, over ` +
        `${result.wallOverScriptMs} ms (client launch ${result.clientLaunchMs} + idle wrapper startup ` +
        `${result.idleWrapperStartupMs} + tail ${result.detectionTailMs}; wall - span ` +
        `${result.wallMinusScriptSpanMs}), ${result.ssmCallsPerPollRound} SSM calls in the largest of ` +
        `${result.pollRounds} rounds, RSS ${result.peakRssMb} MB`,
    );
    return result;
  } finally {
    await sandbox.stop();
  }
}
