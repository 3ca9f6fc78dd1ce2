// Attach and status: a run's follower rebuilt from SSM alone, for a run another process started.
// ListCommands' Parameters carry the command text, whose header line names the live channel.
import { RunnerError } from './api';
import type { RunBackend } from './backend';
import type { AwsClients } from './clients';
import type { Clock } from './clock';
import { RECOVERY_POLICY_SECONDS } from './defaults';
import { parseLiveLocation } from './liveChannelReader';
import type { OutputStoreOptions } from './outputStore';
import { parseRemoteHeader } from './remote';
import { UploadRenewal } from './renewal';
import { FollowedRun } from './run';
import type { StagingBuckets } from './stagingBuckets';

export interface ReattachContext {
  backend: RunBackend;
  clients: AwsClients;
  buckets: StagingBuckets;
  clock?: Clock;
  output?: OutputStoreOptions;
}

/** The follower of `commandId`; `immediate` checks SSM at once (the run may be long finished). */
export async function reattachedRun(
  context: ReattachContext,
  commandId: string,
  immediate: boolean,
): Promise<FollowedRun> {
  const { backend, buckets } = context;
  const command = await backend.getCommand(commandId);
  if (!command) {
    throw new RunnerError(`No command ${commandId} in this account and region`, 'UnknownCommand', {
      advice: 'check the command id, the profile and the region.',
      data: { commandId },
    });
  }
  const header = parseRemoteHeader(command.commands);
  const live = header?.outputLocation ? parseLiveLocation(header.outputLocation) : undefined;
  // Output kept on an instance whose upload policy expired is fetched with a fresh one (renewal.ts).
  const renewal =
    live && header
      ? new UploadRenewal({
          clients: context.clients,
          bucket: live.bucket,
          s3: () => buckets.locatedClient(live.bucket),
          encryption: buckets.encryption,
          runId: header.runId,
          runPrefix: live.runPrefix,
          policySeconds: RECOVERY_POLICY_SECONDS,
        })
      : undefined;
  return new FollowedRun({
    commandId,
    backend,
    instanceIds: command.instanceIds,
    discoverInstances: command.instanceIds.length === 0,
    live,
    renewal,
    clock: context.clock,
    immediateStatusCheck: immediate,
    output: context.output,
  });
}
