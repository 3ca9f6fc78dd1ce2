// Child process: one client running the same short script on every instance tagged
// Role=worker, so that its peak memory (maxRSS) is the client's alone.
// Usage: node fleetClient.js <settings JSON> <expected instance count> <script seconds> [instance id|-] [gate port]
// With an instance id the script runs on that one instance only (the idle wrapper-startup probe).
// With a gate port every script first waits for the shared start time the gate hands out
// (fleetSync.ts: the synchronised fleet).
import { loadEngine, withTimeout } from './engineModule';
import { reportJson } from './childJson';

export interface FleetClientReport {
  startedAtMs: number;
  doneAtMs: number;
  /** Earliest script start and latest script end over all instances (their own clocks). */
  firstScriptStartMs: number;
  lastScriptEndMs: number;
  /** Earliest delivery: SSM's ResponseStartDateTime, when the sandbox's agent started the command. */
  firstDeliveryMs: number;
  /** Latest delivery over all instances. */
  lastDeliveryMs: number;
  /** Earliest script end (the synchronised fleet: how closely the exits bunch). */
  firstScriptEndMs: number;
  commandId: string;
  /** Per instance: delivery -> script start (the instance-side wrapper's startup). */
  wrapperStartupsMs: number[];
  scriptRuntimesMs: number[];
  invocations: number;
  succeeded: number;
  /** Invocations whose output came from SSM instead of the live channel, with one example reason. */
  ssmOutputFallbacks: number;
  fallbackReason?: string;
  maxRssMb: number;
  /** The last invocation's end as SSM reports it (the wrapper exited; the instance side of the tail). */
  lastSsmEndMs: number;
  /**
   * Client clock: the last instance's output line (its first chunk) arrived; the wrapper sends it before its exit
   * frame.
   */
  lastOutputAtMs: number;
  /** Client clock: the last instance's terminal status reached onStatus. */
  lastFinalStatusAtMs: number;
  /** CPU time of the client process over the run (user + system). */
  clientCpuMs: number;
}

/** Prints "<start ns> <end ns>" from the instance's own clock. */
export function fleetCommand(scriptSeconds: number): string {
  return `s=$(date +%s%N); sleep ${scriptSeconds}; echo "$s $(date +%s%N)"`;
}

/**
 * The synchronised fleet's script: connect to the gate (bash's /dev/tcp), read the shared start
 * time (epoch ms), sleep until then, then the same `sleep` as fleetCommand and the same output.
 * EPOCHREALTIME (bash 5) avoids forking `date`: 500 scripts wake at once on the bench's 2 CPUs.
 */
export function syncedFleetCommand(scriptSeconds: number, gatePort: number): string {
  const script = [
    `exec 3<>/dev/tcp/127.0.0.1/${gatePort} || exit 97`,
    'read -r t <&3 || exit 98',
    'exec 3<&-',
    'n=${EPOCHREALTIME/./}; d=$(( t * 1000 - n ))',
    'if [ $d -gt 0 ]; then sleep $(( d / 1000000 )).$(printf %06d $(( d % 1000000 ))); fi',
    `s=\${EPOCHREALTIME/./}; sleep ${scriptSeconds}; e=\${EPOCHREALTIME/./}`,
    'echo "${s}000 ${e}000"',
  ].join('\n');
  return `bash -c '${script}'`;
}

async function main(): Promise<void> {
  const [settingsJson, expectedText, secondsText, instanceArg, gatePort] = process.argv.slice(2);
  const onlyInstance = instanceArg && instanceArg !== '-' ? instanceArg : undefined;
  const expected = Number(expectedText);
  const engine = loadEngine().createEngine(JSON.parse(settingsJson));
  // A warm client, like the extension after its first use: the one-time SDK load is measured by
  // the footprint's first-instance-list probe, not here. identity() makes no SSM call.
  await engine.identity();
  const startedAtMs = Date.now();
  const cpuAtStart = process.cpuUsage();
  const handle = await engine.start({
    source: {
      kind: 'command',
      command: gatePort ? syncedFleetCommand(Number(secondsText), Number(gatePort)) : fleetCommand(Number(secondsText)),
    },
    target: onlyInstance
      ? { kind: 'instances', instanceIds: [onlyInstance] }
      : { kind: 'tags', tags: [{ key: 'Role', value: 'worker' }] },
    // All at once: SSM's default MaxConcurrency of 50 would roll 500 targets out in 10 waves,
    // which measures SSM's rollout, not the client.
    maxConcurrency: '100%',
  });
  const firstOutputAt = new Map<string, number>();
  const finalAt = new Map<string, number>();
  handle.onOutput((chunk) => {
    if (!firstOutputAt.has(chunk.instanceId)) firstOutputAt.set(chunk.instanceId, Date.now());
  });
  handle.onStatus((update) => {
    if (!['Pending', 'InProgress', 'Delayed', 'Cancelling'].includes(update.status))
      finalAt.set(update.instanceId, Date.now());
  });
  // The synchronised fleet first waits until every wrapper has started: on 2 shared CPUs that is the long part.
  const result = await withTimeout(handle.wait(), gatePort ? 600_000 : 300_000, `fleet run on ${expected} instances`);
  const doneAtMs = Date.now();
  const cpu = process.cpuUsage(cpuAtStart);
  engine.dispose();
  const spans = result.invocations.map((i) => [
    ...i.stdout
      .trim()
      .split(/\s+/)
      .map((n) => Number(BigInt(n) / 1000n) / 1000),
    i.startedAt?.getTime() ?? NaN,
  ]);
  const ok = spans.filter((s) => s.length === 3 && s.every(Number.isFinite));
  const report: FleetClientReport = {
    startedAtMs,
    doneAtMs,
    firstScriptStartMs: Math.min(...ok.map((s) => s[0])),
    lastScriptEndMs: Math.max(...ok.map((s) => s[1])),
    scriptRuntimesMs: ok.map((s) => s[1] - s[0]),
    firstDeliveryMs: Math.min(...ok.map((s) => s[2])),
    lastDeliveryMs: Math.max(...ok.map((s) => s[2])),
    firstScriptEndMs: Math.min(...ok.map((s) => s[1])),
    commandId: handle.commandId,
    wrapperStartupsMs: ok.map((s) => s[0] - s[2]),
    invocations: result.invocations.length,
    succeeded: result.invocations.filter((i) => i.status === 'Success' && i.exitCode === 0).length,
    ssmOutputFallbacks: result.invocations.filter((i) => i.outputSource !== 'live').length,
    fallbackReason: result.invocations.find((i) => i.outputSource !== 'live')?.reason,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    lastSsmEndMs: Math.max(...result.invocations.map((i) => i.endedAt?.getTime() ?? NaN)),
    lastOutputAtMs: Math.max(...firstOutputAt.values()),
    lastFinalStatusAtMs: Math.max(...finalAt.values()),
    clientCpuMs: (cpu.user + cpu.system) / 1000,
  };
  if (report.invocations !== expected || report.succeeded !== expected || ok.length !== expected) {
    const failed = result.invocations.find((i) => i.status !== 'Success');
    throw new Error(
      `fleet run: ${report.succeeded}/${report.invocations} succeeded, expected ` +
        `${expected}${failed ? `; e.g. ${failed.instanceId} ${failed.status} ${failed.reason ?? ''}` : ''}`,
    );
  }
  reportJson(report);
}

main().catch((error: unknown) => {
  process.stderr.write(`fleet client failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
