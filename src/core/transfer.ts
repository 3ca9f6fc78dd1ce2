// How the instance moves bytes without AWS credentials of its own: a presigned GET for the staged
// file and a presigned POST for live output.
//
// Why a presigned POST for live output: a presigned PUT URL names exactly one key, so it cannot
// cover an unknown number of output chunks, nor instances that are only known once SSM resolves
// tag targets. CloudWatch Logs would need extra permissions on every instance role and another
// service. One POST policy lets the wrapper upload any number of objects under ONE key prefix,
// each capped in size and valid until an expiry, with no credentials on the instance and no S3
// permission on its role.
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { LIVE_CHUNK_MAX_BYTES, LIVE_POLICY_SLACK_SECONDS, MAX_PRESIGN_SECONDS } from './defaults';
import type { LiveOutputTarget } from './remote';

/** Lifetime of presigned URLs for a run: delivery + execution + slack, capped at SigV4's 7 days. */
export function presignLifetimeSeconds(deliveryTimeoutSeconds: number, executionTimeoutSeconds: number): number {
  return Math.min(MAX_PRESIGN_SECONDS, deliveryTimeoutSeconds + executionTimeoutSeconds + LIVE_POLICY_SLACK_SECONDS);
}

export function runPrefixOf(keyPrefix: string, runId: string): string {
  return `${keyPrefix}runs/${runId}/`;
}

export async function createLiveOutputTarget(s3: S3Client, bucket: string, runPrefix: string, expiresSeconds: number): Promise<LiveOutputTarget> {
  const post = await createPresignedPost(s3, {
    Bucket: bucket,
    // A key ending in ${filename} makes the policy a `starts-with $key <runPrefix>` condition.
    Key: `${runPrefix}\${filename}`,
    Conditions: [
      ['starts-with', '$key', runPrefix],
      ['content-length-range', 0, LIVE_CHUNK_MAX_BYTES],
    ],
    Expires: expiresSeconds,
  });
  return { url: post.url, fields: post.fields, keyPrefix: runPrefix };
}

export function presignedDownloadUrl(s3: S3Client, bucket: string, key: string, expiresSeconds: number): Promise<string> {
  return getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: expiresSeconds });
}
