// How the engine's uploads are encrypted. By default they name no encryption, so the bucket's own
// default applies (SSE-S3, or the SSE-KMS key its owner chose). With a KMS key configured, staged
// files (PutObject) and live output (the presigned POST, as fields its policy pins) say
// `x-amz-server-side-encryption: aws:kms` with that key, which is what a bucket policy requiring
// SSE-KMS checks: it judges the request's header, not the bucket default.

/** SSE-KMS for every upload of a run; undefined: the bucket default. */
export interface UploadEncryption {
  /** A KMS key id, key ARN, alias name (alias/...) or alias ARN. */
  kmsKeyId: string;
}

/** The configured KMS key (setting, then EC2_RUNNER_KMS_KEY_ID), or undefined for the bucket default. */
export function configuredEncryption(
  setting: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): UploadEncryption | undefined {
  const kmsKeyId = setting?.trim() || env.EC2_RUNNER_KMS_KEY_ID?.trim();
  return kmsKeyId ? { kmsKeyId } : undefined;
}

/** PutObject / CreateBucket default-encryption parameters. */
export function putObjectEncryption(encryption: UploadEncryption | undefined): {
  ServerSideEncryption?: 'aws:kms';
  SSEKMSKeyId?: string;
} {
  return encryption ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: encryption.kmsKeyId } : {};
}

/** Presigned POST fields; createPresignedPost pins each field with an exact-match policy condition. */
export function postPolicyFields(encryption: UploadEncryption | undefined): Record<string, string> {
  return encryption
    ? { 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': encryption.kmsKeyId }
    : {};
}
