// Starting a run: check targets, stage the file, build the command, SendCommand.
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { SendCommandCommand, type SendCommandCommandInput, type Target } from '@aws-sdk/client-ssm';
import type { S3Client } from '@aws-sdk/client-s3';
import { AGENT_CHECK } from './advice';
import { RunnerError, type CallerIdentity, type ManagedInstance, type RunTarget } from './api';
import { uploadGapSeconds } from './cadence';
import type { AwsClients } from './clients';
import { MIN_AGENT_EXECUTION_TIMEOUT_SECONDS, RUN_DOCUMENT } from './defaults';
import type { UploadEncryption } from './encryption';
import { liveOutputLocation, type LiveLocation } from './liveChannelReader';
import { describeManagedInstances } from './instances';
import { buildRemoteCommands, isInstanceId, type RemotePayload, type RemoteRunSpec } from './remote';
import type { NormalizedRequest } from './request';
import { stagedContentOf } from './sources';
import { sha256Hex, stageFile } from './staging';
import { UploadRenewal } from './renewal';
import {
  cappedLifetimeSeconds,
  createLiveOutputTarget,
  downloadLifetimeSeconds,
  presignedDownloadUrl,
  presignLifetimeSeconds,
  runPrefixOf,
  signingCredentials,
  type SigningCredentials,
} from './transfer';

export interface LaunchContext {
  clients: AwsClients;
  identity: CallerIdentity;
  bucket: string;
  /** S3 in the bucket's region: staging, presigned URLs and the POST policy are signed for it. */
  s3: S3Client;
  bucketRegion: string;
  keyPrefix: string;
  encryption?: UploadEncryption;
}

export interface Launched {
  commandId: string;
  instanceIds: string[];
  live: LiveLocation;
  /** Renews the instances' upload policy while the run goes on (run.ts decides when). */
  renewal: UploadRenewal;
  /** Said once before the run (credentials that expire before its timeout). */
  warnings: string[];
  /** Seconds between two uploads of continuous output on each instance (cadence.ts). */
  uploadGapSeconds: number;
}

/** SSM's Comment is at most 100 characters; the prefix makes our runs recognisable in the console. */
const COMMENT_MAX = 100;

function describeTags(tags: Array<{ key: string; value: string }>): string {
  return tags.map((t) => `${t.key}=${t.value}`).join(', ');
}

/**
 * Fails fast, before anything is sent, when a target instance is unknown or offline (SSM would
 * accept the command and leave it Pending until the delivery timeout). Best effort: without
 * ssm:DescribeInstanceInformation permission the check is skipped and SendCommand decides.
 */
export async function checkTargetsReachable(
  clients: AwsClients,
  target: RunTarget,
  region: string,
): Promise<number | undefined> {
  let found: ManagedInstance[];
  try {
    found = await describeManagedInstances(
      clients,
      target.kind === 'instances' ? { instanceIds: target.instanceIds } : { tags: target.tags },
    );
  } catch {
    return undefined;
  }
  if (target.kind === 'tags') {
    if (found.length === 0) {
      throw new RunnerError(
        `No SSM managed instance has tag ${describeTags(target.tags)} in ${region}`,
        'NoMatchingInstances',
        { advice: 'check the tag and the region.' },
      );
    }
    if (!found.some((i) => i.pingStatus === 'Online')) {
      throw new RunnerError(
        `Every instance with tag ${describeTags(target.tags)} is offline to SSM: start the instances or ` +
          `their SSM agents, then retry.`,
        'InstanceOffline',
      );
    }
    return found.filter((i) => i.pingStatus === 'Online').length;
  }
  for (const id of target.instanceIds) {
    const info = found.find((i) => i.instanceId === id);
    if (!info) {
      throw new RunnerError(`Instance ${id} is not an SSM managed instance in ${region}`, 'UnknownInstance', {
        advice: `check the id and the region, and ${AGENT_CHECK}.`,
      });
    }
    if (info.pingStatus !== 'Online') {
      const since = info.lastPingDateTime ? `, last ping ${info.lastPingDateTime.toISOString()}` : '';
      throw new RunnerError(
        `Instance ${id} is offline to SSM (PingStatus ${info.pingStatus}${since}): start the instance or its ` +
          `SSM agent, then retry.`,
        'InstanceOffline',
      );
    }
    // AWS-RunShellScript runs only on Linux and macOS; SSM would answer UnsupportedPlatformType.
    if (info.platformType === 'Windows') {
      throw new RunnerError(
        `Instance ${id} runs Windows: EC2 Runner sends AWS-RunShellScript, which runs on Linux and macOS ` +
          `instances only; pick a Linux instance.`,
        'UnsupportedPlatform',
      );
    }
  }
  return target.instanceIds.length;
}

type StagedContentOf = Awaited<ReturnType<typeof stagedContentOf>>;
type Payload = { payload?: RemotePayload; download?: { bucket: string; key: string } };

/** A single file as an inline payload: its gzip, base64, in the command text (no S3 on the instance). */
export function inlinePayload(request: NormalizedRequest, content: StagedContentOf): RemotePayload | undefined {
  const source = request.source;
  if (source.kind !== 'file' || content.archive) return undefined;
  const gzipBase64 = gzipSync(content.content, { level: 9 }).toString('base64');
  return {
    fileName: content.fileName,
    sha256: sha256Hex(content.content),
    interpreter: source.interpreter!,
    args: source.args ?? [],
    fetch: { kind: 'inline', gzipBase64 },
  };
}

/** The file or project staged in S3 (the instance fetches it). */
export async function payloadFor(
  context: LaunchContext,
  request: NormalizedRequest,
  credentials: SigningCredentials,
): Promise<Payload> {
  const source = request.source;
  if (source.kind === 'command') return {};
  return stagedPayload(context, request, await stagedContentOf(source, request), credentials);
}

async function stagedPayload(
  context: LaunchContext,
  request: NormalizedRequest,
  content: StagedContentOf,
  credentials: SigningCredentials,
): Promise<Payload> {
  const source = request.source as Exclude<NormalizedRequest['source'], { kind: 'command' }>;
  const staged = await stageFile(context.s3, {
    bucket: context.bucket,
    keyPrefix: context.keyPrefix,
    fileName: content.fileName,
    content: content.content,
    encryption: context.encryption,
  });
  const fetch: RemotePayload['fetch'] =
    request.transferMode === 'instance-role'
      ? { kind: 'instance-role', s3Uri: `s3://${staged.bucket}/${staged.key}`, region: context.bucketRegion }
      : {
          kind: 'presigned',
          url: await presignedDownloadUrl(
            context.s3,
            staged.bucket,
            staged.key,
            cappedLifetimeSeconds(downloadLifetimeSeconds(request.deliveryTimeoutSeconds), credentials),
          ),
        };
  return {
    payload: {
      fileName: content.fileName,
      sha256: staged.sha256,
      interpreter: source.interpreter!,
      args: source.args ?? [],
      fetch,
      archive: content.archive,
    },
    download: fetch.kind === 'presigned' ? { bucket: staged.bucket, key: staged.key } : undefined,
  };
}

/**
 * The command text: a single file travels inline when the text with it fits the budget (the instance then
 * needs no S3 to start it); a project, or a file too large for that, is staged in S3 and fetched.
 */
async function commandsFor(
  context: LaunchContext,
  request: NormalizedRequest,
  spec: RemoteRunSpec,
  credentials: SigningCredentials,
): Promise<{ commands: string[] } & Payload> {
  const source = request.source;
  if (source.kind === 'command') return { commands: buildRemoteCommands(spec) };
  const content = await stagedContentOf(source, request);
  const inline = inlinePayload(request, content);
  if (inline) {
    try {
      return { commands: buildRemoteCommands({ ...spec, payload: inline }), payload: inline };
    } catch (error) {
      if (!(error instanceof RunnerError && error.code === 'CommandTooLarge')) throw error;
    }
  }
  const staged = await stagedPayload(context, request, content, credentials);
  return { commands: buildRemoteCommands({ ...spec, payload: staged.payload }), ...staged };
}

/**
 * At most `max` UTF-16 units (SSM's limit, whichever way it counts), cut between user-perceived characters
 * (grapheme clusters), so never inside a surrogate pair, an emoji sequence or a letter with its accents.
 */
export function cutToLength(text: string, max: number): string {
  if (text.length <= max) return text;
  let out = '';
  for (const { segment } of new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(text)) {
    if (out.length + segment.length > max) break;
    out += segment;
  }
  return out;
}

function commentFor(request: NormalizedRequest): string {
  const source = request.source;
  const what =
    request.comment ??
    (source.kind === 'file'
      ? `run ${source.fileName}`
      : source.kind === 'project'
        ? `run ${source.entry} (project)`
        : 'exec');
  return cutToLength(`ec2-runner: ${what}`, COMMENT_MAX);
}

function targetsFor(target: RunTarget): { InstanceIds?: string[]; Targets?: Target[] } {
  if (target.kind === 'instances') return { InstanceIds: target.instanceIds };
  return { Targets: target.tags.map((t) => ({ Key: `tag:${t.key}`, Values: [t.value] })) };
}

/** The warning for credentials that cannot be renewed and expire before the run's timeout, if so. */
export function expiryWarning(
  credentials: SigningCredentials,
  timeoutSeconds: number,
  nowMs = Date.now(),
): string | undefined {
  if (credentials.renewable || credentials.expiresAtMs === undefined) return undefined;
  if (credentials.expiresAtMs >= nowMs + timeoutSeconds * 1000) return undefined;
  const left = Math.max(0, Math.round((credentials.expiresAtMs - nowMs) / 60_000));
  return (
    `your AWS credentials are fixed session credentials (a session token, e.g. AWS_SESSION_TOKEN) that ` +
    `expire at ${new Date(credentials.expiresAtMs).toISOString()} ` +
    `(in about ${left} min), before this run's ${timeoutSeconds} s timeout, and cannot be renewed: live ` +
    `output stops then and the output is kept on the instance; ` +
    "the run's status, asked again once you have fresh credentials, fetches it; or use a profile that renews " +
    'them (SSO, role_arn + source_profile).'
  );
}

/**
 * The SendCommand request for a run's command text (the SDK's input; the AWS CLI's --cli-input-json takes the same
 * members).
 */
export function sendCommandInput(request: NormalizedRequest, commands: string[]): SendCommandCommandInput {
  return {
    DocumentName: RUN_DOCUMENT,
    Parameters: {
      commands,
      // The agent replaces values below its minimum with 3600; shorter timeouts are enforced by the client.
      executionTimeout: [String(Math.max(request.timeoutSeconds, MIN_AGENT_EXECUTION_TIMEOUT_SECONDS))],
    },
    TimeoutSeconds: request.deliveryTimeoutSeconds,
    ...targetsFor(request.target),
    MaxConcurrency: request.maxConcurrency,
    MaxErrors: request.maxErrors,
    Comment: commentFor(request),
  };
}

/** `expectedTargets`: the instances the run should reach, when the pre-flight check counted them. */
export async function launch(
  context: LaunchContext,
  request: NormalizedRequest,
  expectedTargets?: number,
): Promise<Launched> {
  const runId = randomBytes(8).toString('hex');
  const live: LiveLocation = { bucket: context.bucket, runPrefix: runPrefixOf(context.keyPrefix, runId) };
  const credentials = await signingCredentials(context.s3);
  const wanted = presignLifetimeSeconds(request.deliveryTimeoutSeconds, request.timeoutSeconds);
  const issuedAtMs = Date.now();
  const lifetime = cappedLifetimeSeconds(wanted, credentials, issuedAtMs);
  // One instance: its policy covers only its own keys. Several: a shared one until the first renewal.
  const onlyInstance =
    request.target.kind === 'instances' && request.target.instanceIds.length === 1
      ? request.target.instanceIds[0]
      : undefined;
  const output = await createLiveOutputTarget(
    context.s3,
    context.bucket,
    live.runPrefix,
    lifetime,
    onlyInstance,
    context.encryption,
  );
  const spec: RemoteRunSpec = {
    runId,
    shellCommand: request.source.kind === 'command' ? request.source.command : undefined,
    workingDirectory: request.workingDirectory,
    env: request.env,
    output,
    outputLocation: liveOutputLocation(live),
    instanceId: onlyInstance && isInstanceId(onlyInstance) ? onlyInstance : undefined,
    uploadGapSeconds: uploadGapSeconds(request, expectedTargets),
  };
  const { commands, download } = await commandsFor(context, request, spec, credentials);
  const sent = await context.clients.ssm.send(new SendCommandCommand(sendCommandInput(request, commands)));
  const commandId = sent.Command?.CommandId;
  if (!commandId) throw new RunnerError('SSM accepted the command but returned no command id; retry.', 'NoCommandId');
  const renewal = new UploadRenewal({
    clients: context.clients,
    bucket: context.bucket,
    s3: async () => context.s3,
    encryption: context.encryption,
    runId,
    runPrefix: live.runPrefix,
    policySeconds: wanted,
    expiresAtMs: issuedAtMs + lifetime * 1000,
    issuedAtMs,
    download,
  });
  const warning = expiryWarning(credentials, request.timeoutSeconds);
  return {
    commandId,
    instanceIds: request.target.kind === 'instances' ? [...request.target.instanceIds] : [],
    live,
    renewal,
    warnings: warning ? [warning] : [],
    uploadGapSeconds: spec.uploadGapSeconds!,
  };
}
