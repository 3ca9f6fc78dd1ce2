// Live output lag: a script prints its clock (`date +%s%N`) at irregular intervals; each line's
// lag = the time the client received it through RunHandle.onOutput - the time it was printed.
import { lastLine, loadEngine, nanosToMs, withTimeout } from './engineModule';
import { SandboxProcess } from './sandboxProcess';
import { distribution, progress, type DetailedDistribution } from './stats';

export interface LivePlan {
  runs: number;
  linesPerRun: number;
  /** Seconds between lines; deliberately not a multiple of the engine's 200/250 ms cadences. */
  intervalSeconds: number;
}

export interface LiveResult {
  lagMs: DetailedDistribution;
  lagsMs: number[];
  linesExpected: number;
}

function tickingCommand(plan: LivePlan): string {
  return `i=0; while [ $i -lt ${plan.linesPerRun} ]; do date +%s%N; i=$((i+1)); sleep ${plan.intervalSeconds}; done`;
}

export async function measureLiveOutput(plan: LivePlan): Promise<LiveResult> {
  const sandbox = await SandboxProcess.start({ instances: plan.runs + 1 });
  const engine = loadEngine().createEngine(sandbox.engineSettings);
  const lags: number[] = [];
  try {
    await Promise.all(
      sandbox.onlineInstanceIds.slice(0, plan.runs).map(async (instanceId) => {
        const handle = await engine.start({
          source: { kind: 'command', command: tickingCommand(plan) },
          target: { kind: 'instances', instanceIds: [instanceId] },
        });
        let pending = '';
        const subscription = handle.onOutput((chunk) => {
          const receivedAtMs = Date.now();
          if (chunk.stream !== 'stdout') return;
          pending += Buffer.from(chunk.data).toString('utf8');
          const lines = pending.split('\n');
          pending = lines.pop() ?? '';
          for (const line of lines) if (line.trim()) lags.push(receivedAtMs - nanosToMs(line));
        });
        const result = await withTimeout(handle.wait(), 120_000, 'live output run');
        subscription.dispose();
        const invocation = result.invocations[0];
        if (invocation.status !== 'Success')
          throw new Error(`live output run ended ${invocation.status}: ${invocation.reason ?? ''}`);
        if (invocation.outputSource !== 'live')
          throw new Error(`live output run fell back to SSM output: ${invocation.reason ?? ''}`);
        if (!lastLine(invocation.stdout)) throw new Error('live output run printed nothing');
      }),
    );
  } finally {
    engine.dispose();
    await sandbox.stop();
  }
  const linesExpected = plan.runs * plan.linesPerRun;
  if (lags.length !== linesExpected)
    throw new Error(
      `live output: received ${lags.length} timestamped lines through onOutput, expected ${linesExpected}`,
    );
  const lagMs = distribution(lags);
  progress(`live output: p50 ${lagMs.p50} ms, p95 ${lagMs.p95} ms over ${lags.length} lines`);
  return { lagMs, lagsMs: lags, linesExpected };
}
