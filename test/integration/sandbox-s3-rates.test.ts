// S3's per-prefix request-rate limits in the sandbox (s3PutRps / s3GetRps): above the rate every
// S3 path — SDK calls, presigned GETs, presigned POST uploads — answers 503 SlowDown in S3's XML
// shape; and the engine, the SDK and the instance-side wrapper ride through it losing nothing.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createEngine } from '../../src/core';
import { parseSandboxArgs } from '../../src/sandbox/cli';
import { partitionOf } from '../../src/sandbox/s3RateLimits';
import { withSandbox } from '../support/sandbox';

type SdkError = Error & { $metadata?: { httpStatusCode?: number } };

describe('sandbox S3 request-rate limits', async () => {
  const fx = await withSandbox({ instances: 1, deliveryDelayMs: 20 });
  const { sandbox, info, clientConfig } = fx;
  const s3Once = new S3Client({ ...clientConfig, forcePathStyle: true, maxAttempts: 1 });
  const bucket = info.bucket;
  const put = (key: string) => s3Once.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'x' }));

  test("a partition is the bucket + the first three key segments (a run directory), or the key's directory", () => {
    assert.equal(partitionOf('ec2-runner/runs/abc/i-1/00000001'), 'ec2-runner/runs/abc/');
    assert.equal(partitionOf('ec2-runner/staged/ff00/train.py'), 'ec2-runner/staged/ff00/');
    assert.equal(partitionOf('a/b'), 'a/');
    assert.equal(partitionOf('top'), '');
  });

  test('s3PutRps: PUTs above the rate in one prefix get 503 SlowDown; another prefix has its own budget; stats count them', async () => {
    for (let i = 0; i < 3; i++) await put(`seed/get/${i}`);
    sandbox.resetStats();
    sandbox.configure({ s3PutRps: 2 });
    try {
      const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => put(`p/run-a/x/${i}`)));
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      assert.ok(refused.length >= 5, `at most ~2 of 8 PUTs pass, ${8 - refused.length} passed`);
      for (const { reason } of refused) {
        assert.equal((reason as SdkError).name, 'SlowDown');
        assert.equal((reason as SdkError).message, 'Please reduce your request rate.');
        assert.equal((reason as SdkError).$metadata?.httpStatusCode, 503);
      }
      await put('p/run-b/x/0'); // another run directory: its own partition
      await s3Once.send(new GetObjectCommand({ Bucket: bucket, Key: 'seed/get/0' })); // GETs are not PUTs
      assert.equal(sandbox.stats()['slowDown:s3:PutObject'], refused.length);
    } finally {
      sandbox.configure({ s3PutRps: 0 });
    }
    await Promise.all(Array.from({ length: 8 }, (_, i) => put(`p/run-a/x/${i}`)));
  });

  test('s3GetRps: GetObject and ListObjectsV2 share the GET budget of their prefix; the SDK retries SlowDown through', async () => {
    sandbox.configure({ s3GetRps: 3 });
    try {
      const calls = Array.from({ length: 10 }, (_, i) =>
        i % 2
          ? s3Once.send(new GetObjectCommand({ Bucket: bucket, Key: 'seed/get/1' }))
          : s3Once.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'seed/get/' })),
      );
      const refused = (await Promise.allSettled(calls)).filter(
        (r): r is PromiseRejectedResult => r.status === 'rejected',
      );
      assert.ok(refused.length >= 6, `at most ~3 of 10 GET/LIST pass, ${10 - refused.length} passed`);
      assert.ok(refused.every((r) => (r.reason as SdkError).name === 'SlowDown'));
      // The default SDK client (retries, as the engine's) gets every answer, only later.
      const patient = new S3Client({ ...clientConfig, forcePathStyle: true, maxAttempts: 10, retryMode: 'adaptive' });
      const bodies = await Promise.all(
        Array.from({ length: 8 }, () =>
          patient
            .send(new GetObjectCommand({ Bucket: bucket, Key: 'seed/get/2' }))
            .then((o) => o.Body!.transformToString()),
        ),
      );
      assert.deepEqual(bodies, Array(8).fill('x'));
    } finally {
      sandbox.configure({ s3GetRps: 0 });
    }
  });

  test("presigned GETs and presigned POST uploads get SlowDown in S3's XML error shape", async () => {
    const url = await getSignedUrl(s3Once, new GetObjectCommand({ Bucket: bucket, Key: 'seed/get/0' }), {
      expiresIn: 60,
    });
    const post = await createPresignedPost(s3Once, {
      Bucket: bucket,
      Key: 'post/run/${filename}',
      Conditions: [['starts-with', '$key', 'post/run/']],
      Expires: 60,
    });
    const upload = (i: number) => {
      const form = new FormData();
      for (const [name, value] of Object.entries(post.fields)) form.append(name, value);
      form.append('file', new Blob(['data']), `obj-${i}`);
      return fetch(post.url, { method: 'POST', body: form });
    };
    sandbox.configure({ s3GetRps: 1, s3PutRps: 1 });
    try {
      for (const responses of [
        await Promise.all([1, 2, 3, 4].map(() => fetch(url))),
        await Promise.all([1, 2, 3, 4].map(upload)),
      ]) {
        const statuses = responses.map((r) => r.status);
        assert.ok(statuses.filter((s) => s === 503).length >= 2, `statuses ${statuses.join(',')}`);
        const refused = responses.find((r) => r.status === 503)!;
        assert.equal(refused.headers.get('content-type'), 'application/xml');
        assert.match(
          await refused.text(),
          /<Error><Code>SlowDown<\/Code><Message>Please reduce your request rate\.<\/Message>.*<RequestId>/,
        );
      }
    } finally {
      sandbox.configure({ s3GetRps: 0, s3PutRps: 0 });
    }
  });

  test('a run whose live-output POSTs are refused for longer than the ordinary retries, and whose reads are throttled, loses no byte', async () => {
    const engine = createEngine(fx.engineSettings);
    sandbox.resetStats();
    // Below one request per second the token bucket never fills: every POST is refused until lifted.
    sandbox.configure({ s3PutRps: 0.001, s3GetRps: 2 });
    // Lifted 13 s after the first refusal: longer than 6 ordinary attempts with jittered backoff (at most 11.6 s).
    let lift: NodeJS.Timeout | undefined;
    const watcher = setInterval(() => {
      if (lift || !sandbox.stats()['slowDown:s3:PostObject']) return;
      lift = setTimeout(() => sandbox.configure({ s3PutRps: 0 }), 13_000);
    }, 50);
    try {
      const handle = await engine.start({
        source: {
          kind: 'command',
          command: 'i=0; while [ $i -lt 40 ]; do echo "line $i"; i=$((i+1)); sleep 0.05; done; exit 3',
        },
        target: { kind: 'instances', instanceIds: [fx.onlineInstanceIds[0]] },
      });
      const received: Buffer[] = [];
      handle.onOutput((c) => c.stream === 'stdout' && received.push(Buffer.from(c.data)));
      const result = await handle.wait();
      const expected = Array.from({ length: 40 }, (_, i) => `line ${i}\n`).join('');
      const invocation = result.invocations[0];
      assert.equal(invocation.exitCode, 3);
      assert.equal(invocation.outputSource, 'live', invocation.reason);
      assert.equal(invocation.stdout, expected);
      assert.equal(Buffer.concat(received).toString('utf8'), expected);
      const stats = sandbox.stats();
      assert.ok(
        (stats['slowDown:s3:PostObject'] ?? 0) >= 3,
        `the wrapper's POSTs met SlowDown: ${JSON.stringify(stats)}`,
      );
      assert.ok(
        (stats['slowDown:s3:GetObject'] ?? 0) + (stats['slowDown:s3:ListObjectsV2'] ?? 0) > 0,
        `the client's reads met SlowDown: ${JSON.stringify(stats)}`,
      );
    } finally {
      clearInterval(watcher);
      clearTimeout(lift);
      sandbox.configure({ s3PutRps: 0, s3GetRps: 0 });
      engine.dispose();
    }
  });

  test('`ec2-runner sandbox` takes --s3-put-rps / --s3-get-rps and their config keys', () => {
    assert.deepEqual(parseSandboxArgs(['--s3-put-rps', '3500', '--s3-get-rps=5500']).options, {
      s3PutRps: 3500,
      s3GetRps: 5500,
    });
    assert.throws(() => sandbox.configure({ s3GetRps: -1 }), /s3GetRps must be a non-negative number/);
  });
});
