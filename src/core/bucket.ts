// The staging bucket: which one, does it exist, and creating it safely.
import {
  CreateBucketCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutPublicAccessBlockCommand,
  type BucketLocationConstraint,
} from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { RunnerError } from './api';
import { STAGED_OBJECT_EXPIRY_DAYS } from './defaults';
export { defaultBucketName } from './awsLimits';
import type { UploadEncryption } from './encryption';
import { errorName } from './errors';

/** The configured bucket (setting, then EC2_RUNNER_BUCKET), or undefined when the default applies. */
export function configuredBucket(
  setting: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  return setting?.trim() || env.EC2_RUNNER_BUCKET?.trim() || undefined;
}

/**
 * Creates the bucket with public access blocked, default encryption (AES256, or SSE-KMS with the
 * configured key), and a lifecycle rule expiring everything under `keyPrefix` (staged files and
 * live output are only needed briefly).
 */
export async function createStagingBucket(
  s3: S3Client,
  bucket: string,
  region: string,
  keyPrefix: string,
  encryption?: UploadEncryption,
): Promise<void> {
  try {
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        // us-east-1 rejects an explicit LocationConstraint.
        CreateBucketConfiguration:
          region === 'us-east-1' ? undefined : { LocationConstraint: region as BucketLocationConstraint },
      }),
    );
  } catch (error) {
    if (errorName(error) === 'BucketAlreadyOwnedByYou') {
      // Fine: configure it below.
    } else if (errorName(error) === 'BucketAlreadyExists') {
      throw new RunnerError(`S3 bucket name ${bucket} is taken by another account`, 'BucketNameTaken', {
        cause: error,
        advice: 'choose a bucket name of your own.',
        data: { bucket },
      });
    } else {
      throw error;
    }
  }
  await s3.send(
    new PutPublicAccessBlockCommand({
      Bucket: bucket,
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        IgnorePublicAcls: true,
        BlockPublicPolicy: true,
        RestrictPublicBuckets: true,
      },
    }),
  );
  await s3.send(
    new PutBucketEncryptionCommand({
      Bucket: bucket,
      ServerSideEncryptionConfiguration: {
        Rules: [
          {
            ApplyServerSideEncryptionByDefault: encryption
              ? { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: encryption.kmsKeyId }
              : { SSEAlgorithm: 'AES256' },
          },
        ],
      },
    }),
  );
  await s3.send(
    new PutBucketLifecycleConfigurationCommand({
      Bucket: bucket,
      LifecycleConfiguration: {
        Rules: [
          {
            ID: 'ec2-runner-expire-staged-objects',
            Status: 'Enabled',
            Filter: { Prefix: keyPrefix },
            Expiration: { Days: STAGED_OBJECT_EXPIRY_DAYS },
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          },
        ],
      },
    }),
  );
}
