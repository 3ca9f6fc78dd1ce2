// `ec2-runner sandbox [options]`: starts the sandbox in the foreground until SIGINT/SIGTERM.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { BUCKET_POLICIES, type BucketPolicy } from './bucketRules';
import { type NumericKnob, type SandboxOptions, startSandbox } from './index';
import { SHADOWING_VARIABLES, sandboxEnvironment } from './environment';
import { shellQuote } from './agent';

const USAGE = `Usage: ec2-runner sandbox [options]
Runs an offline SSM + S3 endpoint on 127.0.0.1 whose commands run on this machine.
  --port N               port (default: a free one)
  --data-dir D           state directory (default: a temp dir removed on exit)
  --info-file F          write endpoint, credentials, bucket and instances as JSON once listening
  --instances N          number of instances (default 3: two Online, one ConnectionLost)
  --region R             region (default us-west-2)
  --latency-ms N         added to every API call (default 20)
  --delivery-delay-ms N  SendCommand to script start (default 200)
  --throttle-rps N       SSM calls per second before ThrottlingException (default 0 = off)
  --fault-rate P         share of API calls answered 500 or reset, 0..1 (default 0)
  --bucket-region R      the staging bucket lives in region R, not SSM's: S3 requests signed for
                         another region get 301 PermanentRedirect with x-amz-bucket-region
  --bucket-policy P      bucket policy on the staging bucket; require-kms: uploads without
                         x-amz-server-side-encryption: aws:kms are denied (explicit deny) and the
                         default encryption is aws:kms with the sandbox's key (kmsKeyArn in the info file)
  --s3-put-rps N         S3 PUT/POST/DELETE per second per prefix before 503 SlowDown (default 0 = off; AWS 3500)
  --s3-get-rps N         S3 GET/HEAD/LIST per second per prefix before 503 SlowDown (default 0 = off; AWS 5500);
                         a prefix is the bucket + the key's first three "/" segments (a run's directory)
  --session-drop-rate P  share of Session Manager data messages dropped on purpose in each
                         direction, 0..1 (default 0): acknowledgements and resends must recover
  --session-socket-lifetime-ms N
                         close every Session Manager data-channel socket after N ms, as the
                         service does about hourly (default 0 = never): clients must ResumeSession
  --session-lifetime-s N credentials from sts:AssumeRole (the info file's roleArn) expire after N s
                         (N >= 5; default: the request's DurationSeconds, 3600); expired ones get
                         ExpiredToken (S3, presigned URLs and POST uploads included) / ExpiredTokenException
  --s3-unreachable       instances have no route to S3 (only the SSM endpoints): their connections to
                         S3 hang unanswered; s3UnreachableInstances in --config lists some instances only
  --agent-without-instance-id
                         model an older SSM agent that sets no AWS_SSM_INSTANCE_ID for commands
Session Manager: StartSession answers a ws:// stream URL on the same port for
AWS-StartNonInteractiveCommand (stdout, stderr and exit code apart, as with separateOutputStream),
AWS-StartInteractiveCommand (a pty through python3) and AWS-StartPortForwardingSession (ports on
this machine; smux or basic mode by client version). Sessions run in the instance's home directory.
  --config FILE          JSON with the same settings (camelCase: port, dataDir, instances, latencyMs, ...);
                         flags override it`;

type NumericOption = 'port' | 'instances' | NumericKnob;

const NUMERIC_FLAGS: Record<string, NumericOption> = {
  '--port': 'port',
  '--instances': 'instances',
  '--latency-ms': 'latencyMs',
  '--delivery-delay-ms': 'deliveryDelayMs',
  '--throttle-rps': 'throttleRps',
  '--fault-rate': 'faultRate',
  '--session-drop-rate': 'sessionDropRate',
  '--session-socket-lifetime-ms': 'sessionSocketLifetimeMs',
  '--session-lifetime-s': 'sessionLifetimeS',
  '--s3-put-rps': 's3PutRps',
  '--s3-get-rps': 's3GetRps',
};
const CONFIG_KEYS = new Set([
  'port',
  'dataDir',
  'instances',
  'region',
  'latencyMs',
  'deliveryDelayMs',
  'throttleRps',
  'faultRate',
  'invocationVisibilityDelayMs',
  'infoFile',
  'sessionDropRate',
  'sessionSocketLifetimeMs',
  'sessionLifetimeS',
  's3Unreachable',
  's3UnreachableInstances',
  'agentWithoutInstanceId',
  'bucketRegion',
  'bucketPolicy',
  's3PutRps',
  's3GetRps',
]);
const SWITCH_FLAGS: Record<string, 's3Unreachable' | 'agentWithoutInstanceId'> = {
  '--s3-unreachable': 's3Unreachable',
  '--agent-without-instance-id': 'agentWithoutInstanceId',
};

export class UsageError extends Error {}

export function parseSandboxArgs(argv: string[]): { options: SandboxOptions; infoFile?: string; help: boolean } {
  const flags: SandboxOptions & { infoFile?: string } = {};
  let configFile: string | undefined;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const next = () => {
      if (value !== undefined) return value;
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    if (arg === '--help' || arg === '-h') help = true;
    else if (arg in NUMERIC_FLAGS) flags[NUMERIC_FLAGS[arg]] = parseNumber(arg, next());
    else if (arg in SWITCH_FLAGS && value === undefined) flags[SWITCH_FLAGS[arg]] = true;
    else if (arg === '--data-dir') flags.dataDir = next();
    else if (arg === '--info-file') flags.infoFile = next();
    else if (arg === '--region') flags.region = next();
    else if (arg === '--bucket-region') flags.bucketRegion = next();
    else if (arg === '--bucket-policy') flags.bucketPolicy = parseBucketPolicy(next());
    else if (arg === '--config') configFile = next();
    else throw new UsageError(`unknown option ${arg}`);
  }
  const config = configFile ? readConfig(configFile) : {};
  const merged = { ...config, ...flags };
  const { infoFile, ...options } = merged;
  return { options, infoFile, help };
}

function parseBucketPolicy(text: string): BucketPolicy {
  if (!(BUCKET_POLICIES as readonly string[]).includes(text))
    throw new UsageError(`--bucket-policy must be one of ${BUCKET_POLICIES.join(', ')}, got "${text}"`);
  return text as BucketPolicy;
}

function parseNumber(flag: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0)
    throw new UsageError(`${flag} needs a non-negative number, got "${text}"`);
  return value;
}

function readConfig(file: string): SandboxOptions & { infoFile?: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`cannot read --config ${file}: ${(error as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new UsageError(`--config ${file} must hold a JSON object`);
  const unknown = Object.keys(parsed).filter((k) => !CONFIG_KEYS.has(k));
  if (unknown.length > 0)
    throw new UsageError(
      `--config ${file}: unknown setting(s) ${unknown.join(', ')} (known: ${[...CONFIG_KEYS].join(', ')})`,
    );
  return parsed as SandboxOptions;
}

export async function runSandboxCommand(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseSandboxArgs>;
  try {
    parsed = parseSandboxArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`ec2-runner sandbox: ${error.message}\n${USAGE}\n`);
    return 2;
  }
  if (parsed.help) {
    process.stderr.write(`${USAGE}\n`);
    return 0;
  }
  let sandbox;
  try {
    sandbox = await startSandbox(parsed.options);
  } catch (error) {
    process.stderr.write(`ec2-runner sandbox: cannot start: ${(error as Error).message}\n`);
    return 1;
  }
  const { info } = sandbox;
  const lines = [
    `EC2 Runner sandbox listening on ${info.endpoint} (region ${info.region}, account ${info.accountId})`,
    `Staging bucket: ${info.bucket}${info.bucketRegion === info.region ? '' : ` in ${info.bucketRegion}`}` +
      (parsed.options.bucketPolicy ? ` (bucket policy ${parsed.options.bucketPolicy}; KMS key ${info.kmsKeyArn})` : ''),
    `Data dir: ${info.dataDir}`,
    'Instances:',
    ...info.instances.map((i) => `  ${i.instanceId}  ${(i.name ?? '').padEnd(16)} ${i.pingStatus}`),
    'Point the AWS CLI, the SDK or ec2-runner at it (sandbox-only credentials):',
    // A profile or session token left in the shell would win over (or spoil) the sandbox's keys.
    `  unset ${SHADOWING_VARIABLES.join(' ')}`,
    ...Object.entries(sandboxEnvironment(info)).map(([k, v]) => `  export ${k}=${shellQuote(v)}`),
    `Temporary credentials: an AWS config profile with role_arn = ${info.roleArn} and a source_profile ` +
      `holding the keys above.`,
    'Stop with Ctrl+C.',
  ];
  process.stderr.write(`${lines.join('\n')}\n`);
  // After the announcement: a process that waits for the info file finds the lines already sent.
  if (parsed.infoFile) {
    // Atomic, private (it holds the sandbox's secret): readers never see a half-written file.
    const temp = `${parsed.infoFile}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(info, null, 2), { mode: 0o600 });
    renameSync(temp, parsed.infoFile);
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (s: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(s);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  process.stderr.write(`ec2-runner sandbox: ${signal}, stopping\n`);
  await sandbox.stop();
  if (parsed.infoFile) rmSync(parsed.infoFile, { force: true });
  return 0;
}
