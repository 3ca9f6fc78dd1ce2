// Completion detection lag and SSM calls per run: this engine vs the CLI waiter vs the seed library.
//
// Each run's command ends by printing `date +%s%N` (the remote end time, same machine clock as the
// client); lag = the client's time when its policy reported the exit code - that end time.
// Each policy gets its own sandbox process, so its SSM counts are its own; the three run at the
// same time (their commands only sleep), and within a policy the repetitions run concurrently on
// different instances with random start offsets.
import { SSMClient } from '@aws-sdk/client-ssm';
import { runWithCliWaiter, runWithSeedLibrary, type BaselineOutcome } from './baselines';
import { lastLine, loadEngine, nanosToMs, withTimeout } from './engineModule';
import { SandboxProcess, ssmCalls } from './sandboxProcess';
import { distribution, progress, sleep, type DetailedDistribution } from './stats';

export const POLICIES = ['ours', 'waiter', 'seedLibrary'] as const;
export type Policy = (typeof POLICIES)[number];

export interface DetectionPlan {
  durationsSeconds: number[];
  repetitions: number;
  /** Repetitions start at random offsets within this window. */
  startSpreadMs: number;
}

export interface DurationResult {
  durationSeconds: number;
  lagMs: DetailedDistribution;
  ssmCallsPerRun: number;
  ssmCallsByOperation: Record<string, number>;
  /**
   * S3 requests per run: the engine polls S3 (LIST/GET of the live channel) where the waiters poll SSM; the wrapper's
   * presigned GET/POSTs are S3 requests too.
   */
  s3CallsPerRun: number;
  s3CallsByOperation: Record<string, number>;
  /** The policy's sandbox process: longest event-loop stall while these runs went on. */
  sandboxLoopStallMaxMs: number;
}

export interface PolicyResult {
  policy: Policy;
  /** Engine runs whose result did not come from the live channel, with their reasons. */
  notes: string[];
  lagsMs: number[];
  ssmCallsPerRun: number;
  s3CallsPerRun: number;
  byDuration: DurationResult[];
}

interface RunOutcome {
  reportedAtMs: number;
  stdout: string;
  exitCode: number | null;
  status: string;
  /** Engine only: a note when the result did not come from the live channel. */
  note?: string;
}

type RunOnce = (instanceId: string, command: string) => Promise<RunOutcome>;

function runnerFor(policy: Policy, sandbox: SandboxProcess): { run: RunOnce; dispose(): void } {
  if (policy === 'ours') {
    const engine = loadEngine().createEngine(sandbox.engineSettings);
    return {
      async run(instanceId, command) {
        const handle = await engine.start({
          source: { kind: 'command', command },
          target: { kind: 'instances', instanceIds: [instanceId] },
        });
        const result = await handle.wait();
        const reportedAtMs = Date.now();
        const invocation = result.invocations[0];
        const note =
          invocation.outputSource === 'live' ? undefined : `output from SSM: ${invocation.reason ?? 'no reason given'}`;
        return {
          reportedAtMs,
          stdout: invocation.stdout,
          exitCode: invocation.exitCode,
          status: invocation.status,
          note,
        };
      },
      dispose: () => engine.dispose(),
    };
  }
  const { endpoint, region, accessKeyId, secretAccessKey } = sandbox.info;
  const ssm = new SSMClient({ endpoint, region, credentials: { accessKeyId, secretAccessKey } });
  const policyRun = policy === 'waiter' ? runWithCliWaiter : runWithSeedLibrary;
  return {
    run: (instanceId, command): Promise<BaselineOutcome> => policyRun(ssm, instanceId, command),
    dispose: () => ssm.destroy(),
  };
}

/** The command every policy runs: a plain shell command whose last act prints its end time. */
export function timedCommand(durationSeconds: number): string {
  return `sleep ${durationSeconds}; echo done; date +%s%N`;
}

async function runPolicy(policy: Policy, plan: DetectionPlan): Promise<PolicyResult> {
  const sandbox = await SandboxProcess.start({ instances: plan.repetitions + 1 });
  const runner = runnerFor(policy, sandbox);
  const instances = sandbox.onlineInstanceIds;
  const result: PolicyResult = { policy, notes: [], lagsMs: [], ssmCallsPerRun: 0, s3CallsPerRun: 0, byDuration: [] };
  try {
    let calls = 0;
    let s3Calls = 0;
    for (const durationSeconds of plan.durationsSeconds) {
      await sandbox.resetStats();
      const lags = await Promise.all(
        Array.from({ length: plan.repetitions }, async (_, i) => {
          await sleep(Math.random() * plan.startSpreadMs);
          const outcome = await withTimeout(
            runner.run(instances[i], timedCommand(durationSeconds)),
            150_000,
            `${policy} run of ${durationSeconds} s`,
          );
          if (outcome.status !== 'Success' || outcome.exitCode !== 0) {
            throw new Error(
              `${policy}: a ${durationSeconds} s run ended ${outcome.status} (exit ${outcome.exitCode}); ` +
                `stdout: ${outcome.stdout.slice(-200)}`,
            );
          }
          if (outcome.note) result.notes.push(`${durationSeconds} s run: ${outcome.note}`);
          return outcome.reportedAtMs - nanosToMs(lastLine(outcome.stdout));
        }),
      );
      const { counts, eventLoopDelayMaxMs } = await sandbox.stats();
      const durationCalls = ssmCalls(counts);
      const s3ByOperation = Object.fromEntries(Object.entries(counts).filter(([k]) => k.startsWith('s3:')));
      const durationS3Calls = Object.values(s3ByOperation).reduce((a, b) => a + b, 0);
      calls += durationCalls;
      s3Calls += durationS3Calls;
      result.lagsMs.push(...lags);
      result.byDuration.push({
        durationSeconds,
        lagMs: distribution(lags),
        ssmCallsPerRun: durationCalls / plan.repetitions,
        ssmCallsByOperation: Object.fromEntries(Object.entries(counts).filter(([k]) => k.startsWith('ssm:'))),
        s3CallsPerRun: durationS3Calls / plan.repetitions,
        s3CallsByOperation: s3ByOperation,
        sandboxLoopStallMaxMs: Math.round(eventLoopDelayMaxMs),
      });
      progress(
        `detection ${policy} ${durationSeconds} s: p50 ${distribution(lags).p50} ms, ` +
          `${(durationCalls / plan.repetitions).toFixed(1)} SSM calls/run, ` +
          `${(durationS3Calls / plan.repetitions).toFixed(1)} S3 calls/run`,
      );
    }
    result.ssmCallsPerRun = calls / (plan.repetitions * plan.durationsSeconds.length);
    result.s3CallsPerRun = s3Calls / (plan.repetitions * plan.durationsSeconds.length);
    return result;
  } finally {
    runner.dispose();
    await sandbox.stop();
  }
}

export async function measureDetection(plan: DetectionPlan): Promise<Record<Policy, PolicyResult>> {
  // One policy after another: run at once, 60 wrappers started within a second on the 2 CPUs, and the engine's
  // wrappers spoke more than 2 s late, which costs it early SSM looks (33 of 93 calls in 20 runs of 20 s) that no
  // real instance, with a CPU of its own, would cause. Each policy's own 20 runs still share the machine.
  const results: PolicyResult[] = [];
  for (const policy of POLICIES) results.push(await runPolicy(policy, plan));
  return Object.fromEntries(results.map((r) => [r.policy, r])) as Record<Policy, PolicyResult>;
}
