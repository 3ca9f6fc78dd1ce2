// A LiveFollower (src/core/liveFollower.ts) on its own for unit tests: a scripted backend, a virtual clock, and a
// renewal that records its calls. No run loop around it.
import type { OutputChunk, RunStatusUpdate } from '../../src/core/api';
import type { SsmInvocation } from '../../src/core/backend';
import { CallGuard } from '../../src/core/callGuard';
import { LiveFollower } from '../../src/core/liveFollower';
import type { UploadRenewal } from '../../src/core/renewal';
import { RunInstances } from '../../src/core/runInstances';
import { BUCKET, FakeClock, FakeRunBackend, RUN_PREFIX, type FakeInstance } from './fakeRunBackend';

export const ID = 'i-0123456789abcdef0';
export const ID2 = 'i-0123456789abcdef1';
export const COMMAND_ID = '11111111-2222-3333-4444-555555555555';

interface RenewCall {
  instanceIds: readonly string[];
  proactive: boolean;
  notStarted?: ReadonlySet<string>;
}

/** A renewal that records its calls, due at `renewAtMs`, failing with `failWith` when given. */
export function fakeRenewal(renewAtMs: number, failWith?: Error) {
  const calls: RenewCall[] = [];
  const renewal = {
    renewAtMs: () => renewAtMs,
    renew: async (
      instanceIds: readonly string[],
      options: { proactive: boolean; notStarted?: ReadonlySet<string> },
    ) => {
      calls.push({ instanceIds, ...options });
      if (failWith) throw failWith;
      return new Map(instanceIds.map((id) => [id, `renewal-${id}`]));
    },
  };
  return { renewal: renewal as unknown as UploadRenewal, calls };
}

export interface FollowerOptions {
  renewal?: UploadRenewal;
  /** The instances the caller named (instance targets); default: every scripted one. */
  targeted?: string[];
  /** Tag targets: find instances on the channel until `targetsResolved` says SSM has named them all. */
  discoverInstances?: boolean;
  targetsResolved?: () => boolean;
  /** The instances' least time between uploads (cadence.ts); default: a watched run's. */
  uploadGapSeconds?: number;
}

export function follower(instances: FakeInstance[], options: FollowerOptions = {}) {
  const clock = new FakeClock();
  const backend = new FakeRunBackend(clock, instances);
  const run = new RunInstances(options.targeted ?? instances.map((i) => i.instanceId));
  const output: OutputChunk[] = [];
  const statuses: RunStatusUpdate[] = [];
  run.onOutput((c) => output.push(c));
  run.onStatus((s) => statuses.push(s));
  const ssmGuard = new CallGuard((error) => {
    throw error;
  });
  const live = new LiveFollower({
    commandId: COMMAND_ID,
    backend,
    clock,
    instances: run,
    discoverInstances: options.discoverInstances ?? false,
    location: { bucket: BUCKET, runPrefix: RUN_PREFIX },
    renewal: options.renewal,
    uploadGapSeconds: options.uploadGapSeconds,
    counted: () => run.all(),
    targetsResolved: options.targetsResolved ?? (() => true),
    ssmGuard,
  });
  const stdoutOf = (id = ID) =>
    Buffer.concat(output.filter((c) => c.instanceId === id && c.stream === 'stdout').map((c) => c.data)).toString(
      'utf8',
    );
  return { clock, backend, run, live, output, statuses, stdoutOf };
}

export const started = (instanceId: string, chunks: FakeInstance['chunks']): FakeInstance => ({
  instanceId,
  chunks,
  ssm: [{ from: 0, status: 'InProgress' }],
});

/** An instance whose wrapper started, and whose invocation SSM reports as `status` from the start. */
export const endedWith = (
  status: string,
  chunks: FakeInstance['chunks'] = [{ at: 0, frames: [{ type: 'start', info: {} }] }],
) => ({ instanceId: ID, chunks, ssm: [{ from: 0, status, responseCode: 0 }] }) satisfies FakeInstance;

/** A follower over one instance that ended with `status`, after one pass, and that instance's invocation. */
export async function afterOnePass(instance: FakeInstance, renewal = fakeRenewal(Infinity)) {
  const f = follower([instance], { renewal: renewal.renewal });
  await f.live.poll(false);
  const invocation = (await f.backend.getInvocation(COMMAND_ID, ID)) as SsmInvocation;
  return { ...f, p: f.run.get(ID)!, invocation, calls: renewal.calls };
}

/** SSM answers for the renewal command `fakeRenewal` sent to ID with `status` (the fake gives the run's own state). */
export function renewalAnswers(backend: FakeRunBackend, status: string): void {
  const ownInvocation = backend.getInvocation.bind(backend);
  backend.getInvocation = async (commandId, instanceId) =>
    commandId === `renewal-${ID}`
      ? { ...(await ownInvocation(COMMAND_ID, instanceId))!, status }
      : ownInvocation(commandId, instanceId);
}
