// The sandbox: an offline SSM + S3 (+ STS GetCallerIdentity, Tagging GetResources) endpoint on
// 127.0.0.1 whose commands really run on this machine. Programmatic entry point.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { DEFAULT_INSTANCE_PATH } from './agent';
import { BUCKET_POLICIES, type BucketPolicy, kmsEncryptionXml, sandboxKms } from './bucketRules';
import { CommandStore } from './commands';
import { DEFAULT_INSTANCE_COUNT, type SandboxInstance, loadFleet } from './fleet';
import { loadIdentity } from './identity';
import { DEFAULT_INVOCATION_VISIBILITY_DELAY_MS, DEFAULT_KNOBS, type Knobs, Throttle, validateKnobs } from './knobs';
import { ObjectStore, PRIVATE_DIR } from './objectStore';
import { storeObject } from './s3Api';
import { S3RateLimits } from './s3RateLimits';
import { createApiServer } from './server';
import { sandboxRoleArn } from './identityApi';
import { SessionService } from './sessions';
import { SessionStore } from './stsSessions';
import { SigV4Verifier } from './sigv4';
import { REGION_PATTERN, defaultBucketName } from '../core/awsLimits';
import { S3_XMLNS } from './xml';
import { startBlackHole } from './blackHole';

export interface SandboxOptions {
  /** Port on 127.0.0.1; default a free one. */
  port?: number;
  /** Where state lives (S3 objects, instance disks, credentials); default a temp dir removed by stop(). */
  dataDir?: string;
  /** Number of instances (1..1000); default 3: two Online, one ConnectionLost. */
  instances?: number;
  region?: string;
  /** Added to every API call. Default 20. */
  latencyMs?: number;
  /** Time from SendCommand (or an instance coming Online) to the script starting. Default 200. */
  deliveryDelayMs?: number;
  /** SSM calls per second above which SSM answers ThrottlingException. Default 0 (off). */
  throttleRps?: number;
  /** Share (0..1) of API calls answered 500 or reset. Default 0. */
  faultRate?: number;
  /**
   * S3 PUT/POST/COPY/DELETE requests per second per prefix (see s3RateLimits.ts) above which S3 answers 503 SlowDown.
   * Default 0 (off); AWS: 3,500.
   */
  s3PutRps?: number;
  /**
   * S3 GET/HEAD/LIST requests per second per prefix above which S3 answers 503 SlowDown. Default 0 (off); AWS: 5,500.
   */
  s3GetRps?: number;
  /**
   * Eventual-consistency window after SendCommand during which GetCommandInvocation answers InvocationDoesNotExist.
   * Default 300.
   */
  invocationVisibilityDelayMs?: number;
  /** Tests: delivery timeout in ms instead of each command's TimeoutSeconds (which cannot go below 30 s). */
  deliveryTimeoutMs?: number;
  /** PATH of the commands' environment. Default the systemd PATH of a real instance. */
  instancePath?: string;
  /** Share (0..1, below 1) of Session Manager data messages dropped on purpose in each direction. Default 0. */
  sessionDropRate?: number;
  /** Close every Session Manager data-channel socket after this many ms (forces ResumeSession). Default 0 = never. */
  sessionSocketLifetimeMs?: number;
  /**
   * Lifetime in seconds (>= 5) of the credentials sts:AssumeRole answers; default the request's DurationSeconds
   * (900..43200, 3600).
   */
  sessionLifetimeS?: number;
  /** Every instance's connections to S3 get no answer (no S3 gateway endpoint, no NAT). Default false. */
  s3Unreachable?: boolean;
  /** The same for these instances only. */
  s3UnreachableInstances?: string[];
  /** The agent sets no AWS_SSM_INSTANCE_ID (agents older than those AWS ships today). Default false. */
  agentWithoutInstanceId?: boolean;
  /**
   * CPU priority of scripts; default 19, the lowest (see agent.ts). Timing tests of instance-side waits
   * use 0: a real instance has CPUs of its own and is never starved by its neighbours.
   */
  instanceNiceness?: number;
  /**
   * Region of the staging bucket when it is not SSM's (requests signed for another region get 301 PermanentRedirect).
   * Default `region`.
   */
  bucketRegion?: string;
  /**
   * A bucket policy on the staging bucket: `require-kms` denies uploads without SSE-KMS and makes aws:kms the default
   * encryption.
   */
  bucketPolicy?: BucketPolicy;
}

export interface SandboxInstanceInfo {
  instanceId: string;
  name?: string;
  pingStatus: string;
  platformType: string;
}

export interface SandboxInfo {
  endpoint: string;
  region: string;
  accountId: string;
  accessKeyId: string;
  secretAccessKey: string;
  /**
   * A role these credentials may assume (sts:AssumeRole answers temporary credentials; `role_arn` in an AWS config
   * profile).
   */
  roleArn: string;
  bucket: string;
  /** The staging bucket's region (`region` unless --bucket-region). */
  bucketRegion: string;
  /** The account's customer managed KMS key (the default key of a `require-kms` bucket). */
  kmsKeyArn: string;
  dataDir: string;
  instances: SandboxInstanceInfo[];
}

export interface Sandbox {
  info: SandboxInfo;
  /**
   * Counts of API calls by service+operation, e.g. {"ssm:SendCommand": 1, "s3:PutObject": 3}, and of the SlowDowns
   * answered (`slowDown:s3:PostObject`); resettable.
   */
  stats(): Record<string, number>;
  resetStats(): void;
  /**
   * "<Operation> <bucket>" of each S3 request on a bucket without x-amz-expected-bucket-owner since the last
   * resetStats().
   */
  callsWithoutExpectedOwner(): string[];
  configure(
    knobs: Partial<
      Pick<SandboxOptions, NumericKnob> &
        Pick<
          Knobs,
          | 'deny'
          | 'foreignBuckets'
          | 'postObjectFailStatus'
          | 's3Unreachable'
          | 's3UnreachableInstances'
          | 'agentWithoutInstanceId'
        >
    >,
  ): void;
  /**
   * Closes Session Manager data-channel sockets (all, or one session's) as the service does hourly; returns how many.
   */
  dropSessionSockets(sessionId?: string): number;
  /** Session Manager counters: data messages dropped on purpose, sockets dropped, active sessions. */
  sessionStats(): { droppedIn: number; droppedOut: number; socketsDropped: number; active: number };
  setPingStatus(instanceId: string, status: 'Online' | 'ConnectionLost'): void;
  /** Kills every running command's process group, closes the server, removes a temp data dir it created. */
  stop(): Promise<void>;
}

/** The numeric settings a running sandbox can change (configure) and the CLI takes as flags. */
export type NumericKnob =
  | 'latencyMs'
  | 'deliveryDelayMs'
  | 'throttleRps'
  | 'faultRate'
  | 'sessionDropRate'
  | 'sessionSocketLifetimeMs'
  | 'sessionLifetimeS'
  | 's3PutRps'
  | 's3GetRps';

export const DEFAULT_REGION = 'us-west-2';
// Room for a 1,000-instance fleet beside the offline instance the benchmarks add (bench/fleetRates.ts).
const MAX_INSTANCES = 2000;
/** Connections the kernel may hold for the sandbox before it accepts them (see `listen`). */
const ACCEPT_BACKLOG = 8192;

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const knobs: Knobs = { ...DEFAULT_KNOBS };
  const initialKnobs = pickKnobs(options);
  validateKnobs(initialKnobs);
  Object.assign(knobs, initialKnobs);
  const count = options.instances ?? DEFAULT_INSTANCE_COUNT;
  if (!Number.isInteger(count) || count < 1 || count > MAX_INSTANCES)
    throw new Error(`instances must be an integer from 1 to ${MAX_INSTANCES}, got ${String(options.instances)}`);
  const region = options.region ?? DEFAULT_REGION;
  const bucketRegion = options.bucketRegion ?? region;
  for (const [name, value] of [
    ['region', region],
    ['bucketRegion', bucketRegion],
  ]) {
    if (!REGION_PATTERN.test(value)) throw new Error(`${name} must look like us-west-2, got "${value}"`);
  }
  if (options.bucketPolicy !== undefined && !BUCKET_POLICIES.includes(options.bucketPolicy)) {
    throw new Error(`bucketPolicy must be one of ${BUCKET_POLICIES.join(', ')}, got "${String(options.bucketPolicy)}"`);
  }

  const ownsDataDir = !options.dataDir;
  const dataDir = options.dataDir ? resolve(options.dataDir) : mkdtempSync(join(tmpdir(), 'ec2-runner-sandbox-'));
  mkdirSync(dataDir, { recursive: true, mode: PRIVATE_DIR });
  chmodSync(dataDir, PRIVATE_DIR); // also an existing --data-dir: it holds staged code, output and the credentials
  const identity = loadIdentity(dataDir);
  const instances = loadFleet(dataDir, count, region);
  for (const instance of instances) if (instance.pingStatus !== 'Online') instance.lastPingAt = Date.now() - 3_600_000;
  const instancesById = new Map(instances.map((i) => [i.instanceId, i]));
  const store = new ObjectStore(join(dataDir, 's3'));
  const bucket = defaultBucketName(identity.accountId, region);
  const kms = sandboxKms(identity.accountId, region);
  configureStagingBucket(
    store,
    bucket,
    bucketRegion === region ? undefined : bucketRegion,
    options.bucketPolicy,
    kms.keyArn,
  );
  const counts = new Map<string, number>();
  const countCall = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
  const rateLimits = new S3RateLimits(
    () => ({ put: knobs.s3PutRps, get: knobs.s3GetRps }),
    (operation) => countCall(`slowDown:s3:${operation}`),
  );
  const s3 = { store, accountId: identity.accountId, region, kms, withoutExpectedOwner: [] as string[], rateLimits };

  const blackHole = await startBlackHole();
  const commands = new CommandStore({
    agentFor: (instance) => ({
      withoutInstanceId: knobs.agentWithoutInstanceId,
      niceness: options.instanceNiceness,
      extraEnv:
        knobs.s3Unreachable || knobs.s3UnreachableInstances.includes(instance.instanceId)
          ? blackHole.proxyEnvironment
          : undefined,
    }),
    region,
    instancePath: options.instancePath ?? DEFAULT_INSTANCE_PATH,
    deliveryDelayMs: () => knobs.deliveryDelayMs,
    invocationVisibilityDelayMs: options.invocationVisibilityDelayMs ?? DEFAULT_INVOCATION_VISIBILITY_DELAY_MS,
    deliveryTimeoutMs: options.deliveryTimeoutMs,
    uploadOutput: (bucketName, key, file) => {
      const target = store.bucket(bucketName);
      if (!target) return false; // the agent's upload fails; the command itself is unaffected
      storeObject(s3, target, key, readFileSync(file), { contentType: 'text/plain; charset=utf-8' });
      return true;
    },
  });
  const throttle = new Throttle();
  throttle.setRate(knobs.throttleRps);
  const sessions: SessionService = new SessionService({
    knobs,
    region,
    instancePath: options.instancePath ?? DEFAULT_INSTANCE_PATH,
    instancesById,
    endpoint: (): string => ssmContext.endpoint,
  });
  const ssmContext = {
    region,
    accountId: identity.accountId,
    endpoint: '',
    instances,
    instancesById,
    commands,
    sessions,
  };
  const credentials = { accessKeyId: identity.accessKeyId, secretAccessKey: identity.secretAccessKey };
  const stsSessions = new SessionStore();
  const server = createApiServer({
    verifier: new SigV4Verifier(credentials, region, Date.now, stsSessions),
    stsSessions,
    credentials,
    knobs,
    throttle,
    count: countCall,
    s3,
    ssm: ssmContext,
    identity: { region, accountId: identity.accountId, userId: identity.userId, instances },
  });
  server.keepAliveTimeout = 5_000;
  server.on('upgrade', (request, socket, head) => {
    if (!sessions.handleUpgrade(request, socket, head)) socket.destroy();
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    // A deep accept queue (the kernel caps it at somaxconn): S3 and SSM take a fleet's connections at
    // once however many arrive; Node's default of 511 dropped the connections of a 1,000-instance fleet's
    // wrappers while this process was busy, which they took for an instance without a route to S3.
    server.listen({ port: options.port ?? 0, host: '127.0.0.1', backlog: ACCEPT_BACKLOG }, () => resolveListen());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  ssmContext.endpoint = endpoint;

  let stopped: Promise<void> | undefined;
  const info: SandboxInfo = {
    endpoint,
    region,
    accountId: identity.accountId,
    accessKeyId: identity.accessKeyId,
    secretAccessKey: identity.secretAccessKey,
    roleArn: sandboxRoleArn(identity.accountId),
    bucket,
    bucketRegion,
    kmsKeyArn: kms.keyArn,
    dataDir,
    instances: instances.map(instanceInfo),
  };
  return {
    info,
    stats: () => Object.fromEntries([...counts].sort(([a], [b]) => a.localeCompare(b))),
    resetStats: () => {
      counts.clear();
      s3.withoutExpectedOwner.length = 0;
    },
    callsWithoutExpectedOwner: () => [...s3.withoutExpectedOwner],
    configure(changes) {
      const picked = pickKnobs(changes);
      validateKnobs(picked);
      Object.assign(knobs, picked);
      if (picked.throttleRps !== undefined) throttle.setRate(picked.throttleRps);
      if (picked.s3PutRps !== undefined || picked.s3GetRps !== undefined) rateLimits.reset();
    },
    dropSessionSockets: (sessionId) => sessions.dropSockets(sessionId),
    sessionStats: () => ({ ...sessions.stats, active: sessions.activeSessions() }),
    setPingStatus(instanceId, status) {
      const instance = instancesById.get(instanceId);
      if (!instance) throw new Error(`no sandbox instance ${instanceId}`);
      if (status !== 'Online' && status !== 'ConnectionLost')
        throw new Error(`ping status must be Online or ConnectionLost, got ${String(status)}`);
      instance.pingStatus = status;
      const listed = info.instances.find((i) => i.instanceId === instanceId);
      if (listed) listed.pingStatus = status;
      if (status === 'Online') {
        instance.lastPingAt = Date.now();
        commands.instanceOnline(instance);
      }
    },
    stop() {
      stopped ??= (async () => {
        await commands.stop();
        sessions.stop();
        blackHole.close();
        server.closeAllConnections();
        await new Promise<void>((resolveClose) => server.close(() => resolveClose()));
        if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

/**
 * The staging bucket in its region, with the modelled bucket policy and its default encryption (kept across restarts on
 * one data dir).
 */
function configureStagingBucket(
  store: ObjectStore,
  name: string,
  region: string | undefined,
  policy: BucketPolicy | undefined,
  kmsKeyArn: string,
): void {
  const bucket = store.createBucket(name, region);
  if (bucket.region !== region) store.setRegion(bucket, region);
  bucket.policy = policy;
  if (policy === 'require-kms') store.setConfig(bucket, 'encryption', kmsEncryptionXml(kmsKeyArn, S3_XMLNS));
}

function instanceInfo(instance: SandboxInstance): SandboxInstanceInfo {
  return {
    instanceId: instance.instanceId,
    name: instance.name,
    pingStatus: instance.pingStatus,
    platformType: instance.platformType,
  };
}

function pickKnobs(source: Partial<Knobs>): Partial<Knobs> {
  const picked: Partial<Knobs> = {};
  for (const key of Object.keys(DEFAULT_KNOBS) as Array<keyof Knobs>)
    if (source[key] !== undefined) (picked as Record<string, unknown>)[key] = source[key];
  return picked;
}
