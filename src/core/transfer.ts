// How the instance moves bytes without AWS credentials of its own: a presigned GET for the staged
// file and a presigned POST for live output.
//
// Why a presigned POST for live output: a presigned PUT URL names exactly one key, so it cannot
// cover an unknown number of output chunks, nor instances that are only known once SSM resolves
// tag targets. CloudWatch Logs would need extra permissions on every instance role and another
// service. One POST policy lets the wrapper upload any number of objects under ONE key prefix,
// each capped in size and valid until an expiry, with no credentials on the instance and no S3
// permission on its role.
//
// Presigned access dies with the credentials that signed it (S3 answers ExpiredToken), so every
// lifetime is capped at the credentials' own expiry; renewal.ts hands a running instance a fresh
// policy before that, signed with refreshed credentials.
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { LIVE_CHUNK_MAX_BYTES, LIVE_POLICY_SLACK_SECONDS, MAX_PRESIGN_SECONDS } from './defaults';
import { postPolicyFields, type UploadEncryption } from './encryption';
import type { LiveOutputTarget } from './remote';

/** Lifetime of the live-output policy for a run: delivery + execution + slack, capped at SigV4's 7 days. */
export function presignLifetimeSeconds(deliveryTimeoutSeconds: number, executionTimeoutSeconds: number): number {
  return Math.min(MAX_PRESIGN_SECONDS, deliveryTimeoutSeconds + executionTimeoutSeconds + LIVE_POLICY_SLACK_SECONDS);
}

/** Lifetime of the staged file's presigned GET: the wrapper fetches it as soon as the command is delivered. */
export function downloadLifetimeSeconds(deliveryTimeoutSeconds: number): number {
  return Math.min(MAX_PRESIGN_SECONDS, deliveryTimeoutSeconds + LIVE_POLICY_SLACK_SECONDS);
}

/** What the signing credentials allow: when they expire, and whether the SDK can fetch fresh ones. */
export interface SigningCredentials {
  /** Undefined for long-term keys (no expiry). */
  expiresAtMs?: number;
  /** False for credentials fixed in code or in AWS_SESSION_TOKEN-style environment variables. */
  renewable: boolean;
}

/** Credential sources (the SDK's `$source` feature ids) that hand out the same credentials until they expire. */
const FIXED_CREDENTIAL_SOURCES = ['CREDENTIALS_CODE', 'CREDENTIALS_ENV_VARS'];

export async function signingCredentials(s3: S3Client): Promise<SigningCredentials> {
  const identity = (await s3.config.credentials()) as { expiration?: Date; $source?: Record<string, string> };
  const sources = Object.keys(identity.$source ?? {});
  return {
    expiresAtMs: identity.expiration?.getTime(),
    renewable: !sources.some((source) => FIXED_CREDENTIAL_SOURCES.includes(source)),
  };
}

/** `wantedSeconds`, but never past the credentials' expiry (at least 1 s). */
export function cappedLifetimeSeconds(
  wantedSeconds: number,
  credentials: SigningCredentials,
  nowMs = Date.now(),
): number {
  if (credentials.expiresAtMs === undefined) return wantedSeconds;
  return Math.max(1, Math.min(wantedSeconds, Math.floor((credentials.expiresAtMs - nowMs) / 1000)));
}

export function runPrefixOf(keyPrefix: string, runId: string): string {
  return `${keyPrefix}runs/${runId}/`;
}

/**
 * A presigned POST policy for live output under `runPrefix`. With `instanceId` it covers only that
 * instance's keys (`<runPrefix><instanceId>/...`, see chunkKeys.ts), so one instance cannot write
 * another's output; the wrapper still appends `<instanceId>/<seq>` to `keyPrefix`.
 */
export async function createLiveOutputTarget(
  s3: S3Client,
  bucket: string,
  runPrefix: string,
  expiresSeconds: number,
  instanceId?: string,
  encryption?: UploadEncryption,
): Promise<LiveOutputTarget> {
  const covered = instanceId === undefined ? runPrefix : `${runPrefix}${instanceId}/`;
  const post = await createPresignedPost(s3, {
    Bucket: bucket,
    Fields: postPolicyFields(encryption),
    // A key ending in ${filename} makes the policy a `starts-with $key <prefix>` condition.
    Key: `${covered}\${filename}`,
    Conditions: [
      ['starts-with', '$key', covered],
      ['content-length-range', 0, LIVE_CHUNK_MAX_BYTES],
    ],
    Expires: expiresSeconds,
  });
  return { url: post.url, fields: post.fields, keyPrefix: runPrefix };
}

export function presignedDownloadUrl(
  s3: S3Client,
  bucket: string,
  key: string,
  expiresSeconds: number,
): Promise<string> {
  return getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: expiresSeconds });
}
