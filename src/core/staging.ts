// Content-addressed staging: `<keyPrefix>staged/<sha256>/<fileName>`. The same bytes always land on
// the same key, so a HeadObject tells whether the upload can be skipped (rerunning an unchanged
// file uploads nothing) and a run can never pick up another run's file.
import { createHash } from 'node:crypto';
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { RunnerError } from './api';
import { putObjectEncryption, type UploadEncryption } from './encryption';
import { errorName } from './errors';

export interface StagedFile {
  bucket: string;
  key: string;
  sha256: string;
  size: number;
  /** False when an identical object was already there. */
  uploaded: boolean;
}

export function sha256Hex(content: Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

/** Validates a remote file name: a plain name, no directories, no control characters. */
export function checkFileName(fileName: string): string {
  if (!fileName || fileName === '.' || fileName === '..' || /[/\\\u0000-\u001f]/.test(fileName)) {
    throw new RunnerError(
      `Invalid file name ${JSON.stringify(fileName)}: give a plain file name without directories.`,
      'InvalidFileName',
    );
  }
  return fileName;
}

/** User metadata (x-amz-meta-sha256) holding the hex sha256 the engine uploaded. */
const SHA256_METADATA = 'sha256';

export function stagedKey(keyPrefix: string, sha256: string, fileName: string): string {
  return `${keyPrefix}staged/${sha256}/${fileName}`;
}

export async function stageFile(
  s3: S3Client,
  options: { bucket: string; keyPrefix: string; fileName: string; content: Uint8Array; encryption?: UploadEncryption },
): Promise<StagedFile> {
  const sha256 = sha256Hex(options.content);
  const key = stagedKey(options.keyPrefix, sha256, checkFileName(options.fileName));
  const base = { bucket: options.bucket, key, sha256, size: options.content.byteLength };
  try {
    // ExpectedBucketOwner comes with the client (bucketOwner.ts).
    const head = await s3.send(new HeadObjectCommand({ Bucket: options.bucket, Key: key }));
    // The sha256 recorded at upload must match too: an object overwritten behind our back (which the
    // instance would refuse by checksum) is replaced by the next run instead of failing every run.
    if (head.ContentLength === options.content.byteLength && head.Metadata?.[SHA256_METADATA] === sha256)
      return { ...base, uploaded: false };
  } catch (error) {
    if (errorName(error) !== 'NotFound' && errorName(error) !== 'NoSuchKey') throw error;
  }
  await s3.send(
    new PutObjectCommand({
      Bucket: options.bucket,
      Key: key,
      Body: options.content,
      ContentLength: options.content.byteLength,
      // No encryption named: the bucket's default applies (forcing AES256 would override a KMS default).
      ...putObjectEncryption(options.encryption),
      Metadata: { [SHA256_METADATA]: sha256 },
    }),
  );
  return { ...base, uploaded: true };
}
