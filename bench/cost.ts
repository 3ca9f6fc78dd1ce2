// S3 request fees of live output, in USD per instance-hour at S3 Standard list prices, for a script
// that prints continuously: one watched run, a fleet, and an unwatched run (`--no-wait`). The
// sandbox counts every S3 request by operation (client's and instances') over a steady-state
// window of a long run (from settleSeconds after every instance printed, for windowSeconds); the
// fees are that count × the list price × instance-hours / window. A run's one-off start-up and
// tail requests (a few) are not in it. (The first output line: firstOutput.ts.)
import { GetCommandInvocationCommand, SSMClient } from '@aws-sdk/client-ssm';
import { lastLine, loadEngine, nanosToMs, withTimeout } from './engineModule';
import { DELIVERY_DELAY_MS } from './firstOutput';
import { SandboxProcess } from './sandboxProcess';
import { distribution, progress, round, sleep, type Distribution } from './stats';

/** S3 Standard list prices per request (us-east-1): PUT, COPY, POST, LIST; GET, HEAD and the rest. DELETE is free. */
export const S3_PRICES_USD = { putPostList: 0.005 / 1000, get: 0.0004 / 1000 } as const;
const PUT_CLASS = new Set([
  'PutObject',
  'PostObject',
  'CopyObject',
  'ListObjectsV2',
  'ListObjects',
  'ListBuckets',
  'CreateBucket',
]);
const FREE = new Set(['DeleteObject', 'DeleteObjects']);

export interface CostPlan {
  /** How long the printing script runs (s); it must outlast start-up + settleSeconds + windowSeconds. */
  scriptSeconds: number;
  /** Steady state: requests are counted over this window, settleSeconds after every instance printed. */
  settleSeconds: number;
  windowSeconds: number;
  fleetInstances: number;
}

export interface CostScenario {
  instances: number;
  windowSeconds: number;
  /** S3 requests by operation over the whole run (client and instances). */
  requests: Record<string, number>;
  usdPerInstanceHour: number;
}

export interface CostResult {
  single: CostScenario & { liveLagMs: Distribution & { n: number } };
  fleet: CostScenario;
  unwatched: CostScenario;
}

/** A line with the print time every 100 ms for `seconds`. */
export function printingCommand(seconds: number): string {
  return `end=$(( $(date +%s) + ${seconds} )); while [ $(date +%s) -lt $end ]; do date +%s%N; sleep 0.1; done`;
}

export function usdOf(counts: Record<string, number>): number {
  let usd = 0;
  for (const [key, n] of Object.entries(counts)) {
    if (!key.startsWith('s3:')) continue;
    const operation = key.slice(3);
    if (FREE.has(operation)) continue;
    usd += n * (PUT_CLASS.has(operation) ? S3_PRICES_USD.putPostList : S3_PRICES_USD.get);
  }
  return usd;
}

function s3Requests(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).filter(([k]) => k.startsWith('s3:')));
}

function scenario(instances: number, windowMs: number, counts: Record<string, number>): CostScenario {
  const instanceHours = (instances * windowMs) / 3_600_000;
  return {
    instances,
    windowSeconds: round(windowMs / 1000),
    requests: s3Requests(counts),
    usdPerInstanceHour: round(usdOf(counts) / instanceHours, 5),
  };
}

/** The S3 requests of a steady-state window: `settleSeconds` after `printing` resolved, for `windowSeconds`. */
async function steadyState(
  sandbox: SandboxProcess,
  printing: Promise<unknown>,
  plan: CostPlan,
): Promise<{ counts: Record<string, number>; windowMs: number; endedAtMs: number }> {
  await printing;
  await sleep(plan.settleSeconds * 1000);
  await sandbox.resetStats();
  const from = Date.now();
  await sleep(plan.windowSeconds * 1000);
  const { counts } = await sandbox.stats();
  return { counts, windowMs: Date.now() - from, endedAtMs: Date.now() };
}

/**
 * The window must close while every script still prints (else its end would lower the rate): a script
 * that ended first voids the figure (on a slow machine its start-up ate the slack; raise scriptSeconds).
 */
function printedThroughWindow(what: string, windowEndMs: number, ends: Array<Date | undefined>): void {
  const early = ends.filter((end) => end !== undefined && end.getTime() < windowEndMs).length;
  if (early > 0)
    throw new Error(`${what}: ${early} script(s) ended before the counting window closed; raise scriptSeconds`);
}

/** Resolves once `count` instances have delivered stdout. */
function printingOn(
  handle: { onOutput(listener: (c: { instanceId: string; stream: string }) => void): unknown },
  count: number,
): Promise<void> {
  const seen = new Set<string>();
  return new Promise((resolve) =>
    handle.onOutput((c) => {
      if (c.stream === 'stdout') seen.add(c.instanceId);
      if (seen.size >= count) resolve();
    }),
  );
}

/** Waits until SSM's status of the invocation passes `done`, asking SSM only (no S3 request is added to the count). */
async function untilStatus(
  sandbox: SandboxProcess,
  commandId: string,
  instanceId: string,
  done: (status: string) => boolean,
  timeoutMs: number,
): Promise<{ endedAt?: Date }> {
  const { endpoint, region, accessKeyId, secretAccessKey } = sandbox.info;
  const ssm = new SSMClient({ endpoint, region, credentials: { accessKeyId, secretAccessKey } });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const { status, endedAt } = await ssm
        .send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }))
        .then(
          (o) => ({
            status: o.Status ?? 'Pending',
            endedAt: o.ExecutionEndDateTime ? new Date(o.ExecutionEndDateTime) : undefined,
          }),
          () => ({ status: 'Pending', endedAt: undefined }),
        );
      if (done(status)) return { endedAt };
      if (Date.now() > deadline) throw new Error(`run ${commandId} still ${status} after ${timeoutMs / 1000} s`);
      await sleep(500);
    }
  } finally {
    ssm.destroy();
  }
}

export async function measureCost(plan: CostPlan): Promise<CostResult> {
  const sandbox = await SandboxProcess.start({
    instances: plan.fleetInstances + 1,
    deliveryDelayMs: DELIVERY_DELAY_MS,
  });
  const engine = loadEngine().createEngine(sandbox.engineSettings);
  const one = { kind: 'instances' as const, instanceIds: [sandbox.onlineInstanceIds[0]] };
  try {
    await engine.identity();
    // One watched run: its live lag is measured on all its lines.
    const handle = await engine.start({
      source: { kind: 'command', command: printingCommand(plan.scriptSeconds) },
      target: one,
    });
    const lags: number[] = [];
    let pending = '';
    handle.onOutput((c) => {
      const at = Date.now();
      if (c.stream !== 'stdout') return;
      pending += Buffer.from(c.data).toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) lags.push(at - nanosToMs(line));
    });
    const singleWindow = await steadyState(sandbox, printingOn(handle, 1), plan);
    const result = await withTimeout(handle.wait(), plan.scriptSeconds * 1000 + 120_000, 'watched printing run');
    printedThroughWindow('watched run', singleWindow.endedAtMs, [result.invocations[0].endedAt]);
    const single = { ...scenario(1, singleWindow.windowMs, singleWindow.counts), liveLagMs: distribution(lags) };
    if (result.invocations[0].outputSource !== 'live' || !lastLine(result.invocations[0].stdout))
      throw new Error(`watched run: no live output (${result.invocations[0].reason ?? ''})`);
    progress(
      `cost, one watched run: $${single.usdPerInstanceHour}/instance-hour, live lag p50 ` +
        `${single.liveLagMs.p50} ms; ${JSON.stringify(single.requests)}`,
    );

    // Unwatched: started with --no-wait's request and left alone; its instance's uploads are what it costs.
    const detached = await engine.start({
      source: { kind: 'command', command: printingCommand(plan.scriptSeconds) },
      target: one,
      unwatched: true,
    });
    detached.detach();
    const unwatchedWindow = await steadyState(
      sandbox,
      untilStatus(sandbox, detached.commandId, one.instanceIds[0], (s) => s !== 'Pending' && s !== 'Delayed', 300_000),
      plan,
    );
    const unwatched = scenario(1, unwatchedWindow.windowMs, unwatchedWindow.counts);
    const unwatchedEnd = await untilStatus(
      sandbox,
      detached.commandId,
      one.instanceIds[0],
      (s) => !['Pending', 'InProgress', 'Delayed'].includes(s),
      plan.scriptSeconds * 1000 + 300_000,
    );
    printedThroughWindow('unwatched run', unwatchedWindow.endedAtMs, [unwatchedEnd.endedAt]);
    progress(
      `cost, unwatched run: $${unwatched.usdPerInstanceHour}/instance-hour; ${JSON.stringify(unwatched.requests)}`,
    );

    // A fleet: tag target, every instance printing.
    const fleetHandle = await engine.start({
      source: { kind: 'command', command: printingCommand(plan.scriptSeconds) },
      target: { kind: 'tags', tags: [{ key: 'Role', value: 'worker' }] },
      maxConcurrency: '100%',
    });
    const fleetWindow = await steadyState(sandbox, printingOn(fleetHandle, plan.fleetInstances), plan);
    const fleetResult = await withTimeout(
      fleetHandle.wait(),
      plan.scriptSeconds * 1000 + 300_000,
      'fleet printing run',
    );
    printedThroughWindow(
      'fleet run',
      fleetWindow.endedAtMs,
      fleetResult.invocations.map((i) => i.endedAt),
    );
    const fleet = scenario(plan.fleetInstances, fleetWindow.windowMs, fleetWindow.counts);
    const bad = fleetResult.invocations.filter((i) => i.status !== 'Success');
    if (fleetResult.invocations.length !== plan.fleetInstances || bad.length)
      throw new Error(`fleet cost run: ${bad.length} of ${fleetResult.invocations.length} did not succeed`);
    progress(
      `cost, fleet of ${plan.fleetInstances}: $${fleet.usdPerInstanceHour}/instance-hour; ` +
        `${JSON.stringify(fleet.requests)}`,
    );
    return { single, fleet, unwatched };
  } finally {
    engine.dispose();
    await sandbox.stop();
  }
}
