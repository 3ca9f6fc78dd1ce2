// A staging bucket in another region than SSM (sandbox --bucket-region): S3's answers through the
// real SDK and the real AWS CLI, and the engine and the ec2-runner CLI running through it anyway.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createEngine, type RunRequest } from '../../src/core';
import { runCli, tooLargeToInline } from '../support/runChecks';
import { withSandbox } from '../support/sandbox';
import { makeTempDir } from '../support/tempDirs';

type SdkError = Error & {
  $metadata?: { httpStatusCode?: number };
  $response?: { headers: Record<string, string> };
  Endpoint?: string;
};
const BUCKET_REGION = 'eu-west-1';
const utf8 = (text: string) => new TextEncoder().encode(text);

describe('a staging bucket in another region than SSM', async () => {
  const fx = await withSandbox({ instances: 1, bucketRegion: BUCKET_REGION });
  const { info } = fx;
  const instanceId = fx.onlineInstanceIds[0];
  const s3Home = new S3Client({ ...fx.clientConfig, forcePathStyle: true, maxAttempts: 1 });
  const s3There = new S3Client({ ...fx.clientConfig, region: BUCKET_REGION, forcePathStyle: true, maxAttempts: 1 });
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => assert.fail('expected S3 to refuse'),
      (error: SdkError) => error,
    );

  test("SDK: requests signed for SSM's region get 301 PermanentRedirect naming the bucket's region; its own region works", async () => {
    assert.notEqual(info.region, BUCKET_REGION);
    assert.equal(info.bucketRegion, BUCKET_REGION);
    const head = await failure(s3Home.send(new HeadBucketCommand({ Bucket: info.bucket })));
    assert.equal(head.$metadata?.httpStatusCode, 301);
    assert.equal(
      head.name,
      'Unknown',
      'an empty HEAD body: the SDK cannot name the error (what users saw as UnknownError)',
    );
    assert.equal(head.$response?.headers['x-amz-bucket-region'], BUCKET_REGION);
    const list = await failure(s3Home.send(new ListObjectsV2Command({ Bucket: info.bucket })));
    assert.equal(list.name, 'PermanentRedirect');
    assert.equal(list.$metadata?.httpStatusCode, 301);
    assert.equal(list.Endpoint, `${info.bucket}.s3.${BUCKET_REGION}.amazonaws.com`);
    assert.equal(list.$response?.headers['x-amz-bucket-region'], BUCKET_REGION);
    assert.equal(
      (await s3Home.send(new GetBucketLocationCommand({ Bucket: info.bucket }))).LocationConstraint,
      BUCKET_REGION,
    );

    assert.equal((await s3There.send(new HeadBucketCommand({ Bucket: info.bucket }))).BucketRegion, BUCKET_REGION);
    await s3There.send(new PutObjectCommand({ Bucket: info.bucket, Key: 'region/object.txt', Body: 'here' }));
    const got = await s3There.send(new GetObjectCommand({ Bucket: info.bucket, Key: 'region/object.txt' }));
    assert.equal(await got.Body!.transformToString(), 'here');
  });

  test("SDK: presigned GET and POST signed for the wrong region are refused with the redirect; signed for the bucket's region they work", async () => {
    const key = 'region/object.txt';
    const wrongGet = await fetch(
      await getSignedUrl(s3Home, new GetObjectCommand({ Bucket: info.bucket, Key: key }), { expiresIn: 60 }),
    );
    assert.equal(wrongGet.status, 301);
    assert.equal(wrongGet.headers.get('x-amz-bucket-region'), BUCKET_REGION);
    assert.match(await wrongGet.text(), /<Code>PermanentRedirect<\/Code>/);
    const rightGet = await fetch(
      await getSignedUrl(s3There, new GetObjectCommand({ Bucket: info.bucket, Key: key }), { expiresIn: 60 }),
    );
    assert.equal(rightGet.status, 200);

    const post = async (client: S3Client) => {
      const { url, fields } = await createPresignedPost(client, {
        Bucket: info.bucket,
        Key: 'region/posted',
        Expires: 60,
      });
      const form = new FormData();
      for (const [name, value] of Object.entries(fields)) form.append(name, value);
      form.append('file', new Blob(['posted']), 'posted');
      return fetch(url, { method: 'POST', body: form, redirect: 'manual' });
    };
    const wrongPost = await post(s3Home);
    assert.equal(wrongPost.status, 301);
    assert.match(await wrongPost.text(), /<Code>PermanentRedirect<\/Code>/);
    assert.equal((await post(s3There)).status, 204);
  });

  test("AWS CLI: follows the redirect to the bucket's region, as it does against S3", async () => {
    const { stdout, stderr } = await promisify(execFile)(
      'aws',
      [
        '--endpoint-url',
        info.endpoint,
        '--debug',
        's3api',
        'list-objects-v2',
        '--bucket',
        info.bucket,
        '--prefix',
        'region/',
      ],
      { env: fx.env, maxBuffer: 32 * 1024 * 1024 },
    );
    assert.match(
      stderr,
      new RegExp(`configured for region ${info.region} but the bucket .* is in region ${BUCKET_REGION}`),
    );
    assert.deepEqual((JSON.parse(stdout) as { Contents: Array<{ Key: string }> }).Contents.map((c) => c.Key).sort(), [
      'region/object.txt',
      'region/posted',
    ]);
  });

  test("engine: stages, presigns and follows live output in the bucket's region; status from a fresh engine too", async () => {
    const engine = createEngine(fx.engineSettings);
    try {
      assert.deepEqual(await engine.bucketStatus(), {
        bucket: info.bucket,
        exists: true,
        isDefault: false,
        region: BUCKET_REGION,
      });
      const request: RunRequest = {
        source: {
          kind: 'file',
          fileName: 'where.py',
          content: utf8(
            'import os\nprint("ran on", ' +
              'os.environ["AWS_SSM_REGION_NAME"])\nopen(os.path.join(os.environ["EC2_RUNNER_ARTIFACTS"], ' +
              '"a.txt"), "w").write("artifact")\n' +
              tooLargeToInline(),
          ),
        },
        target: { kind: 'instances', instanceIds: [instanceId] },
      };
      const handle = await engine.start(request);
      const result = await handle.wait();
      const invocation = result.invocations[0];
      assert.equal(invocation.status, 'Success', invocation.reason);
      assert.equal(invocation.stdout, `ran on ${info.region}\n`);
      assert.equal(invocation.outputSource, 'live', 'the live channel (presigned POST) worked across regions');
      assert.deepEqual(invocation.artifacts, [{ path: 'a.txt', size: 8 }]);
      const staged = await s3There.send(
        new ListObjectsV2Command({ Bucket: info.bucket, Prefix: 'ec2-runner/staged/' }),
      );
      assert.ok(
        staged.Contents?.some((o) => o.Key?.endsWith('/where.py')),
        'staged in the bucket',
      );

      const fresh = createEngine(fx.engineSettings);
      try {
        const status = await fresh.status(handle.commandId);
        assert.equal(status.invocations[0].stdout, `ran on ${info.region}\n`);
        assert.equal(
          status.invocations[0].outputSource,
          'live',
          'a fresh engine follows the redirect when reading live output',
        );
      } finally {
        fresh.dispose();
      }
    } finally {
      engine.dispose();
    }
  });

  test("ec2-runner CLI: `bucket` shows the bucket's region, `run` works", async () => {
    const bucket = await runCli(['bucket'], fx.env);
    assert.equal(bucket.code, 0, bucket.stderr);
    assert.equal(bucket.stdout.toString(), `${info.bucket}: exists in ${BUCKET_REGION}\n`);
    const dir = makeTempDir('ec2r-region-');
    writeFileSync(join(dir, 'hello.py'), `print("hello across regions")\n${tooLargeToInline()}`);
    // generous: the machine may be busy
    const run = await runCli(['run', join(dir, 'hello.py'), '--instance', instanceId], fx.env, 180_000);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.toString(), 'hello across regions\n');
  });
});
