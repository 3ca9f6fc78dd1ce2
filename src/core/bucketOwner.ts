// ExpectedBucketOwner on every S3 request: S3 then refuses (403) a bucket that another account owns,
// so a bucket name taken over by someone else never receives our files or feeds us output. One
// middleware on the client instead of a parameter at each call site: a new call cannot forget it,
// and presigned GET URLs carry it too (the presigner hoists it into the query string).
// Presigned POST policies have no such field: the engine checks the bucket's owner before it signs one.
import type { S3Client } from '@aws-sdk/client-s3';

const MIDDLEWARE_NAME = 'ec2RunnerExpectedBucketOwner';

export function expectBucketOwner(client: S3Client, owner: () => Promise<string>): S3Client {
  client.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as { Bucket?: unknown; ExpectedBucketOwner?: unknown };
      // Operations without the parameter (CreateBucket) ignore the extra input member.
      if (typeof input.Bucket === 'string' && input.ExpectedBucketOwner === undefined) {
        return next({ ...args, input: { ...args.input, ExpectedBucketOwner: await owner() } });
      }
      return next(args);
    },
    { step: 'initialize', name: MIDDLEWARE_NAME, override: true },
  );
  return client;
}
