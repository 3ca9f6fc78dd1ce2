// createEngine: the Engine the CLI, the extension and a Lambda use.
import type { S3Client } from '@aws-sdk/client-s3';
import {
  RunnerError,
  type BucketStatus,
  type CallerIdentity,
  type DebugRunHandle,
  type DebugRunRequest,
  type Engine,
  type EngineSettings,
  type InteractiveRunHandle,
  type InteractiveRunRequest,
  type PortForwardHandle,
  type PortForwardRequest,
  type RunHandle,
  type RunRequest,
  type RunResult,
} from './api';
import { sdkRunBackend, type RunBackend } from './backend';
import { configuredBucket, createStagingBucket, defaultBucketName } from './bucket';
import { BucketRegions } from './bucketRegion';
import { createClients, type AwsClients } from './clients';
import type { Clock } from './clock';
import { DEFAULT_KEY_PREFIX, RECOVERY_POLICY_SECONDS } from './defaults';
import { configuredEncryption, type UploadEncryption } from './encryption';
import { mapErrors, type ErrorContext } from './errors';
import { parseLiveLocation } from './liveChannelReader';
import { cachedIdentity } from './identity';
import { listManagedInstances } from './instances';
import { awsCliScript } from './awsCli';
import {
  checkTargetsReachable,
  inlinePayload,
  launch,
  payloadFor,
  sendCommandInput,
  type LaunchContext,
} from './launch';
import { buildRemoteCommands, type RemotePayload, type RemoteRunSpec } from './remote';
import { stagedContentOf } from './sources';
import { stagedKey } from './staging';
import { startPortForward } from './session/portForward';
import { startDebugRun } from './debug/debugRun';
import { stageDebugpy } from './debug/stageDebugpy';
import { startInteractiveRun } from './session/interactiveRun';
import { signingCredentials } from './transfer';
import { randomBytes } from 'node:crypto';
import { parseRemoteHeader } from './remote';
import { isInstanceId } from './remote/chunkKeys';
import { normalizeRequest } from './request';
import { UploadRenewal } from './renewal';
import { FollowedRun } from './run';

/** Test seams; production code passes nothing. */
export interface EngineDependencies {
  clients?: AwsClients;
  clock?: Clock;
}

function normalizeKeyPrefix(prefix: string | undefined): string {
  const value = (prefix ?? DEFAULT_KEY_PREFIX).replace(/^\/+/, '');
  return value === '' || value.endsWith('/') ? value : `${value}/`;
}

class AwsEngine implements Engine {
  private readonly clients: AwsClients;
  private readonly backend: RunBackend;
  private readonly keyPrefix: string;
  private readonly whoAmI: () => Promise<CallerIdentity>;
  /** Buckets seen to exist (checked once per engine). */
  private readonly knownBuckets = new Set<string>();
  private readonly bucketRegions: BucketRegions;
  private readonly encryption: UploadEncryption | undefined;

  constructor(
    private readonly settings: EngineSettings,
    private readonly deps: EngineDependencies,
  ) {
    // Every S3 request expects the bucket to belong to the caller's own account (bucketOwner.ts).
    this.clients = deps.clients ?? createClients(settings, { bucketOwner: async () => (await this.whoAmI()).account });
    this.bucketRegions = new BucketRegions(this.clients);
    this.backend = sdkRunBackend(this.clients, (bucket, call) => this.bucketRegions.send(bucket, call));
    this.keyPrefix = normalizeKeyPrefix(settings.keyPrefix);
    this.whoAmI = cachedIdentity(this.clients);
    this.encryption = configuredEncryption(settings.kmsKeyId);
  }

  private context(bucket?: string): ErrorContext {
    return {
      profile: this.settings.profile,
      endpointUrl: this.settings.endpointUrl,
      bucket,
      kmsKeyId: this.encryption?.kmsKeyId,
    };
  }

  identity(): Promise<CallerIdentity> {
    return mapErrors(this.context(), () => this.whoAmI());
  }

  listInstances(options?: { pingStatus?: string[]; instanceIds?: string[] }) {
    return mapErrors(this.context(), () => listManagedInstances(this.clients, options));
  }

  private async resolveBucket(): Promise<{ bucket: string; isDefault: boolean; identity: CallerIdentity }> {
    const identity = await this.whoAmI();
    const configured = configuredBucket(this.settings.bucket);
    return configured
      ? { bucket: configured, isDefault: false, identity }
      : { bucket: defaultBucketName(identity.account, identity.region), isDefault: true, identity };
  }

  bucketStatus(): Promise<BucketStatus> {
    return mapErrors(this.context(), async () => {
      const { bucket, isDefault } = await this.resolveBucket();
      const { exists, region } = await mapErrors(this.context(bucket), () => this.bucketRegions.locate(bucket));
      if (exists) this.knownBuckets.add(bucket);
      return exists ? { bucket, exists, isDefault, region } : { bucket, exists, isDefault };
    });
  }

  createBucket(): Promise<void> {
    return mapErrors(this.context(), async () => {
      const { bucket, identity } = await this.resolveBucket();
      await mapErrors(this.context(bucket), () =>
        createStagingBucket(this.clients.s3, bucket, identity.region, this.keyPrefix, this.encryption),
      );
      this.knownBuckets.add(bucket);
    });
  }

  start(request: RunRequest): Promise<RunHandle> {
    return mapErrors(this.context(), async () => {
      const normalized = normalizeRequest(request);
      const [{ bucket, isDefault, identity }, expectedTargets] = await Promise.all([
        this.resolveBucket(),
        this.checkTargets(normalized),
      ]);
      return mapErrors(this.context(bucket), async () => {
        await this.requireBucket(bucket, isDefault);
        const launched = await launch(await this.launchContext(bucket, identity), normalized, expectedTargets);
        return new FollowedRun({
          commandId: launched.commandId,
          backend: this.backend,
          instanceIds: launched.instanceIds,
          discoverInstances: normalized.target.kind === 'tags',
          live: launched.live,
          uploadGapSeconds: launched.uploadGapSeconds,
          timeoutSeconds: normalized.timeoutSeconds,
          clock: this.deps.clock,
          cancelIfUnfollowable: true,
          renewal: launched.renewal,
          warnings: launched.warnings,
        }).start();
      });
    });
  }

  forwardPort(request: PortForwardRequest): Promise<PortForwardHandle> {
    return mapErrors(this.context(), async () => {
      await this.checkTargets({
        source: { kind: 'command', command: 'forward' },
        target: { kind: 'instances', instanceIds: [request.instanceId] },
      });
      return startPortForward({ ssm: this.clients.ssm, ...request });
    });
  }

  startInteractiveRun(request: InteractiveRunRequest): Promise<InteractiveRunHandle> {
    return mapErrors(this.context(), async () => {
      const normalized = normalizeRequest({
        source: request.source,
        target: { kind: 'instances', instanceIds: [request.instanceId] },
        workingDirectory: request.workingDirectory,
        env: request.env,
      });
      if (normalized.source.kind === 'project' || normalized.source.kind === 'command') {
        throw new RunnerError(
          'An interactive run takes one file (or a selection): projects and shell commands run through Run Command.',
          'InteractiveSourceUnsupported',
        );
      }
      const [{ bucket, isDefault, identity }] = await Promise.all([
        this.resolveBucket(),
        this.checkTargets(normalized),
      ]);
      return mapErrors(this.context(bucket), async () => {
        await this.requireBucket(bucket, isDefault);
        const context = await this.launchContext(bucket, identity);
        const credentials = await signingCredentials(context.s3);
        const { payload } = await payloadFor(context, normalized, credentials);
        const spec = {
          runId: randomBytes(8).toString('hex'),
          payload,
          workingDirectory: normalized.workingDirectory,
          env: normalized.env,
        };
        const run = await startInteractiveRun({
          ssm: this.clients.ssm,
          instanceId: request.instanceId,
          spec,
          noEcho: Boolean(request.noEcho),
          rawNewlines: Boolean(request.rawNewlines),
          onOutput: request.onOutput,
          onNotice: request.onNotice,
        });
        return {
          sessionId: run.sessionId,
          write: (bytes) => run.write(bytes),
          resize: (cols, rows) => run.session.resize(cols, rows),
          done: run.done,
          terminate: () => run.session.terminate(),
        };
      });
    });
  }

  startDebugRun(request: DebugRunRequest): Promise<DebugRunHandle> {
    return mapErrors(this.context(), () =>
      startDebugRun(
        {
          start: (run) => this.start(run),
          forwardPort: (forward) => this.forwardPort(forward),
          stageDebugpy: async (bundle, transferMode, deliveryTimeoutSeconds) => {
            const { bucket, isDefault, identity } = await this.resolveBucket();
            return mapErrors(this.context(bucket), async () => {
              await this.requireBucket(bucket, isDefault);
              return stageDebugpy(
                await this.launchContext(bucket, identity),
                bundle,
                transferMode,
                deliveryTimeoutSeconds,
              );
            });
          },
        },
        request,
      ),
    );
  }

  awsCliCommands(request: RunRequest, options: { localPath?: string; label?: string } = {}): Promise<string> {
    return mapErrors(this.context(), async () => {
      const normalized = normalizeRequest(request);
      const source = normalized.source;
      if (source.kind === 'project') {
        throw new RunnerError(
          'An AWS CLI export covers files, selections and shell commands, not a project folder (EC2 Runner packs those itself)',
          'AwsCliUnsupported',
          { advice: 'run the project with EC2 Runner.' },
        );
      }
      const region = await this.clients.region();
      const only =
        normalized.target.kind === 'instances' && normalized.target.instanceIds.length === 1
          ? normalized.target.instanceIds[0]
          : undefined;
      const spec: RemoteRunSpec = {
        runId: randomBytes(8).toString('hex'),
        shellCommand: source.kind === 'command' ? source.command : undefined,
        workingDirectory: normalized.workingDirectory,
        env: normalized.env,
        instanceId: only && isInstanceId(only) ? only : undefined,
      };
      let commands: string[];
      let staging: { localPath: string; s3Uri: string; region: string; kmsKeyId?: string } | undefined;
      if (source.kind === 'command') {
        commands = buildRemoteCommands(spec);
      } else {
        const content = await stagedContentOf(source, normalized);
        // A file (never an archive here): its payload as it would travel inline.
        const inline = inlinePayload(normalized, content)!;
        const fitted = this.commandsIfTheyFit({ ...spec, payload: inline });
        if (fitted) {
          commands = fitted;
        } else {
          if (!options.localPath) {
            throw new RunnerError(
              `${content.fileName} is too large to travel in the command, so it is staged in S3, and that needs a file on disk: save it and copy the command from the file.`,
              'AwsCliNeedsFile',
            );
          }
          const { bucket, isDefault } = await this.resolveBucket();
          await mapErrors(this.context(bucket), () => this.requireBucket(bucket, isDefault));
          const bucketRegion = this.bucketRegions.regionOf(bucket);
          const s3Uri = `s3://${bucket}/${stagedKey(this.keyPrefix, inline.sha256, content.fileName)}`;
          const payload: RemotePayload = {
            ...inline,
            fetch: { kind: 'instance-role', s3Uri, region: bucketRegion ?? region },
          };
          commands = buildRemoteCommands({ ...spec, payload });
          staging = {
            localPath: options.localPath,
            s3Uri,
            region: bucketRegion ?? region,
            kmsKeyId: this.encryption?.kmsKeyId,
          };
        }
      }
      return awsCliScript({
        label:
          options.label ??
          (source.kind === 'command' ? source.command : [source.fileName, ...(source.args ?? [])].join(' ')),
        region,
        endpointUrl: this.settings.endpointUrl,
        profile: this.settings.profile,
        sendCommand: sendCommandInput(normalized, commands),
        instanceIds: normalized.target.kind === 'instances' ? normalized.target.instanceIds : [],
        staging,
      });
    });
  }

  /** The command text with the file inline, or undefined when it is over SSM's budget. */
  private commandsIfTheyFit(spec: RemoteRunSpec): string[] | undefined {
    try {
      return buildRemoteCommands(spec);
    } catch (error) {
      if (error instanceof RunnerError && error.code === 'CommandTooLarge') return undefined;
      throw error;
    }
  }

  /** Staging, presigned URLs and upload policies go through the bucket's regional client, with the configured encryption. */
  private async launchContext(bucket: string, identity: CallerIdentity): Promise<LaunchContext> {
    return {
      clients: this.clients,
      identity,
      bucket,
      s3: await this.bucketRegions.client(bucket),
      bucketRegion: this.bucketRegions.regionOf(bucket) ?? identity.region,
      keyPrefix: this.keyPrefix,
      encryption: this.encryption,
    };
  }

  /** The bucket's regional client, finding its region first when this engine has not seen it (attach, status). */
  private async locatedClient(bucket: string): Promise<S3Client> {
    if (this.bucketRegions.regionOf(bucket) === undefined) await this.bucketRegions.locate(bucket);
    return this.bucketRegions.client(bucket);
  }

  private async checkTargets(request: RunRequest): Promise<number | undefined> {
    return checkTargetsReachable(this.clients, request.target, await this.clients.region());
  }

  private async requireBucket(bucket: string, isDefault: boolean): Promise<void> {
    if (this.knownBuckets.has(bucket)) return;
    if (!(await this.bucketRegions.locate(bucket)).exists) {
      throw new RunnerError(
        isDefault ? `The staging bucket ${bucket} does not exist yet` : `S3 bucket ${bucket} does not exist`,
        'NoSuchBucket',
        {
          advice: isDefault
            ? 'create it (public access blocked, encrypted, objects expire after 7 days), or choose an existing bucket (EC2_RUNNER_BUCKET).'
            : 'create it, or choose an existing bucket (EC2_RUNNER_BUCKET).',
          data: { bucket, isDefault },
        },
      );
    }
    this.knownBuckets.add(bucket);
  }

  /** Rebuilds a run's follower from SSM alone (ListCommands Parameters carry the header line). */
  private async followerFor(commandId: string, immediate: boolean): Promise<FollowedRun> {
    const command = await this.backend.getCommand(commandId);
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
            clients: this.clients,
            bucket: live.bucket,
            s3: () => this.locatedClient(live.bucket),
            encryption: this.encryption,
            runId: header.runId,
            runPrefix: live.runPrefix,
            policySeconds: RECOVERY_POLICY_SECONDS,
          })
        : undefined;
    return new FollowedRun({
      commandId,
      backend: this.backend,
      instanceIds: command.instanceIds,
      discoverInstances: command.instanceIds.length === 0,
      live,
      renewal,
      clock: this.deps.clock,
      immediateStatusCheck: immediate,
    });
  }

  attach(commandId: string): Promise<RunHandle> {
    return mapErrors(this.context(), async () => (await this.followerFor(commandId, true)).start());
  }

  status(commandId: string): Promise<RunResult> {
    return mapErrors(this.context(), async () => (await this.followerFor(commandId, true)).snapshot());
  }

  cancel(commandId: string): Promise<void> {
    return mapErrors(this.context(), () => this.backend.cancel(commandId));
  }

  dispose(): void {
    this.clients.dispose();
  }
}

export function createEngine(settings: EngineSettings = {}, deps: EngineDependencies = {}): Engine {
  return new AwsEngine(settings, deps);
}
