// First output line (issue 16): `engine.start()` called → the first stdout chunk through `onOutput`,
// minus the sandbox's delivery delay (SSM's own part), for `echo first; sleep 0.5` run one after
// another on one instance of an otherwise idle sandbox.
import { loadEngine, withTimeout } from './engineModule';
import { SandboxProcess } from './sandboxProcess';
import { distribution, progress, type Distribution } from './stats';

export const DELIVERY_DELAY_MS = 200;

export type FirstOutputResult = Distribution & { n: number; deliveryDelayMs: number };

export async function measureFirstOutput(runs: number): Promise<FirstOutputResult> {
  const sandbox = await SandboxProcess.start({ instances: 1, deliveryDelayMs: DELIVERY_DELAY_MS });
  const engine = loadEngine().createEngine(sandbox.engineSettings);
  const one = { kind: 'instances' as const, instanceIds: [sandbox.onlineInstanceIds[0]] };
  try {
    await engine.identity();
    const firsts: number[] = [];
    for (let i = 0; i < runs; i++) {
      const startedAt = Date.now();
      const handle = await engine.start({ source: { kind: 'command', command: 'echo first; sleep 0.5' }, target: one });
      const first = new Promise<number>((resolve) =>
        handle.onOutput((c) => c.stream === 'stdout' && resolve(Date.now())),
      );
      await withTimeout(handle.wait(), 60_000, 'first-output run');
      firsts.push((await first) - startedAt - DELIVERY_DELAY_MS);
    }
    const result = { ...distribution(firsts), deliveryDelayMs: DELIVERY_DELAY_MS };
    progress(
      `first output line: p50 ${result.p50} ms, p95 ${result.p95} ms (delivery delay ${DELIVERY_DELAY_MS} ms ` +
        `subtracted)`,
    );
    return result;
  } finally {
    engine.dispose();
    await sandbox.stop();
  }
}
