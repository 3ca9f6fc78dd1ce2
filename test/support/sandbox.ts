// withSandbox(): a fresh sandbox for one test file (stopped by node:test's `after`), with what a
// test needs to point an SDK client, the ec2-runner CLI or the AWS CLI at it.
import { after } from 'node:test';
import assert from 'node:assert/strict';
import {
  type GetCommandInvocationCommandOutput,
  GetCommandInvocationCommand,
  ListCommandsCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { type Sandbox, type SandboxInfo, type SandboxOptions, startSandbox } from '../../src/sandbox/index';
import { sandboxEnvironment } from '../../src/sandbox/environment';

export interface SandboxFixture {
  sandbox: Sandbox;
  info: SandboxInfo;
  /** AwsSettings-shaped (src/core/api.ts): region, endpointUrl, credentials. */
  settings: { region: string; endpointUrl: string; credentials: { accessKeyId: string; secretAccessKey: string } };
  /** EngineSettings for `createEngine(...)`: `settings` plus the sandbox's staging bucket. */
  engineSettings: {
    region: string;
    endpointUrl: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
    bucket: string;
  };
  /** Ids of the instances that start Online (the ones commands can run on). */
  onlineInstanceIds: string[];
  /** Config for `new SSMClient(...)` / `new S3Client({ ...clientConfig, forcePathStyle: true })`. */
  clientConfig: { region: string; endpoint: string; credentials: { accessKeyId: string; secretAccessKey: string } };
  /**
   * A whole environment for a child process (CLI, `aws`): this process's env without any AWS_* variable, plus the
   * sandbox's.
   */
  env: NodeJS.ProcessEnv;
}

/** Environment for child processes: no inherited AWS_* settings, no config/credential files, no pager. */
export function childEnvironment(info: SandboxInfo, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(base))
    if (!name.startsWith('AWS_') && name !== 'EC2_RUNNER_BUCKET') env[name] = value;
  return {
    ...env,
    ...sandboxEnvironment(info),
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_PAGER: '',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

export async function withSandbox(options: SandboxOptions = {}): Promise<SandboxFixture> {
  const sandbox = await startSandbox({ latencyMs: 0, ...options });
  after(() => sandbox.stop());
  const { info } = sandbox;
  const credentials = { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey };
  const settings = { region: info.region, endpointUrl: info.endpoint, credentials };
  return {
    sandbox,
    info,
    settings,
    engineSettings: { ...settings, bucket: info.bucket },
    onlineInstanceIds: info.instances.filter((i) => i.pingStatus === 'Online').map((i) => i.instanceId),
    clientConfig: { region: info.region, endpoint: info.endpoint, credentials },
    env: childEnvironment(info),
  };
}

/** Polls `check` until it returns a value other than undefined; fails with `what` after `timeoutMs`. */
export async function pollUntil<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ` +
          `${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

const TERMINAL_STATUSES = ['Success', 'Failed', 'TimedOut', 'Cancelled'];

/**
 * Polls GetCommandInvocation (tolerating InvocationDoesNotExist) until `until(status)` holds,
 * by default until the invocation has ended.
 */
export async function waitForInvocation(
  ssm: SSMClient,
  commandId: string,
  instanceId: string,
  {
    until = (status: string) => TERMINAL_STATUSES.includes(status),
    timeoutMs = 15_000,
  }: { until?: (status: string) => boolean; timeoutMs?: number } = {},
): Promise<GetCommandInvocationCommandOutput> {
  return pollUntil(
    `invocation ${commandId} on ${instanceId}`,
    async () => {
      try {
        const invocation = await ssm.send(
          new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }),
        );
        return until(invocation.Status ?? '') ? invocation : undefined;
      } catch (error) {
        if ((error as Error).name === 'InvocationDoesNotExist') return undefined;
        throw error;
      }
    },
    timeoutMs,
  );
}

/**
 * Proof that the client's own timeout ended a run, not the agent's: the sandbox received
 * ssm:CancelCommand (count since the last resetStats), SSM says Cancelled (the agent's
 * executionTimeout would have made it TimedOut/ExecutionTimedOut) and the script ran from
 * `timeoutSeconds` to less than `agentTimeoutSeconds`.
 */
export async function assertClientTimeoutCancelled(
  fx: SandboxFixture,
  commandId: string,
  instanceId: string,
  timeoutSeconds: number,
  agentTimeoutSeconds: number,
): Promise<void> {
  const ssm = new SSMClient(fx.clientConfig);
  try {
    assert.ok(
      (fx.sandbox.stats()['ssm:CancelCommand'] ?? 0) >= 1,
      `the sandbox received ssm:CancelCommand (stats: ${JSON.stringify(fx.sandbox.stats())})`,
    );
    const invocation = await waitForInvocation(ssm, commandId, instanceId);
    assert.equal(
      invocation.Status,
      'Cancelled',
      `SSM's status ${invocation.Status}/${invocation.StatusDetails}: the agent's own timeout ended the run`,
    );
    const ranMs = Date.parse(invocation.ExecutionEndDateTime!) - Date.parse(invocation.ExecutionStartDateTime!);
    assert.ok(
      ranMs >= timeoutSeconds * 1000 - 50,
      `ran ${ranMs} ms, not before the client timeout of ${timeoutSeconds} s`,
    );
    assert.ok(
      ranMs < agentTimeoutSeconds * 1000,
      `ran ${ranMs} ms: ended before the agent's ${agentTimeoutSeconds} s timeout could have ended it`,
    );
  } finally {
    ssm.destroy();
  }
}

/** The id of the command sent last (for a CLI run that printed none). */
export async function latestCommandId(fx: SandboxFixture): Promise<string> {
  const ssm = new SSMClient(fx.clientConfig);
  try {
    const { Commands = [] } = await ssm.send(new ListCommandsCommand({}));
    const latest = Commands.sort(
      (a, b) => (b.RequestedDateTime?.getTime() ?? 0) - (a.RequestedDateTime?.getTime() ?? 0),
    )[0];
    assert.ok(latest?.CommandId, 'a command was sent');
    return latest.CommandId;
  } finally {
    ssm.destroy();
  }
}
