// The sandbox's S3 as a transport for remoteHarness: the engine's real presigned POST policy
// (createLiveOutputTarget) and real presigned GETs from @aws-sdk/s3-request-presigner.
import { createHash } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createLiveOutputTarget, runPrefixOf } from '../../src/core/transfer';
import type { RemoteTransport } from './remoteHarness';
import type { SandboxFixture } from './sandbox';

const KEY_PREFIX = 'ec2-runner/';
const URL_LIFETIME_SECONDS = 600;

/** The transport and its S3 client (destroy it when done). */
export function sandboxTransport(fixture: SandboxFixture): { transport: RemoteTransport; s3: S3Client } {
  const s3 = new S3Client({ ...fixture.clientConfig, forcePathStyle: true });
  const bucket = fixture.info.bucket;
  const transport: RemoteTransport = {
    async stage(body, fileName, broken) {
      const key = `${KEY_PREFIX}staged/${createHash('sha256').update(body).digest('hex')}/${fileName}`;
      if (broken !== 'missing')
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ServerSideEncryption: 'AES256' }));
      // "refused": a URL signed an hour ago for one minute, i.e. expired, as after a long delivery delay.
      const signing =
        broken === 'refused'
          ? { signingDate: new Date(Date.now() - 3_600_000), expiresIn: 60 }
          : { expiresIn: URL_LIFETIME_SECONDS };
      return {
        kind: 'presigned',
        url: await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: key }), signing),
      };
    },
    async liveOutput(runId) {
      const runPrefix = runPrefixOf(KEY_PREFIX, runId);
      return {
        target: await createLiveOutputTarget(s3, bucket, runPrefix, URL_LIFETIME_SECONDS),
        outputLocation: `s3://${bucket}/${runPrefix}`,
      };
    },
    async objects(keyPrefix) {
      const objects = new Map<string, Uint8Array>();
      let token: string | undefined;
      do {
        const page = await s3.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: keyPrefix, ContinuationToken: token }),
        );
        for (const { Key } of page.Contents ?? []) {
          const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
          objects.set(Key!, await object.Body!.transformToByteArray());
        }
        token = page.NextContinuationToken;
      } while (token);
      return objects;
    },
  };
  return { transport, s3 };
}
