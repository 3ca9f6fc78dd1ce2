// A followed run (src/core/run.ts) over the scripted backend and the virtual clock, with the
// defaults the unit tests share: instance targets, a live channel, a one-hour timeout.
import { FollowedRun, type FollowOptions } from '../../src/core/run';
import type { SsmCommand } from '../../src/core/backend';
import { BUCKET, FakeClock, FakeRunBackend, RUN_PREFIX, scriptFrames, type FakeInstance } from './fakeRunBackend';

export const COMMAND_ID = '11111111-2222-3333-4444-555555555555';

export function newFollowedRun(
  instances: FakeInstance[],
  options: Partial<FollowOptions> = {},
  command: Partial<SsmCommand> = {},
) {
  const clock = new FakeClock();
  const backend = new FakeRunBackend(clock, instances, command);
  const run = new FollowedRun({
    commandId: COMMAND_ID,
    backend,
    instanceIds: instances.map((i) => i.instanceId),
    discoverInstances: false,
    live: { bucket: BUCKET, runPrefix: RUN_PREFIX },
    timeoutSeconds: 3600,
    clock,
    ...options,
  });
  return { clock, backend, run };
}

/** A 3-second script with live output that exits 0. */
export function quickScript(instanceId = 'i-0123456789abcdef0'): FakeInstance {
  const [first, last] = scriptFrames('hello\n');
  return {
    instanceId,
    chunks: [
      { at: 500, frames: first },
      { at: 3_500, frames: last },
    ],
    ssm: [
      { from: 300, status: 'InProgress' },
      { from: 3_700, status: 'Success', responseCode: 0 },
    ],
  };
}
