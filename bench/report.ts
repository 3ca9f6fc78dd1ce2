// The bench's outputs: the JSON document (issue 6's shape), the goals, and the Markdown tables.
import { execSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import type { CredentialExpiryResult } from './credentialExpiry';
import type { DurationResult, PolicyResult, Policy } from './detection';
import type { FleetResult } from './fleet';
import type { FleetSyncResult } from './fleetSync';
import type { FootprintResult } from './footprint';
import type { LiveResult } from './liveOutput';
import type { StagingResult } from './staging';
import { costGoals, costSummary, costTables, type CostMeasurements, type CostSummary } from './costReport';
import { round, type Distribution } from './stats';

export interface Measurements extends CostMeasurements {
  detection?: Record<Policy, PolicyResult>;
  live?: LiveResult;
  staging?: StagingResult;
  fleet: FleetResult[];
  fleetSynchronized: FleetSyncResult[];
  footprint?: FootprintResult;
  credentialExpiry?: CredentialExpiryResult;
  errors: string[];
  /**
   * How busy all CPUs were during each phase (the bench's own work included), and how long it first waited for a quiet
   * machine.
   */
  machineDuringPhase: Record<string, { cpuBusyPct: number; waitedForQuietS: number }>;
}

/** Exactly the document issue 6 asks `npm run bench -- --json` to print. */
export interface BenchSummary extends CostSummary {
  detectionLagMs: Record<Policy, Distribution | null>;
  ssmCallsPerRun: Record<Policy, number | null>;
  liveOutputLagMs: Distribution | null;
  fleet: Array<{ instances: number; wallOverScriptMs: number; ssmCallsPerPollRound: number; peakRssMb: number }>;
  fleetSynchronized: Array<{
    instances: number;
    launchToLastDeliveryMs: number;
    tailFromLastExitMs: number;
    baselineTailFromLastExitMs: number;
  }>;
  rerunUploadBytes: number | null;
  bundleBytes: number | null;
  vsixBytes: number | null;
  activateMs: number | null;
  sdkLoadedDuringActivate: boolean | null;
  /** Output bytes lost by a run 3x longer than its credentials' lifetime (goal 0). */
  credentialExpiryBytesLost: number | null;
}

export interface Goal {
  goal: string;
  measured: string;
  met: boolean;
}

/** The goals of issue 6 (one source of truth for the thresholds). */
export const GOALS = {
  /** Issue 16 (issue 6 had 500 ms). */
  detectionP50MaxMs: 250,
  detectionVsWaiterFactor: 5,
  liveP50MaxMs: 1_000,
  fleetSize: 500,
  fleetCallsPerRoundMax: 10,
  fleetWallOverScriptMaxMs: 3_000,
  /** Synchronised fleet: our tail from the last exit <= this share of the AWS CLI way's. */
  fleetSyncTailVsCliMax: 0.5,
  rerunUploadBytes: 0,
  activateMaxMs: 20,
  vsixMaxBytes: 1_500_000,
} as const;

function pick(d: { p50: number; p95: number } | undefined): Distribution | null {
  return d ? { p50: d.p50, p95: d.p95 } : null;
}

function lagOf(m: Measurements, policy: Policy): Distribution | null {
  const r = m.detection?.[policy];
  if (!r) return null;
  const sorted = [...r.lagsMs].sort((a, b) => a - b);
  const at = (p: number) => round(sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1]);
  return pick({ p50: at(50), p95: at(95) });
}

export function summarize(m: Measurements): BenchSummary {
  const callsOf = (p: Policy) => (m.detection ? round(m.detection[p].ssmCallsPerRun, 2) : null);
  return {
    detectionLagMs: { ours: lagOf(m, 'ours'), waiter: lagOf(m, 'waiter'), seedLibrary: lagOf(m, 'seedLibrary') },
    ssmCallsPerRun: { ours: callsOf('ours'), waiter: callsOf('waiter'), seedLibrary: callsOf('seedLibrary') },
    liveOutputLagMs: pick(m.live?.lagMs),
    fleet: m.fleet.map((f) => ({
      instances: f.instances,
      wallOverScriptMs: f.wallOverScriptMs,
      ssmCallsPerPollRound: f.ssmCallsPerPollRound,
      peakRssMb: f.peakRssMb,
    })),
    fleetSynchronized: m.fleetSynchronized.map((f) => ({
      instances: f.instances,
      launchToLastDeliveryMs: f.launchToLastDeliveryMs,
      tailFromLastExitMs: f.tailFromLastExitMs,
      baselineTailFromLastExitMs: f.baselineTailFromLastExitMs,
    })),
    rerunUploadBytes: m.staging?.rerunUploadBytes ?? null,
    bundleBytes: m.footprint?.bundleBytes ?? null,
    vsixBytes: m.footprint?.vsixBytes ?? null,
    activateMs: m.footprint?.activateMs ?? null,
    sdkLoadedDuringActivate: m.footprint?.sdkLoadedDuringActivate ?? null,
    credentialExpiryBytesLost: m.credentialExpiry?.bytesLost ?? null,
    ...costSummary(m),
  };
}

const show = (v: number | null | undefined, unit = '') =>
  v === null || v === undefined || Number.isNaN(v) ? 'n/a' : `${v.toLocaleString('en-US')}${unit}`;

export function evaluateGoals(s: BenchSummary, m: CostMeasurements = {}): Goal[] {
  const ours = s.detectionLagMs.ours;
  const waiter = s.detectionLagMs.waiter;
  const big = s.fleet.find((f) => f.instances === GOALS.fleetSize);
  const bigSync = s.fleetSynchronized.find((f) => f.instances === GOALS.fleetSize);
  return [
    {
      goal:
        `detection lag p50 <= ${GOALS.detectionP50MaxMs} ms and <= 1/${GOALS.detectionVsWaiterFactor} of the ` +
        `waiter's`,
      measured:
        `${show(ours?.p50, ' ms')} (waiter ${show(waiter?.p50, ' ms')}, 1/5 = ` +
        `${show(waiter ? round(waiter.p50 / GOALS.detectionVsWaiterFactor) : null, ' ms')})`,
      met:
        !!ours &&
        !!waiter &&
        ours.p50 <= GOALS.detectionP50MaxMs &&
        ours.p50 <= waiter.p50 / GOALS.detectionVsWaiterFactor,
    },
    {
      goal: "SSM calls per run <= the waiter's",
      measured: `${show(s.ssmCallsPerRun.ours)} (waiter ${show(s.ssmCallsPerRun.waiter)})`,
      met:
        s.ssmCallsPerRun.ours !== null &&
        s.ssmCallsPerRun.waiter !== null &&
        s.ssmCallsPerRun.ours <= s.ssmCallsPerRun.waiter,
    },
    {
      goal: `live output lag p50 <= ${GOALS.liveP50MaxMs.toLocaleString('en-US')} ms`,
      measured: show(s.liveOutputLagMs?.p50, ' ms'),
      met: !!s.liveOutputLagMs && s.liveOutputLagMs.p50 <= GOALS.liveP50MaxMs,
    },
    {
      goal: `${GOALS.fleetSize} instances: SSM calls per poll round <= ${GOALS.fleetCallsPerRoundMax}`,
      measured: show(big?.ssmCallsPerPollRound),
      met: !!big && big.ssmCallsPerPollRound <= GOALS.fleetCallsPerRoundMax,
    },
    {
      goal:
        `${GOALS.fleetSize} instances: wall over script <= ` +
        `${GOALS.fleetWallOverScriptMaxMs.toLocaleString('en-US')} ms`,
      measured: show(big?.wallOverScriptMs, ' ms'),
      met: !!big && big.wallOverScriptMs <= GOALS.fleetWallOverScriptMaxMs,
    },
    {
      goal: "run 3× longer than the credentials' lifetime: bytes lost 0",
      measured: s.credentialExpiryBytesLost === null ? 'n/a' : `${show(s.credentialExpiryBytesLost, ' bytes')} lost`,
      met: s.credentialExpiryBytesLost === 0,
    },
    {
      goal:
        `${GOALS.fleetSize} instances exiting together: tail from the last exit <= ` +
        `${GOALS.fleetSyncTailVsCliMax} x the AWS CLI way's`,
      measured: bigSync
        ? `${show(bigSync.tailFromLastExitMs, ' ms')} (AWS CLI way ${show(bigSync.baselineTailFromLastExitMs, ' ms')})`
        : 'n/a',
      met: !!bigSync && bigSync.tailFromLastExitMs <= bigSync.baselineTailFromLastExitMs * GOALS.fleetSyncTailVsCliMax,
    },
    {
      goal: 'rerun of an unchanged 5 MB file uploads 0 bytes',
      measured: show(s.rerunUploadBytes, ' bytes'),
      met: s.rerunUploadBytes === GOALS.rerunUploadBytes,
    },
    {
      goal: `activate() <= ${GOALS.activateMaxMs} ms with no AWS SDK loaded`,
      measured:
        `${show(s.activateMs, ' ms')}, SDK loaded: ` +
        `${s.sdkLoadedDuringActivate === null ? 'n/a' : s.sdkLoadedDuringActivate ? 'yes' : 'no'}`,
      met: s.activateMs !== null && s.activateMs <= GOALS.activateMaxMs && s.sdkLoadedDuringActivate === false,
    },
    {
      goal: `VSIX <= ${GOALS.vsixMaxBytes.toLocaleString('en-US')} bytes`,
      measured: show(s.vsixBytes, ' bytes'),
      met: s.vsixBytes !== null && s.vsixBytes <= GOALS.vsixMaxBytes,
    },
    ...costGoals(s, m),
  ];
}

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  os: string;
  date: string;
  loadAverageAtStart: number[];
  gitCommit: string;
}

export function machineInfo(startedAt: Date, loadAtStart: number[]): MachineInfo {
  let gitCommit = 'unknown';
  try {
    gitCommit = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    // not a checkout
  }
  return {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: round(totalmem() / 1024 ** 3, 1),
    node: process.version,
    os: `${process.platform} ${release()}`,
    date: startedAt.toISOString(),
    loadAverageAtStart: loadAtStart.map((l) => round(l, 2)),
    gitCommit,
  };
}

export function currentLoad(): number[] {
  return loadavg();
}

const ms = (v: number | null | undefined) => show(v === null || v === undefined ? v : round(v, 0));
const pair = (d: { p50: number; p95: number } | null | undefined) => (d ? `${ms(d.p50)} / ${ms(d.p95)}` : 'n/a');

export function markdownTables(m: Measurements, s: BenchSummary, goals: Goal[], machine: MachineInfo): string {
  const out: string[] = [];
  out.push(
    `Machine: ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB RAM, Node ` +
      `${machine.node}, ${machine.os}; ` +
      `run ${machine.date.slice(0, 16).replace('T', ' ')} UTC at commit ${machine.gitCommit}; load average ` +
      `at start ${machine.loadAverageAtStart.join(' / ')}.`,
  );
  const phases = Object.entries(m.machineDuringPhase);
  out.push(
    `All CPUs busy during each phase (this bench included; waited for a quiet machine first): ` +
      `${phases.map(([k, v]) => `${k} ${v.cpuBusyPct} % (waited ${v.waitedForQuietS} s)`).join(', ')}.`,
  );
  // The fleet phases load the machine themselves (hundreds of instance processes); the others should not.
  if (phases.some(([k, v]) => !k.startsWith('fleet') && v.cpuBusyPct > 75)) {
    out.push(
      '',
      '**The machine was busy (more than 75 % of all CPUs) during a latency phase, partly with other work: ' +
        'its latencies are inflated.**',
    );
  }
  out.push('');
  out.push('### Goals');
  out.push('');
  out.push('| Goal | Measured | Met |');
  out.push('| --- | --- | --- |');
  for (const g of goals) out.push(`| ${g.goal} | ${g.measured} | ${g.met ? 'yes' : '**NO**'} |`);
  out.push('');
  out.push('### 1. Completion detection lag (ms, p50 / p95) and SSM calls per run');
  out.push('');
  out.push(
    '| Command | This engine | CLI waiter | Seed library | SSM calls/run: engine | waiter | seed | S3 ' +
      'calls/run: engine | waiter | seed |',
  );
  out.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  if (m.detection) {
    const d = m.detection;
    d.ours.byDuration.forEach((row, i) => {
      const w = d.waiter.byDuration[i];
      const sl = d.seedLibrary.byDuration[i];
      const s3 = (r: DurationResult | undefined) => show(round(r?.s3CallsPerRun ?? NaN, 2));
      out.push(
        `| \`sleep ${row.durationSeconds}\` (n=${row.lagMs.n} each) | ${pair(row.lagMs)} | ` +
          `${pair(w?.lagMs)} | ${pair(sl?.lagMs)} | ${show(round(row.ssmCallsPerRun, 2))} | ` +
          `${show(round(w?.ssmCallsPerRun ?? NaN, 2))} | ${show(round(sl?.ssmCallsPerRun ?? NaN, 2))} | ` +
          `${s3(row)} | ${s3(w)} | ${s3(sl)} |`,
      );
    });
    const s3All = (p: Policy) => show(round(d[p].s3CallsPerRun, 2));
    out.push(
      `| **all** | **${pair(s.detectionLagMs.ours)}** | ${pair(s.detectionLagMs.waiter)} | ` +
        `${pair(s.detectionLagMs.seedLibrary)} | **${show(s.ssmCallsPerRun.ours)}** | ` +
        `${show(s.ssmCallsPerRun.waiter)} | ${show(s.ssmCallsPerRun.seedLibrary)} | **${s3All('ours')}** | ` +
        `${s3All('waiter')} | ${s3All('seedLibrary')} |`,
    );
    out.push('');
    const ops = (p: Policy) => {
      const totals: Record<string, number> = {};
      for (const row of d[p].byDuration)
        for (const [k, v] of Object.entries(row.ssmCallsByOperation)) totals[k] = (totals[k] ?? 0) + v;
      return Object.entries(totals)
        .map(([k, v]) => `${k.replace('ssm:', '')} ${v}`)
        .join(', ');
    };
    if (d.ours.notes.length)
      out.push(`Engine runs that fell back to SSM's output: ${d.ours.notes.length} (e.g. ${d.ours.notes[0]}).`, '');
    const stalls = (p: Policy) => d[p].byDuration.map((r) => `${r.sandboxLoopStallMaxMs}`).join(' / ');
    out.push(
      `Longest event-loop stall of each policy's sandbox process (ms, per duration): engine ` +
        `${stalls('ours')}; waiter ${stalls('waiter')}; seed library ${stalls('seedLibrary')}. Every answer the ` +
        `sandbox gives waits for it.`,
      '',
    );
    out.push(
      `SSM calls by operation over all ${d.ours.lagsMs.length} runs — engine: ${ops('ours')}; waiter: ` +
        `${ops('waiter')}; seed library: ${ops('seedLibrary')}.`,
    );
    const s3Ops: Record<string, number> = {};
    for (const row of d.ours.byDuration)
      for (const [k, v] of Object.entries(row.s3CallsByOperation)) s3Ops[k] = (s3Ops[k] ?? 0) + v;
    const s3OpsText =
      Object.entries(s3Ops)
        .map(([k, v]) => `${k.replace('s3:', '')} ${v}`)
        .join(', ') || 'none';
    out.push(
      '',
      "S3 requests by operation over the engine's runs (the client's live-channel LIST/GET and the " +
        `instance-side wrapper's presigned GET/POST; the sandbox counts both): ${s3OpsText}.`,
    );
  } else out.push('| not measured | | | | | | | | | |');
  out.push('');
  out.push('### 2. Live output lag');
  out.push('');
  out.push(
    m.live
      ? `Printed → received through \`onOutput\`: p50 ${ms(m.live.lagMs.p50)} ms, p95 ` +
          `${ms(m.live.lagMs.p95)} ms, max ${ms(m.live.lagMs.max)} ms over ${m.live.lagMs.n} lines. Peers (the ` +
          `waiter, the seed library, every CLI tool) show output only after the command ends.`
      : 'not measured',
  );
  out.push('');
  out.push('### 3. Fleet (tag target, MaxConcurrency 100%, `sleep 1`)');
  out.push('');
  out.push(
    '| Instances | Wall over script | = client launch + idle wrapper startup + detection tail | Wall | ' +
      'Script span | Wall − script span | Wrapper startup in the fleet (median) | SSM calls per poll round ' +
      '(max) | Poll rounds | Peak SSM calls/s | S3 calls | Peak client RSS |',
  );
  out.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const f of m.fleet) {
    out.push(
      `| ${f.instances} | **${ms(f.wallOverScriptMs)} ms** | ${ms(f.clientLaunchMs)} + ` +
        `${ms(f.idleWrapperStartupMs)} + ${ms(f.detectionTailMs)} ms | ${ms(f.wallMs)} ms | ` +
        `${ms(f.scriptSpanMs)} ms | ${ms(f.wallMinusScriptSpanMs)} ms | ${ms(f.fleetWrapperStartupMedianMs)} ms ` +
        `| **${f.ssmCallsPerPollRound}** | ${f.pollRounds} | ${f.peakSsmCallsPerSecond} | ${show(f.s3Calls)} | ` +
        `${show(f.peakRssMb)} MB |`,
    );
  }
  if (m.fleet.length === 0) out.push('| not measured | | | | | | | | | | | |');
  const largest = m.fleet[m.fleet.length - 1];
  for (const f of m.fleet)
    if (f.ssmOutputFallbacks)
      out.push(
        '',
        `${f.instances} instances: ${f.ssmOutputFallbacks} invocations fell back to SSM's output (e.g. ` +
          `${f.fallbackReason ?? 'no reason given'}).`,
      );
  if (largest)
    out.push(
      '',
      `Largest poll round with ${largest.instances} instances: ${Object.entries(largest.largestRound)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}.`,
    );
  out.push('');
  out.push('### 3b. Synchronised fleet (every script waits for one shared start, then `sleep 1`)');
  out.push('');
  out.push(
    '| Instances | start() → last delivery | Exits within | Tail from the last exit: engine | AWS CLI way ' +
      '(`list-command-invocations` every 5 s; mean of 5 phases) | Each phase | ListCommandInvocations pages per ' +
      'CLI watcher |',
  );
  out.push('| --- | --- | --- | --- | --- | --- | --- |');
  for (const f of m.fleetSynchronized) {
    out.push(
      `| ${f.instances} | ${ms(f.launchToLastDeliveryMs)} ms | ${ms(f.scriptEndSpreadMs)} ms | ` +
        `**${ms(f.tailFromLastExitMs)} ms** | ${ms(f.baselineTailFromLastExitMs)} ms | ` +
        `${f.baselineTailsMs.map((t) => ms(t)).join(' / ')} ms | ${show(f.baselineSsmCallsPerWatcher)} |`,
    );
  }
  if (m.fleetSynchronized.length === 0) out.push('| not measured | | | | | | |');
  if (m.fleetSynchronized.length > 0) {
    out.push(
      '',
      "Where the engine's tail goes: the last exit → the last invocation's end as SSM reports it (the " +
        "wrappers' epilogue, hundreds at once on the shared CPUs; the same for both ways) → `wait()` resolved; " +
        'the requests the sandbox received in the tail (all clients); CPU time of the client and of the sandbox ' +
        'process over the run.',
      '',
      '| Instances | Last exit → last SSM end | Last SSM end → `wait()` | Last exit → last output line at ' +
        'the client | Requests in the tail | CPU: client / sandbox |',
      '| --- | --- | --- | --- | --- | --- |',
    );
    for (const f of m.fleetSynchronized)
      out.push(
        `| ${f.instances} | ${ms(f.lastExitToLastSsmEndMs)} ms | ${ms(f.lastSsmEndToDoneMs)} ms | ` +
          `${ms(f.lastExitToLastOutputMs)} ms | ` +
          `${Object.entries(f.tailRequests)
            .map(([op, n]) => `${op} ${n}`)
            .join(', ')} | ${ms(f.clientCpuMs)} / ${ms(f.sandboxCpuMs)} ms |`,
      );
  }
  for (const f of m.fleetSynchronized)
    if (f.ssmOutputFallbacks)
      out.push(
        '',
        `${f.instances} synchronised instances: ${f.ssmOutputFallbacks} invocations fell back to SSM's output.`,
      );
  out.push('');
  out.push('### 4. Staging');
  out.push('');
  out.push(
    m.staging
      ? `5 MB file (${show(m.staging.fileBytes)} bytes): first run uploaded ` +
          `${show(m.staging.firstRunUploadBytes)} bytes; the rerun from a fresh engine uploaded ` +
          `**${show(m.staging.rerunUploadBytes)} bytes** (${m.staging.rerunPutObjectCalls} PutObject calls).`
      : 'not measured',
  );
  out.push('');
  out.push('### 5. Footprint');
  out.push('');
  if (m.footprint) {
    const f = m.footprint;
    const sdkSeen = [...f.sdkModulesDuringActivate.slice(0, 3), ...f.sdkCodeInExtensionBundle];
    out.push(
      '| Extension bundle | VSIX | activate() (load + call) | AWS SDK loaded during activate | First ' +
        'instance list (fresh process) |',
    );
    out.push('| --- | --- | --- | --- | --- |');
    out.push(
      `| ${show(f.bundleBytes)} bytes | ${show(f.vsixBytes)} bytes | ${show(f.activateMs)} ms ` +
        `(${show(f.activateLoadMs)} + ${show(f.activateCallMs)}) | ` +
        `${f.sdkLoadedDuringActivate ? `**yes** (${sdkSeen.join(', ')})` : 'no'} | ` +
        `${show(f.firstInstanceListMs)} ms |`,
    );
    if (f.packageError) out.push('', `Packaging: ${f.packageError}.`);
  } else out.push('not measured');
  out.push('', ...costTables(m));
  if (m.errors.length) {
    out.push('', '### Errors', '', ...m.errors.map((e) => `- ${e}`));
  }
  return out.join('\n');
}
