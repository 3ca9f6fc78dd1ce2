// An SsmChecker (src/core/ssmChecker.ts) on its own for unit tests: a scripted backend, a virtual clock, and a host
// that records what the checker asks of the run.
import type { SsmCommand } from '../../src/core/backend';
import type { InstanceProgress } from '../../src/core/progress';
import { RunInstances } from '../../src/core/runInstances';
import { SsmChecker } from '../../src/core/ssmChecker';
import { FakeClock, FakeRunBackend, type FakeInstance } from './fakeRunBackend';

export const ID = 'i-0123456789abcdef0';
export const ID2 = 'i-0123456789abcdef1';

export interface CheckerOptions {
  discoverInstances?: boolean;
  recovering?: boolean;
  /** When the run was sent (default 0). */
  startedAtMs?: number;
  /** Fields of ListCommands' answer that override the fake's own. */
  command?: Partial<SsmCommand>;
}

export function checker(instances: FakeInstance[], options: CheckerOptions = {}) {
  const clock = new FakeClock();
  const backend = new FakeRunBackend(clock, instances, options.command);
  const discoverInstances = options.discoverInstances ?? false;
  const run = new RunInstances(discoverInstances ? [] : instances.map((i) => i.instanceId));
  const finalized: Array<{ instanceId: string; status: string; note?: string }> = [];
  const details: string[] = [];
  const cancelled: string[][] = [];
  const catchUps: number[] = [];
  const ssm = new SsmChecker({
    commandId: '11111111-2222-3333-4444-555555555555',
    backend,
    clock,
    instances: run,
    discoverInstances,
    singleTarget: !discoverInstances && instances.length === 1,
    startedAtMs: options.startedAtMs ?? 0,
    host: {
      finalize: async (p: InstanceProgress, status: string, statusDetails: string, note?: string) => {
        p.final = true;
        finalized.push({ instanceId: p.instanceId, status, note });
        details.push(statusDetails);
      },
      recoverKeptOutput: async () => options.recovering ?? false,
      cancel: async (ids) => {
        cancelled.push(ids);
      },
      catchUpLive: async () => {
        catchUps.push(clock.now());
      },
    },
  });
  return { clock, backend, run, ssm, finalized, details, cancelled, catchUps };
}

export const at = (from: number, status: string): FakeInstance['ssm'][number] => ({
  from,
  status,
  responseCode: status === 'Success' ? 0 : -1,
});

/** `count` instance ids in key order. */
export const fleetIds = (count: number) =>
  Array.from({ length: count }, (_, n) => `i-${n.toString(16).padStart(17, '0')}`);
