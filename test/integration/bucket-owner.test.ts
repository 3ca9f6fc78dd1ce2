// ExpectedBucketOwner on every S3 request the engine makes: the sandbox records each request on a
// bucket that lacks x-amz-expected-bucket-owner, and refuses a wrong owner as S3 does (403).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { createEngine } from '../../src/core';
import { tooLargeToInline } from '../support/runChecks';
import { withSandbox } from '../support/sandbox';

const utf8 = (text: string) => new TextEncoder().encode(text);

describe('ExpectedBucketOwner on every S3 request', async () => {
  const fx = await withSandbox({ instances: 1 });
  const { info, sandbox } = fx;
  const instanceId = fx.onlineInstanceIds[0];

  test('the sandbox records a request without the header and refuses a wrong owner with 403', async () => {
    const s3 = new S3Client({ ...fx.clientConfig, forcePathStyle: true, maxAttempts: 1 });
    sandbox.resetStats();
    await s3.send(new HeadBucketCommand({ Bucket: info.bucket }));
    assert.deepEqual(sandbox.callsWithoutExpectedOwner(), [`HeadBucket ${info.bucket}`]);
    await s3.send(new HeadBucketCommand({ Bucket: info.bucket, ExpectedBucketOwner: info.accountId }));
    assert.equal(sandbox.callsWithoutExpectedOwner().length, 1);
    const wrong = await s3
      .send(new HeadBucketCommand({ Bucket: info.bucket, ExpectedBucketOwner: '111122223333' }))
      .then(
        () => undefined,
        (e: Error & { $metadata?: { httpStatusCode?: number } }) => e,
      );
    assert.equal(wrong?.$metadata?.httpStatusCode, 403);
  });

  test('bucket status, staging, presigned GET, live output (read and listed), artifacts, attach and status all carry the account as owner', async () => {
    const engine = createEngine(fx.engineSettings);
    const fresh = createEngine(fx.engineSettings);
    try {
      sandbox.resetStats();
      assert.equal((await engine.bucketStatus()).exists, true);
      const handle = await engine.start({
        source: {
          kind: 'file',
          fileName: 'owner.py',
          content: utf8(
            `import os\nprint("owned")\nopen(os.path.join(os.environ["EC2_RUNNER_ARTIFACTS"], "a.txt"), ` +
              `"w").write("a")\n# ${Date.now()}\n${tooLargeToInline()}`,
          ),
        },
        target: { kind: 'instances', instanceIds: [instanceId] },
      });
      const invocation = (await handle.wait()).invocations[0];
      assert.deepEqual(
        [invocation.status, invocation.stdout, invocation.outputSource],
        ['Success', 'owned\n', 'live'],
        invocation.reason,
      );
      assert.deepEqual(invocation.artifacts, [{ path: 'a.txt', size: 1 }]);
      const attached = await (await fresh.attach(handle.commandId)).wait();
      assert.equal(attached.invocations[0].stdout, 'owned\n');
      assert.equal((await fresh.status(handle.commandId)).invocations[0].stdout, 'owned\n');
      // One instance's live output is read by GETs of its next key; tag targets list the run's prefix.
      const tagged = await (
        await engine.start({
          source: { kind: 'command', command: 'echo tagged' },
          target: { kind: 'tags', tags: [{ key: 'Role', value: 'worker' }] },
        })
      ).wait();
      assert.deepEqual(
        tagged.invocations.map((i) => i.stdout),
        ['tagged\n'],
      );

      const stats = sandbox.stats();
      for (const operation of ['HeadBucket', 'HeadObject', 'PutObject', 'GetObject', 'ListObjectsV2', 'PostObject']) {
        assert.ok(
          (stats[`s3:${operation}`] ?? 0) > 0,
          `the flow made s3:${operation} requests (${JSON.stringify(stats)})`,
        );
      }
      // Presigned POST policies cannot carry the header (S3 has no such form field): the engine checked the owner
      // before signing.
      assert.deepEqual(
        sandbox.callsWithoutExpectedOwner(),
        [],
        'every S3 request but the POST uploads carried x-amz-expected-bucket-owner',
      );
    } finally {
      engine.dispose();
      fresh.dispose();
    }
  });
});
