// The synchronised fleet: every instance's script waits for one shared wall-clock start, then
// sleeps the same time, so hundreds of exits land together (the plain fleet's exits spread over
// the serialized wrapper start-ups of a 2-CPU simulation, and its tail reacts to one straggler).
//
// On a real fleet the start time could be written into the command. Here the N "instances" are
// local processes whose wrappers start one after another, so no fixed time fits every size: each
// script connects to a gate (a TCP server of this process) and the gate hands out
// start = now + GATE_LEAD_MS once all N are waiting.
//
// Definitions:
// - launchToLastDeliveryMs: start() called -> the last invocation's delivery (SSM's
//   ExecutionStartDateTime: the sandbox's agent started the command on that instance).
// - tailFromLastExitMs: the last script end (its own clock) -> wait() resolved.
// - baselineTailFromLastExitMs: the same run watched the AWS CLI way, side by side:
//   `aws ssm list-command-invocations --command-id ID` (all pages, 50 a page as the CLI asks)
//   every 5 s until no invocation is pending, from the moment the command is visible. Where that
//   5 s grid falls against the exits is chance, so BASELINE_PHASES watchers start 1 s apart and
//   the figure is their mean (the policy's expected tail); each watcher's tail is kept too.
import { createServer, type Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListCommandInvocationsCommand, ListCommandsCommand, SSMClient } from '@aws-sdk/client-ssm';
import { runJsonChild } from './childJson';
import type { FleetClientReport } from './fleetClient';
import { SandboxProcess } from './sandboxProcess';
import { progress, round, sleep } from './stats';

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

export const AWS_CLI_POLL = { intervalMs: 5_000, pageSize: 50 } as const;
export const BASELINE_PHASES = 5;
/** Time from opening the gate to the shared start: every waiting script must wake and reach its sleep. */
export const GATE_LEAD_MS = 3_000;
const GATE_TIMEOUT_MS = 300_000;
const PENDING = new Set(['Pending', 'InProgress', 'Delayed', 'Cancelling']);

export interface FleetSyncResult {
  instances: number;
  launchToLastDeliveryMs: number;
  tailFromLastExitMs: number;
  baselineTailFromLastExitMs: number;
  /** Each baseline watcher's tail (phases 1 s apart). */
  baselineTailsMs: number[];
  /** ListCommandInvocations pages per baseline watcher. */
  baselineSsmCallsPerWatcher: number;
  /** How closely the exits bunched: first -> last script end. */
  scriptEndSpreadMs: number;
  /** start() -> the gate handed out the start time (all scripts waiting). */
  gateOpenedAfterMs: number;
  ssmOutputFallbacks: number;
  /** The last script end -> the last invocation's end as SSM reports it (the wrappers' epilogue on the shared CPUs). */
  lastExitToLastSsmEndMs: number;
  /** The last invocation's end (SSM) -> wait() resolved: the client's own part of the tail. */
  lastSsmEndToDoneMs: number;
  /**
   * The last script end -> the last instance's output line reached the client (sent before the wrapper's epilogue and
   * exit frame).
   */
  lastExitToLastOutputMs: number;
  /** Requests the sandbox received between the last script end and wait() resolved, by operation (all clients). */
  tailRequests: Record<string, number>;
  /** CPU time over the run: the client process, the sandbox process (not its commands). */
  clientCpuMs: number;
  sandboxCpuMs: number;
  /** The sandbox's longest event-loop stall over the run. */
  sandboxEventLoopMaxMs: number;
}

/** Hands every one of `expected` connections the same start time once all are in. */
function startGate(expected: number): { port: Promise<number>; openedAt: Promise<number>; close(): void } {
  const waiting: Socket[] = [];
  let open: (at: number) => void;
  const openedAt = new Promise<number>((resolve) => (open = resolve));
  const release = () => {
    const at = Date.now();
    const line = `${at + GATE_LEAD_MS}\n`;
    for (const socket of waiting.splice(0)) socket.end(line);
    open(at);
  };
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    waiting.push(socket);
    if (waiting.length === expected) release();
  });
  const timer = setTimeout(release, GATE_TIMEOUT_MS);
  const port = new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
  return { port, openedAt, close: () => (clearTimeout(timer), server.close()) };
}

/**
 * The AWS CLI way, from `startAtMs`: list every invocation every 5 s until none is pending; resolves with the time it
 * saw that.
 */
async function cliWatcher(
  ssm: SSMClient,
  commandId: string,
  expected: number,
  startAtMs: number,
  deadlineMs: number,
): Promise<{ doneAtMs: number; calls: number }> {
  await sleep(startAtMs - Date.now());
  let calls = 0;
  for (let pollAt = startAtMs; Date.now() < deadlineMs; pollAt += AWS_CLI_POLL.intervalMs) {
    await sleep(pollAt - Date.now());
    let token: string | undefined;
    let seen = 0;
    let pending = 0;
    do {
      const page = await ssm.send(
        new ListCommandInvocationsCommand({
          CommandId: commandId,
          MaxResults: AWS_CLI_POLL.pageSize,
          NextToken: token,
        }),
      );
      calls++;
      for (const invocation of page.CommandInvocations ?? []) {
        seen++;
        if (PENDING.has(invocation.Status ?? 'Pending')) pending++;
      }
      token = page.NextToken;
    } while (token);
    if (seen >= expected && pending === 0) return { doneAtMs: Date.now(), calls };
  }
  throw new Error(`the AWS CLI watcher still saw pending invocations of ${commandId} at its deadline`);
}

/** Waits for the one command the client sends, then runs the watchers 1 s apart. */
async function watchTheCliWay(
  sandbox: SandboxProcess,
  expected: number,
  deadlineMs: number,
): Promise<Array<{ doneAtMs: number; calls: number }>> {
  const { endpoint, region, accessKeyId, secretAccessKey } = sandbox.info;
  const ssm = new SSMClient({ endpoint, region, credentials: { accessKeyId, secretAccessKey } });
  try {
    let commandId: string | undefined;
    while (!commandId) {
      if (Date.now() > deadlineMs) throw new Error('the fleet command never appeared');
      commandId = (await ssm.send(new ListCommandsCommand({}))).Commands?.[0]?.CommandId;
      if (!commandId) await sleep(100);
    }
    const seenAt = Date.now();
    return await Promise.all(
      Array.from({ length: BASELINE_PHASES }, (_, k) =>
        cliWatcher(ssm, commandId, expected, seenAt + k * 1000, deadlineMs),
      ),
    );
  } finally {
    ssm.destroy();
  }
}

export async function measureFleetSynchronized(size: number, scriptSeconds: number): Promise<FleetSyncResult> {
  const sandbox = await SandboxProcess.start({ instances: size + 1 });
  const gate = startGate(size);
  try {
    const port = await gate.port;
    const deadlineMs = Date.now() + 600_000;
    const watchers = watchTheCliWay(sandbox, size, deadlineMs);
    watchers.catch(() => undefined);
    await sandbox.resetStats();
    const report = await runJsonChild<FleetClientReport>(
      join(__dirname, 'fleetClient.js'),
      [JSON.stringify(sandbox.engineSettings), String(size), String(scriptSeconds), '-', String(port)],
      600_000,
    );
    const baseline = await watchers;
    const [stats, log] = await Promise.all([sandbox.stats(), sandbox.callLog()]);
    const tailRequests: Record<string, number> = {};
    for (const c of log)
      if (c.atMs >= report.lastScriptEndMs && c.atMs <= report.doneAtMs)
        tailRequests[c.operation] = (tailRequests[c.operation] ?? 0) + 1;
    if (process.env.BENCH_TRACE_DIR)
      writeFileSync(
        join(process.env.BENCH_TRACE_DIR, `fleetSync-${size}-${Date.now()}.json`),
        JSON.stringify({ report, baseline, log }),
      );
    const tails = baseline.map((w) => round(w.doneAtMs - report.lastScriptEndMs, 0));
    const result: FleetSyncResult = {
      instances: size,
      launchToLastDeliveryMs: round(report.lastDeliveryMs - report.startedAtMs, 0),
      tailFromLastExitMs: round(report.doneAtMs - report.lastScriptEndMs, 0),
      baselineTailFromLastExitMs: round(mean(tails), 0),
      baselineTailsMs: tails,
      baselineSsmCallsPerWatcher: round(mean(baseline.map((w) => w.calls)), 1),
      scriptEndSpreadMs: round(report.lastScriptEndMs - report.firstScriptEndMs, 0),
      gateOpenedAfterMs: round((await gate.openedAt) - report.startedAtMs, 0),
      ssmOutputFallbacks: report.ssmOutputFallbacks,
      lastExitToLastSsmEndMs: round(report.lastSsmEndMs - report.lastScriptEndMs, 0),
      lastSsmEndToDoneMs: round(report.doneAtMs - report.lastSsmEndMs, 0),
      lastExitToLastOutputMs: round(report.lastOutputAtMs - report.lastScriptEndMs, 0),
      tailRequests,
      clientCpuMs: round(report.clientCpuMs, 0),
      sandboxCpuMs: round(stats.cpuMs, 0),
      sandboxEventLoopMaxMs: round(stats.eventLoopDelayMaxMs, 0),
    };
    progress(
      `fleet ${size} synchronised: launch -> last delivery ${result.launchToLastDeliveryMs} ms, exits within ` +
        `${result.scriptEndSpreadMs} ms, tail ${result.tailFromLastExitMs} ms vs the AWS CLI way ` +
        `${result.baselineTailFromLastExitMs} ms (${tails.join(' / ')}); last exit -> last SSM end ` +
        `${result.lastExitToLastSsmEndMs} ms, -> last output line at the client ` +
        `${result.lastExitToLastOutputMs} ms; last SSM end -> wait() ${result.lastSsmEndToDoneMs} ms; CPU ` +
        `client ${result.clientCpuMs} ms, sandbox ${result.sandboxCpuMs} ms (longest stall ` +
        `${result.sandboxEventLoopMaxMs} ms); requests in the tail ${JSON.stringify(tailRequests)}`,
    );
    return result;
  } finally {
    gate.close();
    await sandbox.stop();
  }
}
