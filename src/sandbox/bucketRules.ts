// What a real bucket enforces beyond storing objects: its region (a request signed for another
// region's endpoint gets 301 PermanentRedirect), its bucket policy (the `require-kms` deny of
// uploads without SSE-KMS) and its default encryption (applied when a request names none).
import { AwsError } from './errors';
import type { Bucket } from './objectStore';
import { firstTag } from './xml';

/** Bucket policies the sandbox models (`--bucket-policy`). */
export const BUCKET_POLICIES = ['require-kms'] as const;
export type BucketPolicy = (typeof BUCKET_POLICIES)[number];

/** The sandbox account's KMS keys: one customer managed key (in the info file) and the AWS managed `aws/s3` key. */
export interface SandboxKms {
  keyArn: string;
  managedKeyArn: string;
}

export function sandboxKms(accountId: string, region: string): SandboxKms {
  const arn = (id: string) => `arn:aws:kms:${region}:${accountId}:key/${id}`;
  return {
    keyArn: arn(`0e6c2c5a-${accountId.slice(0, 4)}-4b5e-9c1d-${accountId}`),
    managedKeyArn: arn(`a11ce5e3-${accountId.slice(0, 4)}-4d3a-8f2e-${accountId}`),
  };
}

export function regionOf(bucket: Bucket, sandboxRegion: string): string {
  return bucket.region ?? sandboxRegion;
}

/**
 * S3 answers for a bucket only at its own region's endpoint. Every request here comes to one
 * endpoint, so the region a request was signed for stands for the endpoint it was sent to: another
 * region gets what a regional endpoint answers, 301 PermanentRedirect with x-amz-bucket-region
 * (a HEAD without a body).
 */
export function checkBucketRegion(bucket: Bucket, signingRegion: string | undefined, sandboxRegion: string): void {
  const region = regionOf(bucket, sandboxRegion);
  if (signingRegion === undefined || signingRegion === region) return;
  throw new AwsError(
    'PermanentRedirect',
    'The bucket you are attempting to access must be addressed using the specified endpoint. Please send all ' +
      'future requests to this endpoint.',
    301,
    { Endpoint: `${bucket.name}.s3.${region}.amazonaws.com`, Bucket: bucket.name },
    { 'x-amz-bucket-region': region },
  );
}

/**
 * The `require-kms` bucket policy: Deny s3:PutObject unless s3:x-amz-server-side-encryption is
 * aws:kms. S3 judges the request's own header (or POST field), not the bucket default.
 */
export function checkBucketPolicy(
  bucket: Bucket,
  key: string,
  serverSideEncryption: string | undefined,
  accountId: string,
): void {
  if (bucket.policy !== 'require-kms' || serverSideEncryption === 'aws:kms') return;
  throw new AwsError(
    'AccessDenied',
    `User: arn:aws:iam::${accountId}:user/sandbox is not authorized to perform: s3:PutObject on resource: ` +
      `"arn:aws:s3:::${bucket.name}/${key}" with an explicit deny in a resource-based policy`,
    403,
  );
}

/** The bucket's default encryption (GetBucketEncryption): AES256 unless configured otherwise. */
export function defaultEncryption(bucket: Bucket): { algorithm: string; kmsKeyId?: string } {
  const stored = bucket.configs.encryption;
  const algorithm = stored ? firstTag(stored, 'SSEAlgorithm')?.trim() : undefined;
  return {
    algorithm: algorithm || 'AES256',
    kmsKeyId: stored ? firstTag(stored, 'KMSMasterKeyID')?.trim() || undefined : undefined,
  };
}

/**
 * The encryption an upload gets: the request's, else the bucket default. An aws:kms upload without
 * a key uses the bucket's key, else the AWS managed key; a key the account does not have is refused
 * as S3 refuses it (KMS.NotFoundException).
 */
export function resolveEncryption(
  bucket: Bucket | undefined,
  requested: { algorithm?: string; kmsKeyId?: string },
  kms: SandboxKms,
): { algorithm: string; kmsKeyArn?: string } {
  const fallback = bucket ? defaultEncryption(bucket) : { algorithm: 'AES256' };
  const algorithm = requested.algorithm ?? fallback.algorithm;
  if (algorithm !== 'AES256' && algorithm !== 'aws:kms' && algorithm !== 'aws:kms:dsse') {
    throw new AwsError('InvalidArgument', `The encryption method specified is not supported: ${algorithm}`, 400, {
      ArgumentName: 'x-amz-server-side-encryption',
    });
  }
  if (algorithm === 'AES256') {
    if (requested.kmsKeyId)
      throw new AwsError(
        'InvalidArgument',
        'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms',
        400,
      );
    return { algorithm };
  }
  const named = requested.kmsKeyId ?? (requested.algorithm === undefined ? fallback.kmsKeyId : undefined);
  if (named === undefined) return { algorithm, kmsKeyArn: kms.managedKeyArn };
  const known = [kms.keyArn, kms.managedKeyArn].find(
    (arn) => named === arn || named === arn.slice(arn.lastIndexOf('/') + 1),
  );
  if (!known) throw new AwsError('KMS.NotFoundException', `Invalid keyId '${named}'`, 400);
  return { algorithm, kmsKeyArn: known };
}

export function kmsEncryptionXml(keyArn: string, xmlns: string): string {
  return (
    `<ServerSideEncryptionConfiguration ` +
    `xmlns="${xmlns}"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm>` +
    `<KMSMasterKeyID>${keyArn}</KMSMasterKeyID></ApplyServerSideEncryptionByDefault>` +
    `<BucketKeyEnabled>false</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>`
  );
}
