// S3 request fees of live output, in USD per instance-hour at S3 Standard list prices, for a script
// that prints continuously: one watched run, a fleet, and an unwatched run (`--no-wait`). The
// sandbox counts every S3 request by operation (client's and instances', start-up and tail
// included); the fees are that count × the list price, per instance-hour of printing (instances ×
// the script's own duration: the serialized start-ups of many local instances are not counted as
// hours, which makes the figure pessimistic). Also the first output line's latency.
import { lastLine, loadEngine, nanosToMs, withTimeout } from './engineModule';
import { SandboxProcess } from './sandboxProcess';
import { distribution, progress, round, sleep, type Distribution } from './stats';

/** S3 Standard list prices per request (us-east-1): PUT, COPY, POST, LIST; GET, HEAD and the rest. DELETE is free. */
export const S3_PRICES_USD = { putPostList: 0.005 / 1000, get: 0.0004 / 1000 } as const;
const PUT_CLASS = new Set(['PutObject', 'PostObject', 'CopyObject', 'ListObjectsV2', 'ListObjects', 'ListBuckets', 'CreateBucket']);
const FREE = new Set(['DeleteObject', 'DeleteObjects']);

export interface CostPlan {
  /** How long the printing script runs (s). */
  scriptSeconds: number;
  fleetInstances: number;
  /** Runs for the first-output latency. */
  firstOutputRuns: number;
}

export interface CostScenario {
  instances: number;
  wallSeconds: number;
  /** S3 requests by operation over the whole run (client and instances). */
  requests: Record<string, number>;
  usdPerInstanceHour: number;
}

export interface CostResult {
  single: CostScenario & { liveLagMs: Distribution & { n: number } };
  fleet: CostScenario;
  unwatched: CostScenario;
  firstOutputMs: Distribution & { n: number; deliveryDelayMs: number };
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

function scenario(instances: number, wallMs: number, counts: Record<string, number>, scriptSeconds: number): CostScenario {
  const instanceHours = (instances * scriptSeconds) / 3_600;
  return { instances, wallSeconds: round(wallMs / 1000), requests: s3Requests(counts), usdPerInstanceHour: round(usdOf(counts) / instanceHours, 5) };
}

const DELIVERY_DELAY_MS = 200;

export async function measureCost(plan: CostPlan): Promise<CostResult> {
  const sandbox = await SandboxProcess.start({ instances: plan.fleetInstances + 1, deliveryDelayMs: DELIVERY_DELAY_MS });
  const engine = loadEngine().createEngine(sandbox.engineSettings);
  const one = { kind: 'instances' as const, instanceIds: [sandbox.onlineInstanceIds[0]] };
  try {
    await engine.identity();
    // First output: start() → first stdout chunk, minus the sandbox's delivery delay (SSM's own part).
    const firsts: number[] = [];
    for (let i = 0; i < plan.firstOutputRuns; i++) {
      const startedAt = Date.now();
      const handle = await engine.start({ source: { kind: 'command', command: 'echo first; sleep 0.5' }, target: one });
      const first = new Promise<number>((resolve) => handle.onOutput((c) => c.stream === 'stdout' && resolve(Date.now())));
      await withTimeout(handle.wait(), 60_000, 'first-output run');
      firsts.push((await first) - startedAt - DELIVERY_DELAY_MS);
    }
    const firstOutputMs = { ...distribution(firsts), deliveryDelayMs: DELIVERY_DELAY_MS };
    progress(`first output line: p50 ${firstOutputMs.p50} ms, p95 ${firstOutputMs.p95} ms (delivery delay ${DELIVERY_DELAY_MS} ms subtracted)`);

    // One watched run: its live lag is measured on the same lines.
    await sandbox.resetStats();
    let startedAt = Date.now();
    const handle = await engine.start({ source: { kind: 'command', command: printingCommand(plan.scriptSeconds) }, target: one });
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
    const result = await withTimeout(handle.wait(), plan.scriptSeconds * 1000 + 120_000, 'watched printing run');
    const single = { ...scenario(1, Date.now() - startedAt, (await sandbox.stats()).counts, plan.scriptSeconds), liveLagMs: distribution(lags) };
    if (result.invocations[0].outputSource !== 'live' || !lastLine(result.invocations[0].stdout)) throw new Error(`watched run: no live output (${result.invocations[0].reason ?? ''})`);
    progress(`cost, one watched run: $${single.usdPerInstanceHour}/instance-hour, live lag p50 ${single.liveLagMs.p50} ms; ${JSON.stringify(single.requests)}`);

    // Unwatched: started with --no-wait's request and left alone; its instance's uploads are what it costs.
    await sandbox.resetStats();
    startedAt = Date.now();
    const detached = await engine.start({ source: { kind: 'command', command: printingCommand(plan.scriptSeconds) }, target: one, unwatched: true });
    detached.detach();
    await sleep(plan.scriptSeconds * 1000 + 5_000);
    const unwatched = scenario(1, Date.now() - startedAt, (await sandbox.stats()).counts, plan.scriptSeconds);
    progress(`cost, unwatched run: $${unwatched.usdPerInstanceHour}/instance-hour; ${JSON.stringify(unwatched.requests)}`);
    await sleep(2_000); // its last upload, before the fleet is counted

    // A fleet: tag target, every instance printing.
    await sandbox.resetStats();
    startedAt = Date.now();
    const fleetHandle = await engine.start({
      source: { kind: 'command', command: printingCommand(plan.scriptSeconds) },
      target: { kind: 'tags', tags: [{ key: 'Role', value: 'worker' }] },
      maxConcurrency: '100%',
    });
    const fleetResult = await withTimeout(fleetHandle.wait(), plan.scriptSeconds * 1000 + 300_000, 'fleet printing run');
    const fleet = scenario(plan.fleetInstances, Date.now() - startedAt, (await sandbox.stats()).counts, plan.scriptSeconds);
    const bad = fleetResult.invocations.filter((i) => i.status !== 'Success');
    if (fleetResult.invocations.length !== plan.fleetInstances || bad.length) throw new Error(`fleet cost run: ${bad.length} of ${fleetResult.invocations.length} did not succeed`);
    progress(`cost, fleet of ${plan.fleetInstances}: $${fleet.usdPerInstanceHour}/instance-hour; ${JSON.stringify(fleet.requests)}`);
    return { single, fleet, unwatched, firstOutputMs };
  } finally {
    engine.dispose();
    await sandbox.stop();
  }
}
