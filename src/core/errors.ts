// Turns AWS SDK and network failures into a RunnerError with one actionable line:
// what failed, why, and what to do.
import { RunnerError } from './api';
import { failedOperationOf } from './operationTag';
import { listProfiles, missingProfileMessage } from './profiles';

export interface ErrorContext {
  /** Profile in use, to suggest the right `aws sso login --profile`. */
  profile?: string;
  bucket?: string;
  endpointUrl?: string;
  /** Overrides the IAM action derived from the failed SDK call. */
  action?: string;
  /** The configured SSE-KMS key, to explain a bucket policy's deny of an upload. */
  kmsKeyId?: string;
}

const SERVICE_PREFIX: Record<string, string> = {
  SSMClient: 'ssm',
  S3Client: 's3',
  STSClient: 'sts',
  ResourceGroupsTaggingAPIClient: 'tag',
};

// S3 operations whose IAM action has another name.
const S3_ACTIONS: Record<string, string> = {
  HeadObject: 'GetObject',
  HeadBucket: 'ListBucket',
  ListObjectsV2: 'ListBucket',
  PutPublicAccessBlock: 'PutBucketPublicAccessBlock',
  PutBucketEncryption: 'PutEncryptionConfiguration',
  PutBucketLifecycleConfiguration: 'PutLifecycleConfiguration',
};

/** The IAM action of the SDK call that failed, e.g. "ssm:SendCommand". */
export function iamActionOf(error: unknown): string | undefined {
  const op = failedOperationOf(error);
  if (!op) return undefined;
  const prefix = SERVICE_PREFIX[op.clientName] ?? op.clientName.replace(/Client$/, '').toLowerCase();
  const operation = prefix === 's3' ? (S3_ACTIONS[op.operation] ?? op.operation) : op.operation;
  return `${prefix}:${operation}`;
}

interface ErrorShape {
  name?: string;
  code?: string;
  message?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
  cause?: unknown;
}

/** The region an S3 failure names in x-amz-bucket-region (sent with 200, 301 and 403 answers alike), if any. */
export function regionNamedBy(error: unknown): string | undefined {
  const region = shape(error).$response?.headers?.['x-amz-bucket-region'];
  return typeof region === 'string' && /^[a-z0-9-]{1,32}$/.test(region) ? region : undefined;
}

function shape(error: unknown): ErrorShape {
  return error && typeof error === 'object' ? (error as ErrorShape) : { message: String(error) };
}

function networkCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 4; e = shape(e).cause, depth++) {
    const code = shape(e).code;
    if (code && /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|ENETUNREACH)$/.test(code))
      return code;
  }
  return undefined;
}

const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'SlowDown',
  'RequestLimitExceeded',
  'ThrottledException',
]);
const EXPIRED = new Set(['ExpiredToken', 'ExpiredTokenException', 'RequestExpired', 'TokenRefreshRequired']);
const BAD_KEYS = new Set([
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
]);
const ACCESS_DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'Forbidden']);

/** Maps any failure to a RunnerError (RunnerErrors pass through unchanged). */
export function toRunnerError(error: unknown, context: ErrorContext = {}): RunnerError {
  if (error instanceof RunnerError) return error;
  const e = shape(error);
  const name = e.name ?? e.Code ?? '';
  const message = (e.message ?? '').split('\n')[0];
  const action = context.action ?? iamActionOf(error);
  const onAction = action ? ` (${action})` : '';
  // The AWS CLI's sign-in command (both front ends advise it; the extension also runs it from a button).
  const ssoLogin = (profile = context.profile) => (profile ? `aws sso login --profile ${profile}` : 'aws sso login');
  const data = {
    profile: context.profile,
    bucket: context.bucket,
    endpointUrl: context.endpointUrl,
    kmsKeyId: context.kmsKeyId,
    action,
  };
  const make = (code: string, problem: string, advice?: string, extra?: Record<string, string | undefined>) =>
    new RunnerError(problem, code, { cause: error, advice, data: { ...data, ...extra } });

  // A profile that is not in the shared files fails as "no credentials" or "no region": say what is really wrong.
  const profile = context.profile ?? process.env.AWS_PROFILE;
  const credentialsOrRegion =
    name === 'CredentialsProviderError' ||
    /Could not (load|resolve) credentials|Region is missing/i.test(message) ||
    name === 'RegionMissing';
  if (profile && credentialsOrRegion && !listProfiles().includes(profile))
    return make('ProfileNotFound', missingProfileMessage(profile));
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    if (/sso|token/i.test(message) && !/Could not load credentials from any providers/i.test(message)) {
      return make(
        'CredentialsExpired',
        `AWS SSO session is missing or expired${onAction}: run \`${ssoLogin()}\` and retry.`,
      );
    }
    return make(
      'NoCredentials',
      `No AWS credentials found${context.profile ? ` for profile "${context.profile}"` : ''}`,
      `run \`aws configure\`, \`${ssoLogin(context.profile ?? 'X')}\`, or set AWS_PROFILE.`,
    );
  }
  if (
    name === 'TokenProviderError' ||
    /SSO session .*(expired|invalid)|token .*expired|refresh.*token/i.test(message)
  ) {
    return make(
      'CredentialsExpired',
      `AWS SSO token is expired or invalid${onAction}: run \`${ssoLogin()}\` and retry.`,
    );
  }
  if (EXPIRED.has(name)) {
    return make(
      'CredentialsExpired',
      `AWS credentials have expired${onAction}: refresh them (e.g. \`${ssoLogin()}\`) and retry.`,
    );
  }
  if (BAD_KEYS.has(name)) {
    return make(
      'InvalidCredentials',
      `AWS rejected the credentials${onAction}: ${(message || name).replace(/\.+$/, '')}. Check the access ` +
        `key, profile and region.`,
    );
  }
  if (/Region is missing/i.test(message) || name === 'RegionMissing') {
    return make(
      'NoRegion',
      'No AWS region configured',
      'set AWS_REGION, or add `region` to your profile in ~/.aws/config.',
    );
  }
  const kmsHint = context.kmsKeyId ? ` (the configured KMS key is ${context.kmsKeyId})` : '';
  if (
    ACCESS_DENIED.has(name) &&
    action === 's3:PutObject' &&
    /explicit deny in a resource-based policy/i.test(message)
  ) {
    const bucket = context.bucket ? `S3 bucket ${context.bucket}` : 'The staging bucket';
    return make(
      'BucketPolicyDenied',
      `${bucket}'s bucket policy denies the upload (s3:PutObject, explicit deny), as a policy requiring ` +
        `SSE-KMS does${kmsHint}`,
      'configure the KMS key ARN the policy requires (EC2_RUNNER_KMS_KEY_ID); your IAM identity needs ' +
        'kms:GenerateDataKey on it.',
    );
  }
  const kmsAction = /\b(kms:[A-Za-z]+)/.exec(message)?.[1];
  if (ACCESS_DENIED.has(name) && kmsAction) {
    return make(
      'AccessDenied',
      `Access denied for ${kmsAction}${action ? ` (needed by ${action})` : ''}${kmsHint}: grant your IAM ` +
        `identity ${kmsAction} on the bucket's KMS key and retry.`,
    );
  }
  if (name.startsWith('KMS.')) {
    return make(
      'KmsKeyInvalid',
      `S3 cannot use the KMS key${kmsHint} (${name}: ${message || 'no detail'})`,
      "configure a KMS key id or ARN in the bucket's region (EC2_RUNNER_KMS_KEY_ID).",
    );
  }
  if (ACCESS_DENIED.has(name) || (e.$metadata?.httpStatusCode === 403 && !name.startsWith('Invalid'))) {
    const onBucket = Boolean(context.bucket && action?.startsWith('s3:'));
    const ownerHint = onBucket
      ? " (and check that the bucket belongs to your account: S3 refuses another account's bucket the same way)"
      : '';
    return make(
      'AccessDenied',
      `Access denied${action ? ` for ${action}` : ''}${onBucket ? ` on bucket ${context.bucket}` : ''}: ` +
        `grant your IAM identity ${action ?? 'the required permission'}${ownerHint} and retry.`,
    );
  }
  if (e.$metadata?.httpStatusCode === 301 || name === 'PermanentRedirect') {
    const region = regionNamedBy(error);
    const bucket = context.bucket ? `S3 bucket ${context.bucket}` : 'The S3 bucket';
    return make(
      'BucketInOtherRegion',
      `${bucket} is ${region ? `in region ${region}` : 'in another region'} and S3 refused ` +
        `${action ?? 'the request'} signed for another region (301 PermanentRedirect)`,
      'use a bucket in the region SSM uses, or retry.',
      { bucketRegion: region },
    );
  }
  if (name === 'NoSuchBucket' || (name === 'NotFound' && action === 's3:ListBucket')) {
    const bucket = context.bucket ? `S3 bucket ${context.bucket}` : 'The staging S3 bucket';
    return make(
      'NoSuchBucket',
      `${bucket} does not exist`,
      'create it, or choose an existing bucket (EC2_RUNNER_BUCKET).',
    );
  }
  if (name === 'InvalidInstanceId') {
    return make(
      'InvalidInstanceId',
      `SSM cannot run commands on the target instance: it is unknown in this account/region, not ` +
        `SSM-managed, stopped, or its agent is offline (${message || name}).`,
      'Check which instances SSM manages there.',
    );
  }
  if (name === 'InvalidCommandId' || name === 'InvocationDoesNotExist') {
    return make(
      'UnknownCommand',
      'No such command in this account and region',
      'check the command id, the profile and the region.',
    );
  }
  if (THROTTLING.has(name)) {
    return make(
      'Throttled',
      `AWS kept throttling ${action ?? 'the request'} even after retries (rate exceeded)`,
      'wait a moment and retry, or run fewer commands at once.',
    );
  }
  const net = networkCode(error);
  if (net || name === 'TimeoutError' || name === 'NetworkingError') {
    const where = context.endpointUrl ? ` at ${context.endpointUrl}` : '';
    return make(
      'EndpointUnreachable',
      `Cannot reach the AWS endpoint${where}${onAction} (${net ?? name})`,
      `check the network, the region and the endpoint URL${context.endpointUrl ? ' (is the sandbox running?)' : ''}.`,
    );
  }
  return make(
    name || 'Unexpected',
    `${action ? `${action} failed` : 'AWS request failed'}: ${message || name || 'unknown error'}`,
  );
}

/** Runs `fn` and maps whatever it throws. */
export async function mapErrors<T>(context: ErrorContext, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toRunnerError(error, context);
  }
}

/** The SDK error name (e.g. "InvocationDoesNotExist"), for control flow on expected errors. */
export function errorName(error: unknown): string {
  const e = shape(error);
  return e.name ?? e.Code ?? '';
}
