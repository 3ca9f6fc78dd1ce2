// The AWS calls a run makes while it is followed, behind a narrow interface: the wait policy
// (run.ts) is unit-tested against a fake of this, counting SSM calls.
import {
  CancelCommandCommand,
  GetCommandInvocationCommand,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  type Command,
  type CommandInvocation,
} from '@aws-sdk/client-ssm';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { ManagedInstance } from './api';
import { LIST_COMMAND_INVOCATIONS_MAX_RESULTS } from './awsLimits';
import type { AwsClients } from './clients';
import { errorName } from './errors';
import { describeManagedInstances } from './instances';

/** One invocation as SSM reports it. `responseCode` is -1 until the script has ended. */
export interface SsmInvocation {
  instanceId: string;
  status: string;
  statusDetails: string;
  responseCode: number;
  /** Only GetCommandInvocation returns output (at most 24,000 / 8,000 characters). */
  stdout?: string;
  stderr?: string;
  stdoutUrl?: string;
  stderrUrl?: string;
  startedAt?: Date;
  endedAt?: Date;
}

export interface SsmCommand {
  commandId: string;
  status: string;
  statusDetails: string;
  targetCount: number;
  completedCount: number;
  errorCount: number;
  instanceIds: string[];
  tagTargets: Array<{ key: string; value: string }>;
  commands: string[];
  executionTimeoutSeconds?: number;
  requestedAt?: Date;
}

export interface RunBackend {
  /** undefined while SSM does not know the invocation yet (InvocationDoesNotExist). */
  getInvocation(commandId: string, instanceId: string): Promise<SsmInvocation | undefined>;
  /** Every invocation of the command with plugin details (pages of 50). */
  listInvocations(commandId: string): Promise<SsmInvocation[]>;
  /** undefined when SSM does not know the command. */
  getCommand(commandId: string): Promise<SsmCommand | undefined>;
  cancel(commandId: string, instanceIds?: string[]): Promise<void>;
  pingStatus(instanceIds: string[]): Promise<ManagedInstance[]>;
  /** Keys under `prefix` after `startAfter`, in key order (all pages). */
  listKeys(bucket: string, prefix: string, startAfter?: string): Promise<string[]>;
  getObject(bucket: string, key: string): Promise<Uint8Array>;
  /** undefined when the key does not exist (yet): S3 answers NoSuchKey when the caller may list the bucket. */
  getObjectIfExists(bucket: string, key: string): Promise<Uint8Array | undefined>;
}

const PARSEABLE_DATE = (value: string | Date | undefined): Date | undefined => {
  if (!value) return undefined;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
};

function fromListed(invocation: CommandInvocation): SsmInvocation {
  const plugin = invocation.CommandPlugins?.[0];
  return {
    instanceId: invocation.InstanceId ?? '',
    status: invocation.Status ?? 'Pending',
    statusDetails: invocation.StatusDetails ?? invocation.Status ?? '',
    responseCode: plugin?.ResponseCode ?? -1,
    stdoutUrl: plugin?.StandardOutputUrl || invocation.StandardOutputUrl || undefined,
    stderrUrl: plugin?.StandardErrorUrl || invocation.StandardErrorUrl || undefined,
    startedAt: PARSEABLE_DATE(plugin?.ResponseStartDateTime),
    endedAt: PARSEABLE_DATE(plugin?.ResponseFinishDateTime),
  };
}

function fromCommand(command: Command): SsmCommand {
  const tagTargets = (command.Targets ?? [])
    .filter((t) => t.Key?.startsWith('tag:'))
    .flatMap((t) => (t.Values ?? []).map((value) => ({ key: t.Key!.slice(4), value })));
  const idTargets = (command.Targets ?? []).filter((t) => t.Key === 'InstanceIds').flatMap((t) => t.Values ?? []);
  const timeout = Number(command.Parameters?.executionTimeout?.[0]);
  return {
    commandId: command.CommandId ?? '',
    status: command.Status ?? 'Pending',
    statusDetails: command.StatusDetails ?? '',
    targetCount: command.TargetCount ?? 0,
    completedCount: command.CompletedCount ?? 0,
    errorCount: command.ErrorCount ?? 0,
    instanceIds: [...(command.InstanceIds ?? []), ...idTargets],
    tagTargets,
    commands: command.Parameters?.commands ?? [],
    executionTimeoutSeconds: Number.isFinite(timeout) ? timeout : undefined,
    requestedAt: command.RequestedDateTime,
  };
}

/** `s3`: runs one request with the S3 client of the bucket's region (see bucketRegion.ts). */
export function sdkRunBackend(
  clients: AwsClients,
  s3: <T>(bucket: string, call: (client: S3Client) => Promise<T>) => Promise<T>,
): RunBackend {
  return {
    async getInvocation(commandId, instanceId) {
      try {
        const out = await clients.ssm.send(
          new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }),
        );
        return {
          instanceId,
          status: out.Status ?? 'Pending',
          statusDetails: out.StatusDetails ?? out.Status ?? '',
          responseCode: out.ResponseCode ?? -1,
          stdout: out.StandardOutputContent ?? '',
          stderr: out.StandardErrorContent ?? '',
          stdoutUrl: out.StandardOutputUrl || undefined,
          stderrUrl: out.StandardErrorUrl || undefined,
          startedAt: PARSEABLE_DATE(out.ExecutionStartDateTime),
          endedAt: PARSEABLE_DATE(out.ExecutionEndDateTime),
        };
      } catch (error) {
        if (errorName(error) === 'InvocationDoesNotExist') return undefined;
        throw error;
      }
    },
    async listInvocations(commandId) {
      const all: SsmInvocation[] = [];
      let token: string | undefined;
      do {
        const page = await clients.ssm.send(
          new ListCommandInvocationsCommand({
            CommandId: commandId,
            Details: true,
            MaxResults: LIST_COMMAND_INVOCATIONS_MAX_RESULTS,
            NextToken: token,
          }),
        );
        all.push(...(page.CommandInvocations ?? []).map(fromListed));
        token = page.NextToken;
      } while (token);
      return all;
    },
    async getCommand(commandId) {
      try {
        const out = await clients.ssm.send(new ListCommandsCommand({ CommandId: commandId }));
        const command = out.Commands?.[0];
        return command ? fromCommand(command) : undefined;
      } catch (error) {
        if (errorName(error) === 'InvalidCommandId') return undefined;
        throw error;
      }
    },
    async cancel(commandId, instanceIds) {
      await clients.ssm.send(
        new CancelCommandCommand({ CommandId: commandId, InstanceIds: instanceIds?.length ? instanceIds : undefined }),
      );
    },
    pingStatus: (instanceIds) => describeManagedInstances(clients, { instanceIds }),
    async listKeys(bucket, prefix, startAfter) {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const input = {
          Bucket: bucket,
          Prefix: prefix,
          StartAfter: token ? undefined : startAfter,
          ContinuationToken: token,
        };
        const page = await s3(bucket, (client) => client.send(new ListObjectsV2Command(input)));
        keys.push(...(page.Contents ?? []).map((o) => o.Key ?? '').filter(Boolean));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys;
    },
    async getObject(bucket, key) {
      return s3(bucket, async (client) => {
        const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
      });
    },
    async getObjectIfExists(bucket, key) {
      try {
        return await this.getObject(bucket, key);
      } catch (error) {
        if (errorName(error) === 'NoSuchKey') return undefined;
        throw error;
      }
    },
  };
}
