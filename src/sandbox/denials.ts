// Test knobs that make the sandbox refuse what AWS would refuse for a caller without a permission
// (`deny: ['ssm:SendCommand']`), for a bucket of another account (`foreignBuckets`), or make the
// live-output channel (presigned POST) fail (`postObjectFailStatus`). The sandbox does not evaluate
// IAM policies; these knobs reproduce the observable answers of a missing Allow.
import { AwsError } from './errors';
import { splitS3Path } from './s3Api';

// S3 operations whose IAM action has another name (as AWS documents them).
const S3_ACTIONS: Record<string, string> = {
  HeadObject: 'GetObject',
  HeadBucket: 'ListBucket',
  ListObjectsV2: 'ListBucket',
  ListObjects: 'ListBucket',
  PostObject: 'PutObject',
  PutPublicAccessBlock: 'PutBucketPublicAccessBlock',
  PutBucketEncryption: 'PutEncryptionConfiguration',
  PutBucketLifecycleConfiguration: 'PutLifecycleConfiguration',
};

const SERVICE_PREFIX: Record<string, string> = { ssm: 'ssm', s3: 's3', tagging: 'tag', sts: 'sts' };

export function iamActionOf(service: string, operation: string): string {
  const prefix = SERVICE_PREFIX[service] ?? service;
  return `${prefix}:${prefix === 's3' ? (S3_ACTIONS[operation] ?? operation) : operation}`;
}

export interface DenialContext {
  accountId: string;
  region: string;
  deny: readonly string[];
  foreignBuckets: readonly string[];
  postObjectFailStatus: number;
}

/**
 * Throws AWS's answer when a knob refuses this call; presigned and POST requests included (they act as their signer).
 */
export function checkDenials(
  service: string,
  protocol: string,
  operation: string,
  rawPath: string,
  ctx: DenialContext,
): void {
  const action = iamActionOf(service, operation);
  // sts:GetCallerIdentity needs no permission and cannot be denied on AWS.
  if (action !== 'sts:GetCallerIdentity' && ctx.deny.includes(action)) {
    const message =
      `User: arn:aws:iam::${ctx.accountId}:user/sandbox is not authorized to perform: ${action} because no ` +
      `identity-based policy allows the ${action} action`;
    if (protocol === 'json') throw new AwsError('AccessDeniedException', message, 400);
    throw new AwsError('AccessDenied', protocol === 's3' ? 'Access Denied' : message, 403);
  }
  if (service === 's3') {
    const { bucket } = splitS3Path(rawPath);
    // Another account's bucket without a bucket policy for us: S3 answers 403 to everything.
    if (bucket && ctx.foreignBuckets.includes(bucket)) throw new AwsError('AccessDenied', 'Access Denied', 403);
    if (operation === 'PostObject' && ctx.postObjectFailStatus > 0) {
      const status = ctx.postObjectFailStatus;
      throw new AwsError(
        status === 403 ? 'AccessDenied' : status >= 500 ? 'ServiceUnavailable' : 'InvalidRequest',
        'sandbox fault injection: live-output POST refused',
        status,
      );
    }
  }
}
