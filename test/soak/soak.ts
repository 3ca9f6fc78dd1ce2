// `npm run soak`: many runs through the real engine against a local sandbox whose fault knobs change
// at random while the runs proceed (throttling, 5xx/resets, latency spikes, live channel refusals).
// Every run must end with the exit code and status of the same script run locally and, when it used
// the live channel, byte-identical output; a run that fell back to SSM's output must say so and
// show the local output as SSM shows it (cut at 24,000 bytes, the wrapper's notes on stderr).
// Loopback only; bounded: `--runs N` (default 300), `--minutes M` (stop starting runs after M minutes),
// `--concurrency C` (default 4), `--refusals S` (share of fault periods refusing the live POST, default
// 0.07). Writes the summary to docs/soak.md (or `--out FILE`).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createEngine } from '../../src/core';
import { LIVE_OUTPUT_UNAVAILABLE } from '../../src/core/outcome';
import { startSandbox } from '../../src/sandbox/index';
import { processesOfCommand } from '../support/runChecks';
import {
  CALM_KNOBS,
  chattyPython,
  expectedStatus,
  fileRequest,
  runCollecting,
  runLocally,
  ssmOutputMismatch,
  type LocalOutcome,
  type ScriptCase,
} from './referenceRuns';

interface Knobs {
  latencyMs: number;
  throttleRps: number;
  faultRate: number;
  postObjectFailStatus: number;
}
interface Outcome {
  ok: boolean;
  source: 'live' | 'ssm' | 'error';
  ms: number;
  detail?: string;
  commandId?: string;
}

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'; // a test tool's output, not a developer's
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '300' },
    minutes: { type: 'string' },
    concurrency: { type: 'string', default: '4' },
    out: { type: 'string' },
    seed: { type: 'string' },
    refusals: { type: 'string', default: '0.07' },
  },
});
const RUNS = Number(values.runs);
const DEADLINE = values.minutes ? Date.now() + Number(values.minutes) * 60_000 : Infinity;
const CONCURRENCY = Number(values.concurrency);
const REFUSALS = Number(values.refusals);
const OUT = values.out ?? join(__dirname, '..', '..', '..', 'docs', 'soak.md');
let seed = Number(values.seed ?? Date.now() % 1_000_000);
const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];

/** One fault period: most are mild, some harsh, a few break the live channel. */
function randomKnobs(): Knobs {
  return {
    latencyMs: pick([0, 0, 20, 100, 500, 2000]),
    throttleRps: pick([0, 0, 2, 5]),
    faultRate: pick([0, 0, 0.05, 0.1, 0.2]),
    postObjectFailStatus: random() < REFUSALS ? pick([403, 503]) : 0,
  };
}

function randomScript(index: number): ScriptCase {
  const kind = random();
  const exitCode = pick([0, 0, 0, 1, 3, 42]);
  if (kind < 0.6)
    return chattyPython(`soak${index}`, exitCode, {
      lines: 1 + Math.floor(random() * 30),
      seconds: random() * 1.5,
      rawBytes: random() < 0.5,
    });
  // > 24,000 characters: past SSM's cut
  if (kind < 0.85) return chattyPython(`big${index}`, exitCode, { lines: 200, seconds: 0.3, lineBytes: 131 });
  return {
    fileName: `shell${index}.sh`,
    content: `printf 'shell %s\\n' ${index}\necho "to stderr" >&2\nexit ${exitCode}\n`,
  };
}

async function main(): Promise<void> {
  const sandbox = await startSandbox({ instances: 4, latencyMs: 0 });
  const { info } = sandbox;
  const online = info.instances.filter((i) => i.pingStatus === 'Online').map((i) => i.instanceId);
  const engine = createEngine({
    region: info.region,
    endpointUrl: info.endpoint,
    credentials: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey },
    bucket: info.bucket,
  });
  const started = Date.now();
  const periods: Knobs[] = [];
  const shake = () => {
    const knobs = randomKnobs();
    periods.push(knobs);
    sandbox.configure(knobs);
  };
  shake();
  const shaker = setInterval(shake, 4000);
  const outcomes: Outcome[] = [];
  let next = 0;
  async function one(index: number): Promise<Outcome> {
    const script = randomScript(index);
    const local: LocalOutcome = runLocally(script);
    const t0 = Date.now();
    try {
      const run = await runCollecting(engine, fileRequest(script, online[index % online.length]));
      const inv = run.result.invocations[0];
      const base = { ms: Date.now() - t0, commandId: run.commandId, source: inv.outputSource };
      if (inv.exitCode !== local.exitCode || inv.status !== expectedStatus(local.exitCode)) {
        return {
          ...base,
          ok: false,
          detail:
            `${script.fileName}: ${inv.status} exit ${inv.exitCode}, expected exit ` +
            `${local.exitCode} (${inv.reason ?? ''})`,
        };
      }
      if (inv.outputSource === 'live') {
        const same = run.stdout.equals(local.stdout) && run.stderr.equals(local.stderr);
        return {
          ...base,
          ok: same,
          detail: same
            ? undefined
            : `${script.fileName}: live output differs (${run.stdout.length}/${local.stdout.length} stdout bytes)`,
        };
      }
      if (!(inv.reason ?? '').includes(LIVE_OUTPUT_UNAVAILABLE))
        return { ...base, ok: false, detail: `${script.fileName}: SSM output without the note` };
      const mismatch = ssmOutputMismatch(inv, local);
      return { ...base, ok: !mismatch, detail: mismatch ? `${script.fileName}: ${mismatch}` : undefined };
    } catch (error) {
      return {
        ok: false,
        source: 'error',
        ms: Date.now() - t0,
        detail: `${script.fileName}: ${(error as Error).message}`,
      };
    }
  }
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < RUNS && Date.now() < DEADLINE) {
        const index = next++;
        const outcome = await one(index);
        outcomes.push(outcome);
        if (outcomes.length % 25 === 0)
          process.stderr.write(`soak: ${outcomes.length} runs, ${outcomes.filter((o) => !o.ok).length} failed\n`);
      }
    }),
  );
  clearInterval(shaker);
  sandbox.configure(CALM_KNOBS);
  const leftRunning = outcomes.flatMap((o) => (o.commandId ? processesOfCommand(o.commandId) : []));
  const stats = sandbox.stats();
  engine.dispose();
  await sandbox.stop();
  writeFileSync(OUT, report(outcomes, periods, stats, Date.now() - started, leftRunning.length));
  process.stderr.write(
    `soak: ${outcomes.length} runs, ${outcomes.filter((o) => !o.ok).length} failed; summary in ${OUT}\n`,
  );
  process.exitCode = outcomes.every((o) => o.ok) && leftRunning.length === 0 ? 0 : 1;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : 0;
}

function report(
  outcomes: Outcome[],
  periods: Knobs[],
  stats: Record<string, number>,
  elapsedMs: number,
  leftRunning: number,
): string {
  const failed = outcomes.filter((o) => !o.ok);
  const ms = outcomes.map((o) => o.ms).sort((a, b) => a - b);
  const count = (f: (k: Knobs) => boolean) => periods.filter(f).length;
  const calls = Object.entries(stats)
    .filter(([k]) => k.startsWith('ssm:'))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const seconds = (value: number) => `${(value / 1000).toFixed(1)} s`;
  const longest = ms[ms.length - 1] ?? 0;
  const durations = `${seconds(percentile(ms, 50))} / ${seconds(percentile(ms, 95))} / ${seconds(longest)}`;
  const faults =
    `${periods.length}: ${count((k) => k.faultRate > 0)} with 5xx/resets, ${count((k) => k.throttleRps > 0)} ` +
    `throttled, ${count((k) => k.latencyMs >= 500)} with latency >= 500 ms, ` +
    `${count((k) => k.postObjectFailStatus > 0)} with the live POST refused`;
  const cutShort =
    `\n**Ran ${outcomes.length} of the ${RUNS} requested runs**: the time budget (\`--minutes ${values.minutes}\`) ` +
    `ran out first on this 2-core machine. \`npm run soak\` without \`--minutes\` runs all ${RUNS}.\n`;
  const viaSsm = outcomes.filter((o) => o.ok && o.source === 'ssm').length;
  return (
    `# Soak: random faults, nothing lost

Generated by \`npm run soak\` (test/soak/soak.ts) on ${new Date().toISOString().slice(0, 10)}; ` +
    `seed ${values.seed ?? 'random'}, concurrency ${CONCURRENCY}.
${outcomes.length < RUNS ? cutShort : ''}
## Method
- One sandbox (3 Online instances) on 127.0.0.1; the real engine (SDK clients, adaptive retry) runs
  random scripts: chatty Python with interleaved stdout/stderr and invalid UTF-8 (60%), Python printing
  more than SSM's 24,000-character cut (25%), shell scripts (15%); exit codes 0, 1, 3, 42.
- Every 4 s the sandbox's knobs change at random, while runs are in flight: latency 0-2000 ms per call,
  SSM throttling at 2 or 5 requests/s, 5-20% of all calls answered 500 or reset (presigned GET/POST
  of the instance included), and in ~${Math.round(REFUSALS * 100)}% of periods the live-output POST refused ` +
    `(403 or 503).
- A run passes when its status and exit code equal the local run's, and either its live output equals
  the local output byte for byte, or (live channel refused) its reason carries the note
  "${LIVE_OUTPUT_UNAVAILABLE}" and SSM's output equals the local output as the agent keeps it
  (cut at 24,000 bytes; stderr compared without the wrapper's notes). Afterwards no process of any run may be left.

## Result
| | |
|---|---|
| runs | ${outcomes.length} |
| passed | ${outcomes.length - failed.length} |
| failed | ${failed.length} |
| complete live output (byte-identical) | ${outcomes.filter((o) => o.ok && o.source === 'live').length} |
| SSM output with the note, equal to the local output as SSM keeps it (live channel refused) | ${viaSsm} |
| processes left running | ${leftRunning} |
| run duration p50 / p95 / max | ${durations} |
| wall time | ${(elapsedMs / 60000).toFixed(1)} min |
| fault periods | ${faults} |
| SSM call attempts (throttled/faulted attempts that the SDK retried included) | ${calls} |
${failed.length ? `\n## Failures\n${failed.map((o) => `- ${o.detail}`).join('\n')}\n` : ''}`
  );
}

void main();
