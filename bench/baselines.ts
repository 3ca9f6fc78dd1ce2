// The two waiting policies users run today, implemented on the same SDK client the engine uses
// (@aws-sdk/client-ssm), each sending a plain shell command with SendCommand.
//
// (a) The AWS CLI / boto3 `command_executed` waiter (`aws ssm wait command-executed`): botocore's
//     waiter model for SSM says delay 5 s, maxAttempts 20, retry on Pending / InProgress / Delayed
//     and on the InvocationDoesNotExist error. botocore's Waiter.wait() polls at once and then
//     sleeps `delay` between attempts (botocore/waiter.py). We use the JS SDK's own
//     waitUntilCommandExecuted, whose acceptors are the same; its service defaults are
//     minDelay 5 / maxDelay 120 with exponential backoff and jitter, so we pin minDelay = maxDelay
//     = 5 to get the CLI's fixed 5 s cadence, and maxWaitTime 100 s (= 20 attempts x 5 s).
//     Like botocore, the JS waiter's first attempt has no delay.
// (b) The seed author's library (aws-ssm-run-command 1.0.1): sleep `gap` = 1 s, then
//     GetCommandInvocation every `delays` = 3 s until a terminal status. It does not handle
//     InvocationDoesNotExist (it would raise); here that error is treated as "not yet" so the run
//     completes, which is the only change.
import {
  GetCommandInvocationCommand,
  SendCommandCommand,
  waitUntilCommandExecuted,
  type GetCommandInvocationCommandOutput,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { sleep } from './stats';

/** botocore `ssm` waiter `CommandExecuted`: delay and maxAttempts. */
export const CLI_WAITER = { delaySeconds: 5, maxAttempts: 20 } as const;
/** The seed library's `gap` and `delays` defaults (seconds). */
export const SEED_LIBRARY = { gapSeconds: 1, delaySeconds: 3, timeoutSeconds: 60 } as const;

const TERMINAL = new Set(['Success', 'Cancelled', 'TimedOut', 'Failed', 'Cancelling']);

export interface BaselineOutcome {
  status: string;
  exitCode: number;
  stdout: string;
  /** Client clock (ms since epoch) when the policy reported the exit code. */
  reportedAtMs: number;
}

export async function sendShellCommand(ssm: SSMClient, instanceId: string, command: string): Promise<string> {
  const sent = await ssm.send(
    new SendCommandCommand({
      DocumentName: 'AWS-RunShellScript',
      InstanceIds: [instanceId],
      Parameters: { commands: [command] },
    }),
  );
  const commandId = sent.Command?.CommandId;
  if (!commandId) throw new Error('SendCommand returned no CommandId');
  return commandId;
}

/**
 * `aws ssm send-command` + `aws ssm wait command-executed`. The waiter's last GetCommandInvocation
 * response already carries the exit code, so no further call is counted (a CLI user would need one
 * more get-command-invocation: this favours the baseline). The bench's commands succeed; a failed
 * one makes the waiter throw, which aborts the bench loudly.
 */
export async function runWithCliWaiter(ssm: SSMClient, instanceId: string, command: string): Promise<BaselineOutcome> {
  const commandId = await sendShellCommand(ssm, instanceId, command);
  const waited = await waitUntilCommandExecuted(
    {
      client: ssm,
      minDelay: CLI_WAITER.delaySeconds,
      maxDelay: CLI_WAITER.delaySeconds,
      maxWaitTime: CLI_WAITER.delaySeconds * CLI_WAITER.maxAttempts,
    },
    { CommandId: commandId, InstanceId: instanceId },
  );
  const reportedAtMs = Date.now();
  const last = waited.reason as GetCommandInvocationCommandOutput | undefined;
  return {
    status: last?.Status ?? 'Unknown',
    exitCode: last?.ResponseCode ?? -1,
    stdout: last?.StandardOutputContent ?? '',
    reportedAtMs,
  };
}

/** The seed library's run_shell_script_sync loop for one instance. */
export async function runWithSeedLibrary(
  ssm: SSMClient,
  instanceId: string,
  command: string,
): Promise<BaselineOutcome> {
  const commandId = await sendShellCommand(ssm, instanceId, command);
  const deadline = Date.now() + SEED_LIBRARY.timeoutSeconds * 1000;
  await sleep(SEED_LIBRARY.gapSeconds * 1000);
  for (;;) {
    try {
      const invocation = await ssm.send(
        new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }),
      );
      const status = invocation.Status ?? 'Unknown';
      if (TERMINAL.has(status)) {
        return {
          status,
          exitCode: invocation.ResponseCode ?? -1,
          stdout: invocation.StandardOutputContent ?? '',
          reportedAtMs: Date.now(),
        };
      }
    } catch (error) {
      // The seed raises here; retrying is the one fix applied so the run completes.
      if ((error as { name?: string }).name !== 'InvocationDoesNotExist') throw error;
    }
    if (Date.now() > deadline)
      throw new Error(`seed library timed out after ${SEED_LIBRARY.timeoutSeconds} s for ${commandId}`);
    await sleep(SEED_LIBRARY.delaySeconds * 1000);
  }
}
