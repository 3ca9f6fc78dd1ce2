// The sandbox's S3, STS and tagging APIs through the real AWS SDK v3 clients: objects, listing,
// ranges, bucket configs, presigned GET/PUT/POST and their expiry, SigV4 refusals, key escapes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetObjectCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { GetResourcesCommand, ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { withSandbox } from '../support/sandbox';

const run = promisify(execFile);

describe('sandbox S3, STS and tagging', { concurrency: true }, async () => {
  const { info, clientConfig } = await withSandbox();
  const s3 = new S3Client({ ...clientConfig, forcePathStyle: true });
  const bucket = info.bucket;
  const text = async (body: unknown) => (body as { transformToString(): Promise<string> }).transformToString();

  test('PutObject, GetObject, HeadObject, DeleteObject round trip with SSE echoed', async () => {
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'rt/a b+c.txt',
        Body: 'hello world',
        ServerSideEncryption: 'AES256',
        ContentType: 'text/plain',
        Metadata: { origin: 'test' },
      }),
    );
    assert.equal(put.ServerSideEncryption, 'AES256');
    assert.match(put.ETag ?? '', /^"[0-9a-f]{32}"$/);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'rt/a b+c.txt' }));
    assert.equal(await text(got.Body), 'hello world');
    assert.equal(got.ContentType, 'text/plain');
    assert.equal(got.Metadata?.origin, 'test');
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'rt/a b+c.txt' }));
    assert.equal(head.ContentLength, 11);
    assert.equal(head.ETag, put.ETag);
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'rt/a b+c.txt' }));
    await assert.rejects(
      s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'rt/a b+c.txt' })),
      (e: Error & { $metadata?: { httpStatusCode?: number } }) =>
        e.$metadata?.httpStatusCode === 404 && e.name === 'NotFound',
    );
    await assert.rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'rt/a b+c.txt' })), { name: 'NoSuchKey' });
  });

  test('GetObject with Range answers 206 with the slice; an unsatisfiable range answers InvalidRange', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'range/digits', Body: '0123456789' }));
    const middle = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range/digits', Range: 'bytes=2-5' }));
    assert.equal(await text(middle.Body), '2345');
    assert.equal(middle.ContentRange, 'bytes 2-5/10');
    assert.equal(
      await text(
        (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range/digits', Range: 'bytes=7-' }))).Body,
      ),
      '789',
    );
    assert.equal(
      await text(
        (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range/digits', Range: 'bytes=-3' }))).Body,
      ),
      '789',
    );
    await assert.rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range/digits', Range: 'bytes=20-30' })), {
      name: 'InvalidRange',
    });
  });

  test('ListObjectsV2 honours Prefix, StartAfter, MaxKeys, ContinuationToken and Delimiter', async () => {
    for (const key of ['list/a', 'list/b', 'list/c', 'list/d/1', 'list/d/2', 'listing-other']) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
    }
    const all = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'list/' }));
    assert.deepEqual(
      all.Contents?.map((o) => o.Key),
      ['list/a', 'list/b', 'list/c', 'list/d/1', 'list/d/2'],
    );
    assert.equal(all.IsTruncated, false);
    const after = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'list/', StartAfter: 'list/b' }));
    assert.deepEqual(
      after.Contents?.map((o) => o.Key),
      ['list/c', 'list/d/1', 'list/d/2'],
    );
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: 'list/', MaxKeys: 2, ContinuationToken: token }),
      );
      assert.ok((page.KeyCount ?? 0) <= 2);
      keys.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.NextContinuationToken;
    } while (token);
    assert.deepEqual(keys, ['list/a', 'list/b', 'list/c', 'list/d/1', 'list/d/2']);
    const folders = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'list/', Delimiter: '/' }));
    assert.deepEqual(
      folders.Contents?.map((o) => o.Key),
      ['list/a', 'list/b', 'list/c'],
    );
    assert.deepEqual(
      folders.CommonPrefixes?.map((p) => p.Prefix),
      ['list/d/'],
    );
  });

  test('CreateBucket needs the sandbox region as LocationConstraint; HeadBucket finds it; a missing bucket is NotFound/NoSuchBucket', async () => {
    await assert.rejects(
      s3.send(
        new CreateBucketCommand({
          Bucket: 'other-region-bucket',
          CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
        }),
      ),
      { name: 'IllegalLocationConstraintException' },
    );
    await s3.send(
      new CreateBucketCommand({
        Bucket: 'second-bucket',
        CreateBucketConfiguration: { LocationConstraint: info.region as 'us-west-2' },
      }),
    );
    const head = await s3.send(new HeadBucketCommand({ Bucket: 'second-bucket' }));
    assert.equal(head.BucketRegion, info.region);
    await assert.rejects(
      s3.send(
        new CreateBucketCommand({
          Bucket: 'second-bucket',
          CreateBucketConfiguration: { LocationConstraint: info.region as 'us-west-2' },
        }),
      ),
      { name: 'BucketAlreadyOwnedByYou' },
    );
    await assert.rejects(s3.send(new HeadBucketCommand({ Bucket: 'missing-bucket' })), { name: 'NotFound' });
    await assert.rejects(s3.send(new PutObjectCommand({ Bucket: 'missing-bucket', Key: 'k', Body: 'x' })), {
      name: 'NoSuchBucket',
    });
  });

  test('public access block, default encryption and lifecycle are stored and read back', async () => {
    await assert.rejects(s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket })), {
      name: 'NoSuchPublicAccessBlockConfiguration',
    });
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
    const block = await s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket }));
    assert.deepEqual(block.PublicAccessBlockConfiguration, {
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
    const before = await s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
    assert.equal(
      before.ServerSideEncryptionConfiguration?.Rules?.[0].ApplyServerSideEncryptionByDefault?.SSEAlgorithm,
      'AES256',
    );
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket: bucket,
        ServerSideEncryptionConfiguration: {
          Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: true }],
        },
      }),
    );
    const after = await s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
    assert.equal(after.ServerSideEncryptionConfiguration?.Rules?.[0].BucketKeyEnabled, true);
    await assert.rejects(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket })), {
      name: 'NoSuchLifecycleConfiguration',
    });
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: bucket,
        LifecycleConfiguration: {
          Rules: [
            { ID: 'expire-runner', Status: 'Enabled', Filter: { Prefix: 'ec2-runner/' }, Expiration: { Days: 7 } },
          ],
        },
      }),
    );
    const lifecycle = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
    assert.equal(lifecycle.Rules?.[0].Expiration?.Days, 7);
    assert.equal(lifecycle.Rules?.[0].Filter?.Prefix, 'ec2-runner/');
  });

  test('ExpectedBucketOwner: the sandbox account passes, any other is AccessDenied', async () => {
    await s3.send(new HeadBucketCommand({ Bucket: bucket, ExpectedBucketOwner: info.accountId }));
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'owner/ok', Body: 'x', ExpectedBucketOwner: info.accountId }),
    );
    await assert.rejects(
      s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: 'owner/no', Body: 'x', ExpectedBucketOwner: '111122223333' }),
      ),
      { name: 'AccessDenied' },
    );
  });

  test('keys like ../x or /abs never escape the data dir', async () => {
    const keys = ['../escape.txt', '../../../../../tmp/sandbox-escape.txt', '/abs/path.txt', '..', 'a/../../b'];
    for (const key of keys) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `body of ${key}` }));
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      assert.equal(await text(got.Body), `body of ${key}`);
    }
    assert.equal(existsSync(join(dirname(info.dataDir), 'escape.txt')), false);
    assert.equal(existsSync('/tmp/sandbox-escape.txt'), false);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    for (const key of keys)
      assert.ok(
        listed.Contents?.some((o) => o.Key === key),
        `listed ${key}`,
      );
    // Every stored file is inside the bucket's objects folder, named by a hash.
    const objectsDir = join(info.dataDir, 's3', bucket, 'objects');
    for (const file of walk(join(info.dataDir, 's3'))) {
      assert.ok(!relative(info.dataDir, file).startsWith('..'));
      if (file.startsWith(objectsDir)) assert.match(relative(objectsDir, file), /^[0-9a-f]{64}\.(data|json)$/);
    }
  });

  test('presigned GET and PUT work until they expire; a tampered URL is refused', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'presign/get.txt', Body: 'presigned body' }));
    const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'presign/get.txt' }), {
      expiresIn: 60,
    });
    const got = await fetch(getUrl);
    assert.equal(got.status, 200);
    assert.equal(await got.text(), 'presigned body');
    const tampered = await fetch(getUrl.replace('presign/get.txt', 'presign/other.txt'));
    assert.equal(tampered.status, 403);
    assert.match(await tampered.text(), /<Code>SignatureDoesNotMatch<\/Code>/);

    const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: 'presign/put.txt' }), {
      expiresIn: 60,
    });
    const put = await fetch(putUrl, { method: 'PUT', body: 'uploaded through a URL' });
    assert.equal(put.status, 200);
    assert.equal(
      await text((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'presign/put.txt' }))).Body),
      'uploaded through a URL',
    );

    const expiredUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'presign/get.txt' }), {
      expiresIn: 60,
      signingDate: new Date(Date.now() - 120_000),
    });
    const expired = await fetch(expiredUrl);
    assert.equal(expired.status, 403);
    const body = await expired.text();
    assert.match(body, /<Code>AccessDenied<\/Code>/);
    assert.match(body, /Request has expired/);
  });

  test('presigned POST (createPresignedPost) enforces signature, expiry, key prefix, extra fields and size', async () => {
    const policy = {
      Bucket: bucket,
      Key: 'live/run1/${filename}',
      Conditions: [
        ['starts-with', '$key', 'live/run1/'],
        ['content-length-range', 0, 64],
      ] as Array<['starts-with', string, string] | ['content-length-range', number, number]>,
      Expires: 60,
    };
    const post = await createPresignedPost(s3, policy);
    const upload = (fields: Record<string, string>, key: string, body: string, url = post.url) => {
      const form = new FormData();
      for (const [name, value] of Object.entries(fields)) form.append(name, value);
      form.set('key', key);
      form.append('file', new Blob([body]), 'chunk');
      return fetch(url, { method: 'POST', body: form });
    };
    const ok = await upload(post.fields, 'live/run1/i-0/00000000', 'frame bytes');
    assert.equal(ok.status, 204);
    assert.equal(
      await text((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'live/run1/i-0/00000000' }))).Body),
      'frame bytes',
    );
    const named = await upload(post.fields, 'live/run1/${filename}', 'by file name');
    assert.equal(named.status, 204);
    assert.equal(
      await text((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'live/run1/chunk' }))).Body),
      'by file name',
    );

    const outside = await upload(post.fields, 'elsewhere/x', 'nope');
    assert.equal(outside.status, 403);
    assert.match(await outside.text(), /<Code>AccessDenied<\/Code>.*Policy Condition failed/s);
    const tooBig = await upload(post.fields, 'live/run1/big', 'x'.repeat(65));
    assert.equal(tooBig.status, 400);
    assert.match(await tooBig.text(), /EntityTooLarge/);
    const badSignature = await upload({ ...post.fields, 'X-Amz-Signature': '0'.repeat(64) }, 'live/run1/y', 'x');
    assert.equal(badSignature.status, 403);
    assert.match(await badSignature.text(), /SignatureDoesNotMatch/);
    const extraField = await upload({ ...post.fields, 'x-amz-meta-sneaky': 'yes' }, 'live/run1/z', 'x');
    assert.equal(extraField.status, 403);
    assert.match(await extraField.text(), /Extra input fields: x-amz-meta-sneaky/);

    const pastClient = new S3Client({ ...clientConfig, forcePathStyle: true, systemClockOffset: -3_600_000 });
    const expiredPost = await createPresignedPost(pastClient, policy);
    const expired = await upload(expiredPost.fields, 'live/run1/late', 'x', expiredPost.url);
    assert.equal(expired.status, 403);
    assert.match(await expired.text(), /Policy expired/);
  });

  test('a request signed with another secret or an unknown key id is refused in S3, SSM-JSON and STS shapes', async () => {
    const wrongSecret = {
      ...clientConfig,
      credentials: { accessKeyId: info.accessKeyId, secretAccessKey: 'not-the-sandbox-secret' },
    };
    const wrongKey = {
      ...clientConfig,
      credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: info.secretAccessKey },
    };
    await assert.rejects(
      new S3Client({ ...wrongSecret, forcePathStyle: true }).send(
        new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x' }),
      ),
      (e: Error & { $metadata?: { httpStatusCode?: number } }) =>
        e.name === 'SignatureDoesNotMatch' && e.$metadata?.httpStatusCode === 403,
    );
    await assert.rejects(
      new S3Client({ ...wrongKey, forcePathStyle: true }).send(new GetObjectCommand({ Bucket: bucket, Key: 'k' })),
      { name: 'InvalidAccessKeyId' },
    );
    await assert.rejects(new STSClient(wrongSecret).send(new GetCallerIdentityCommand({})), {
      name: 'SignatureDoesNotMatch',
    });
    await assert.rejects(new STSClient(wrongKey).send(new GetCallerIdentityCommand({})), {
      name: 'InvalidClientTokenId',
    });
    await assert.rejects(new ResourceGroupsTaggingAPIClient(wrongSecret).send(new GetResourcesCommand({})), {
      name: 'InvalidSignatureException',
    });
  });

  test('unsigned curl requests are refused (S3 403 AccessDenied, SSM MissingAuthenticationTokenException)', async () => {
    const s3Answer = await run('curl', ['-s', '-w', '\n%{http_code}', `${info.endpoint}/${bucket}/list/a`]);
    assert.match(s3Answer.stdout, /<Code>AccessDenied<\/Code>[\s\S]*\n403$/);
    const ssmAnswer = await run('curl', [
      '-s',
      '-w',
      '\n%{http_code}',
      '-X',
      'POST',
      '-H',
      'X-Amz-Target: AmazonSSM.DescribeInstanceInformation',
      '-H',
      'Content-Type: application/x-amz-json-1.1',
      '-d',
      '{}',
      `${info.endpoint}/`,
    ]);
    const [body, status] = ssmAnswer.stdout.split('\n');
    assert.equal(status, '400');
    assert.equal(JSON.parse(body).__type, 'MissingAuthenticationTokenException');
  });

  test('STS GetCallerIdentity answers the sandbox account', async () => {
    const identity = await new STSClient(clientConfig).send(new GetCallerIdentityCommand({}));
    assert.equal(identity.Account, info.accountId);
    assert.match(identity.Arn ?? '', new RegExp(`^arn:aws:iam::${info.accountId}:`));
  });

  test('tagging GetResources lists instance Name tags, filtered and paged', async () => {
    const tagging = new ResourceGroupsTaggingAPIClient(clientConfig);
    const all = await tagging.send(new GetResourcesCommand({ ResourceTypeFilters: ['ec2:instance'] }));
    const names = new Map(
      all.ResourceTagMappingList?.map((r) => [
        r.ResourceARN!.split('/').pop(),
        r.Tags?.find((t) => t.Key === 'Name')?.Value,
      ]),
    );
    for (const instance of info.instances) assert.equal(names.get(instance.instanceId), instance.name);
    const workers = await tagging.send(new GetResourcesCommand({ TagFilters: [{ Key: 'Role', Values: ['worker'] }] }));
    assert.equal(workers.ResourceTagMappingList?.length, 2);
    const first = await tagging.send(new GetResourcesCommand({ ResourcesPerPage: 1 }));
    assert.equal(first.ResourceTagMappingList?.length, 1);
    assert.ok(first.PaginationToken);
    const second = await tagging.send(
      new GetResourcesCommand({ ResourcesPerPage: 1, PaginationToken: first.PaginationToken }),
    );
    assert.notEqual(second.ResourceTagMappingList?.[0].ResourceARN, first.ResourceTagMappingList?.[0].ResourceARN);
  });
});

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}
