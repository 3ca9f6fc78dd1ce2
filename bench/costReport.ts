// Issue 16's part of the bench outputs: the JSON keys, the goals and the Markdown section for S3
// request fees, the first output line, a fleet under S3's rate limits and big output.
import type { BigOutputResult } from './bigOutput';
import type { CostResult } from './cost';
import type { FirstOutputResult } from './firstOutput';
import { notLiveText, type FleetRatesResult } from './fleetRates';
import { round, type Distribution } from './stats';

export interface CostMeasurements {
  cost?: CostResult;
  firstOutput?: FirstOutputResult;
  fleetRates?: FleetRatesResult;
  bigOutput?: BigOutputResult;
}

export interface CostSummary {
  s3CostPerInstanceHourUsd: { single: number; fleet: number; unwatched: number } | null;
  firstOutputMs: Distribution | null;
  fleet1000: { instances: number; slowDowns: number; lostBytes: number; wallOverScriptMs: number } | null;
  bigOutput: { bytes: number; peakRssMb: number; identical: boolean } | null;
}

/** Issue 16's goals (one source of truth for the thresholds). */
export const COST_GOALS = {
  singleUsdMax: 0.02,
  singleLiveP50MaxMs: 1_000,
  fleetUsdMax: 0.004,
  fleetMinInstances: 50,
  unwatchedUsdMax: 0.002,
  firstOutputP50MaxMs: 600,
  fleetRatesInstances: 1_000,
  bigOutputRssMaxMb: 200,
} as const;

export function costSummary(m: CostMeasurements): CostSummary {
  const c = m.cost;
  const f = m.fleetRates;
  return {
    s3CostPerInstanceHourUsd: c
      ? {
          single: c.single.usdPerInstanceHour,
          fleet: c.fleet.usdPerInstanceHour,
          unwatched: c.unwatched.usdPerInstanceHour,
        }
      : null,
    firstOutputMs: m.firstOutput ? { p50: m.firstOutput.p50, p95: m.firstOutput.p95 } : null,
    fleet1000: f
      ? { instances: f.instances, slowDowns: f.slowDowns, lostBytes: f.lostBytes, wallOverScriptMs: f.wallOverScriptMs }
      : null,
    bigOutput: m.bigOutput
      ? { bytes: m.bigOutput.bytes, peakRssMb: m.bigOutput.peakRssMb, identical: m.bigOutput.identical }
      : null,
  };
}

const usd = (v: number | undefined) => (v === undefined ? 'n/a' : `$${v.toFixed(4)}`);

export function costGoals(
  s: CostSummary,
  m: CostMeasurements,
): Array<{ goal: string; measured: string; met: boolean }> {
  const g = COST_GOALS;
  const cost = s.s3CostPerInstanceHourUsd;
  const lag = m.cost?.single.liveLagMs.p50;
  const f = s.fleet1000;
  return [
    {
      goal:
        `one watched printing run: S3 fees <= $${g.singleUsdMax} per instance-hour, live lag p50 <= ` +
        `${g.singleLiveP50MaxMs.toLocaleString('en-US')} ms`,
      measured: `${usd(cost?.single)}, lag p50 ${lag ?? 'n/a'} ms`,
      met: !!cost && lag !== undefined && cost.single <= g.singleUsdMax && lag <= g.singleLiveP50MaxMs,
    },
    {
      goal:
        `fleet of ${m.cost?.fleet.instances ?? g.fleetMinInstances} printing: S3 fees <= $${g.fleetUsdMax} per ` +
        `instance-hour`,
      measured: usd(cost?.fleet),
      met: !!cost && cost.fleet <= g.fleetUsdMax && (m.cost?.fleet.instances ?? 0) >= g.fleetMinInstances,
    },
    {
      goal: `unwatched (--no-wait) printing run: S3 fees <= $${g.unwatchedUsdMax} per instance-hour`,
      measured: usd(cost?.unwatched),
      met: !!cost && cost.unwatched <= g.unwatchedUsdMax,
    },
    {
      goal: `first output line p50 <= ${g.firstOutputP50MaxMs} ms (start() → on screen, minus the delivery delay)`,
      measured: s.firstOutputMs ? `${s.firstOutputMs.p50} ms` : 'n/a',
      met: !!s.firstOutputMs && s.firstOutputMs.p50 <= g.firstOutputP50MaxMs,
    },
    {
      goal:
        `${g.fleetRatesInstances.toLocaleString('en-US')} instances printing under S3's rate limits: no ` +
        `SlowDown, no byte lost, every exit code`,
      measured: f
        ? `${f.instances} instances: ${f.slowDowns} SlowDown, ${f.lostBytes} bytes lost, ` +
          `${m.fleetRates!.exitCodesReported} exit codes ` +
          `(${m.fleetRates!.endsFromSsm ?? 'n/a'} ended from SSM's output)`
        : 'n/a',
      met:
        !!f &&
        f.instances >= g.fleetRatesInstances &&
        f.slowDowns === 0 &&
        f.lostBytes === 0 &&
        m.fleetRates!.exitCodesReported === f.instances,
    },
    {
      goal: `1 GB of output: CLI and extension path RSS <= ${g.bigOutputRssMaxMb} MB, byte-identical on disk`,
      measured: s.bigOutput
        ? `${round(s.bigOutput.bytes / 1024 ** 2, 0)} MB: ${s.bigOutput.peakRssMb} MB RSS, identical: ` +
          `${s.bigOutput.identical ? 'yes' : 'no'}`
        : 'n/a',
      met:
        !!s.bigOutput &&
        s.bigOutput.bytes >= 1024 ** 3 &&
        s.bigOutput.peakRssMb <= g.bigOutputRssMaxMb &&
        s.bigOutput.identical,
    },
  ];
}

const requests = (r: Record<string, number>) =>
  Object.entries(r)
    .map(([k, v]) => `${k.replace('s3:', '')} ${v}`)
    .join(', ');

export function costTables(m: CostMeasurements): string[] {
  const out: string[] = ['### 6. S3 request fees, first output line, S3 rate limits, big output', ''];
  const c = m.cost;
  if (c) {
    out.push(
      'Fees at S3 Standard list prices (PUT/POST/LIST $0.005 per 1,000, GET/HEAD $0.0004 per 1,000), every ' +
        'S3 request (client and instances) counted over a steady-state window of a run printing a line every ' +
        '100 ms, per instance-hour. Before this change (issue 16, same sandbox): about $0.11 per instance-hour ' +
        'for any run.',
      '',
    );
    out.push(
      '| Run | Instances | Window | S3 requests in the window | USD per instance-hour |',
      '| --- | --- | --- | --- | --- |',
    );
    for (const [name, s] of [
      ['one watched run', c.single],
      [`fleet (tag target)`, c.fleet],
      ['unwatched (`--no-wait`)', c.unwatched],
    ] as const) {
      out.push(
        `| ${name} | ${s.instances} | ${s.windowSeconds} s | ${requests(s.requests)} | ` +
          `**${usd(s.usdPerInstanceHour)}** |`,
      );
    }
    out.push(
      '',
      `Live lag of the watched run: p50 ${c.single.liveLagMs.p50} ms, p95 ${c.single.liveLagMs.p95} ms over ` +
        `${c.single.liveLagMs.n} lines.`,
    );
  } else out.push('S3 fees: not measured.');
  const first = m.firstOutput;
  out.push(
    '',
    first
      ? `First output line (start() → first stdout chunk − the ${first.deliveryDelayMs} ms delivery delay): ` +
          `p50 ${first.p50} ms, p95 ${first.p95} ms over ${first.n} runs.`
      : 'First output line: not measured.',
  );
  const f = m.fleetRates;
  out.push('');
  out.push(
    f
      ? `Fleet of ${f.instances} printing a line a second for ${f.scriptSeconds} s, sandbox at AWS's rates ` +
          `(3,500 PUT/POST, 5,500 GET/LIST per second per prefix): **${f.slowDowns} SlowDown, ` +
          `${f.lostBytes} bytes lost, ${f.exitCodesReported}/${f.instances} exit codes**, ${f.endsFromSsm ?? 'n/a'} ` +
          `ended from SSM's output (bytes compared one for one with the script's lines, live or not); ` +
          `wall ${f.wallMs} ms, ` +
          `over the script ${f.wallOverScriptMs} ms (mostly this machine starting ${f.instances} Python wrappers ` +
          `on its 2 CPUs)${notLiveText(f.notLive ?? {})}. S3 requests: ${requests(f.s3Requests)}.`
      : 'Fleet under S3 rate limits: not measured.',
  );
  const b = m.bigOutput;
  out.push('');
  out.push(
    b
      ? `Big output through \`ec2-runner exec\`, stdout to a file: ${b.bytes.toLocaleString('en-US')} bytes, ` +
          `peak RSS **${b.peakRssMb} MB** (CLI ${b.cli.peakRssMb} MB, extension path ${b.extension.peakRssMb} MB), ` +
          `byte-identical on disk: **${b.identical ? 'yes' : 'no'}** (exit ${b.exitCode}, ${b.wallMs} ms).`
      : 'Big output: not measured.',
  );
  return out;
}
