// A followed run (src/core/run.ts) over the scripted backend and the virtual clock, with the
// defaults the unit tests share: instance targets, a live channel, a one-hour timeout.
import { FollowedRun, type FollowOptions } from '../../src/core/run';
import type { SsmCommand } from '../../src/core/backend';
import { BUCKET, FakeClock, FakeRunBackend, RUN_PREFIX, type FakeInstance } from './fakeRunBackend';

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
