// createEngine: the Engine the CLI, the extension and a Lambda use.
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
import { awsCliExport, type AwsCliExportOptions } from './awsCliExport';
import { sdkRunBackend, type RunBackend } from './backend';
import { BucketRegions } from './bucketRegion';
import { createClients, type AwsClients } from './clients';
import type { Clock } from './clock';
import { configuredEncryption } from './encryption';
import { mapErrors, type ErrorContext } from './errors';
import { cachedIdentity } from './identity';
import { listManagedInstances } from './instances';
import { checkTargetsReachable, launch, payloadFor } from './launch';
import { startPortForward } from './session/portForward';
import { startDebugRun } from './debug/debugRun';
import { stageDebugpy } from './debug/stageDebugpy';
import { startInteractiveRun } from './session/interactiveRun';
import { signingCredentials } from './transfer';
import { randomBytes } from 'node:crypto';
import { defaultOutputStoreOptions, type OutputStoreOptions } from './outputStore';
import { normalizeRequest } from './request';
import { reattachedRun } from './reattach';
import { FollowedRun } from './run';
import { StagingBuckets } from './stagingBuckets';

/** Test seams; production code passes nothing. */
export interface EngineDependencies {
  clients?: AwsClients;
  clock?: Clock;
}

class AwsEngine implements Engine {
  private readonly clients: AwsClients;
  private readonly backend: RunBackend;
  private readonly whoAmI: () => Promise<CallerIdentity>;
  private readonly bucketRegions: BucketRegions;
  private readonly buckets: StagingBuckets;

  constructor(
    private readonly settings: EngineSettings,
    private readonly deps: EngineDependencies,
  ) {
    // Every S3 request expects the bucket to belong to the caller's own account (bucketOwner.ts).
    this.clients = deps.clients ?? createClients(settings, { bucketOwner: async () => (await this.whoAmI()).account });
    this.bucketRegions = new BucketRegions(this.clients);
    this.backend = sdkRunBackend(this.clients, (bucket, call) => this.bucketRegions.send(bucket, call));
    this.whoAmI = cachedIdentity(this.clients);
    this.buckets = new StagingBuckets({
      clients: this.clients,
      regions: this.bucketRegions,
      whoAmI: this.whoAmI,
      bucket: settings.bucket,
      keyPrefix: settings.keyPrefix,
      encryption: configuredEncryption(settings.kmsKeyId),
    });
  }

  private context(bucket?: string): ErrorContext {
    return {
      profile: this.settings.profile,
      endpointUrl: this.settings.endpointUrl,
      bucket,
      kmsKeyId: this.buckets.encryption?.kmsKeyId,
    };
  }

  identity(): Promise<CallerIdentity> {
    return mapErrors(this.context(), () => this.whoAmI());
  }

  listInstances(options?: { pingStatus?: string[]; instanceIds?: string[] }) {
    return mapErrors(this.context(), () => listManagedInstances(this.clients, options));
  }

  bucketStatus(): Promise<BucketStatus> {
    return mapErrors(this.context(), async () => {
      const { bucket, isDefault } = await this.buckets.resolve();
      const { exists, region } = await mapErrors(this.context(bucket), () => this.buckets.locate(bucket));
      return exists ? { bucket, exists, isDefault, region } : { bucket, exists, isDefault };
    });
  }

  createBucket(): Promise<void> {
    return mapErrors(this.context(), async () => {
      const resolved = await this.buckets.resolve();
      await mapErrors(this.context(resolved.bucket), () => this.buckets.create(resolved));
    });
  }

  start(request: RunRequest): Promise<RunHandle> {
    return mapErrors(this.context(), async () => {
      const normalized = normalizeRequest(request);
      const [{ bucket, isDefault, identity }, expectedTargets] = await Promise.all([
        this.buckets.resolve(),
        this.checkTargets(normalized),
      ]);
      return mapErrors(this.context(bucket), async () => {
        await this.buckets.require(bucket, isDefault);
        const launched = await launch(await this.buckets.launchContext(bucket, identity), normalized, expectedTargets);
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
          output: this.outputStore(),
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
        this.buckets.resolve(),
        this.checkTargets(normalized),
      ]);
      return mapErrors(this.context(bucket), async () => {
        await this.buckets.require(bucket, isDefault);
        const context = await this.buckets.launchContext(bucket, identity);
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
            const { bucket, isDefault, identity } = await this.buckets.resolve();
            return mapErrors(this.context(bucket), async () => {
              await this.buckets.require(bucket, isDefault);
              return stageDebugpy(
                await this.buckets.launchContext(bucket, identity),
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

  awsCliCommands(request: RunRequest, options: AwsCliExportOptions = {}): Promise<string> {
    return mapErrors(this.context(), () =>
      awsCliExport(
        {
          clients: this.clients,
          buckets: this.buckets,
          settings: this.settings,
          errorContext: (bucket) => this.context(bucket),
        },
        request,
        options,
      ),
    );
  }

  private async checkTargets(request: RunRequest): Promise<number | undefined> {
    return checkTargetsReachable(this.clients, request.target, await this.clients.region());
  }

  private followerFor(commandId: string): Promise<FollowedRun> {
    const context = {
      backend: this.backend,
      clients: this.clients,
      buckets: this.buckets,
      clock: this.deps.clock,
      output: this.outputStore(),
    };
    return reattachedRun(context, commandId, true);
  }

  private outputStore(): OutputStoreOptions {
    const defaults = defaultOutputStoreOptions();
    return {
      dir: this.settings.outputDir ?? defaults.dir,
      memoryBytes: this.settings.outputMemoryBytes ?? defaults.memoryBytes,
    };
  }

  attach(commandId: string): Promise<RunHandle> {
    return mapErrors(this.context(), async () => (await this.followerFor(commandId)).start());
  }

  status(commandId: string): Promise<RunResult> {
    return mapErrors(this.context(), async () => (await this.followerFor(commandId)).snapshot());
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
