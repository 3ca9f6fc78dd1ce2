// Staging and the instance's transfer URLs against the sandbox's S3 with the real SDK client:
// content-addressed keys, skipped re-uploads, a replaced object behind our back, file-name checks,
// the live-output POST policy's prefix and size limits, presigned lifetimes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { LIVE_CHUNK_MAX_BYTES, LIVE_POLICY_SLACK_SECONDS, MAX_PRESIGN_SECONDS } from '../../src/core/defaults';
import { checkFileName, sha256Hex, stageFile, stagedKey } from '../../src/core/staging';
import {
  createLiveOutputTarget,
  presignedDownloadUrl,
  presignLifetimeSeconds,
  runPrefixOf,
} from '../../src/core/transfer';
import { withSandbox } from '../support/sandbox';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('staging and transfer URLs on the sandbox', async () => {
  const { info, clientConfig, sandbox } = await withSandbox({ instances: 1 });
  const s3 = new S3Client({ ...clientConfig, forcePathStyle: true });
  const bucket = info.bucket;
  const puts = () => sandbox.stats()['s3:PutObject'] ?? 0;

  test('a file lands on <prefix>staged/<sha256>/<name> with its sha256 recorded, encrypted; the same bytes are not uploaded again', async () => {
    const content = bytes(`print("staged ${Date.now()}")\n`);
    const sha = sha256Hex(content);
    assert.match(sha, /^[0-9a-f]{64}$/);
    const before = puts();
    const first = await stageFile(s3, { bucket, keyPrefix: 'p/', fileName: 'a.py', content });
    assert.deepEqual(first, {
      bucket,
      key: `p/staged/${sha}/a.py`,
      sha256: sha,
      size: content.byteLength,
      uploaded: true,
    });
    assert.equal(first.key, stagedKey('p/', sha, 'a.py'));
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: first.key }));
    assert.equal(head.Metadata?.sha256, sha);
    assert.equal(head.ServerSideEncryption, 'AES256');
    assert.equal(head.ContentLength, content.byteLength);
    const second = await stageFile(s3, { bucket, keyPrefix: 'p/', fileName: 'a.py', content });
    assert.equal(second.uploaded, false);
    assert.equal(puts() - before, 1, 'one PutObject for two stagings');
  });

  test('an object replaced behind our back (other bytes, or no recorded sha256) is uploaded again', async () => {
    const content = bytes('echo original\n');
    const staged = await stageFile(s3, { bucket, keyPrefix: 'q/', fileName: 'b.sh', content });
    // Same length, other bytes, the right metadata: the length matches, the content does not.
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: staged.key,
        Body: 'echo tampered\n',
        Metadata: { sha256: staged.sha256 },
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: staged.key, Body: 'echo tamper!!\n', Metadata: {} }));
    const again = await stageFile(s3, { bucket, keyPrefix: 'q/', fileName: 'b.sh', content });
    assert.equal(again.uploaded, true);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: staged.key }));
    assert.equal(await got.Body!.transformToString(), 'echo original\n');
    // Same metadata, other length.
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: staged.key, Body: 'x', Metadata: { sha256: staged.sha256 } }),
    );
    assert.equal((await stageFile(s3, { bucket, keyPrefix: 'q/', fileName: 'b.sh', content })).uploaded, true);
  });

  test('a missing bucket is the SDK error, not a silent upload', async () => {
    await assert.rejects(
      stageFile(s3, { bucket: 'no-such-bucket-here', keyPrefix: '', fileName: 'c.py', content: bytes('x') }),
      (error: Error) => /NoSuchBucket|NotFound/.test(error.name),
    );
  });

  test('file names: plain names pass, directories, dots and control characters do not', () => {
    for (const ok of ['a.py', 'with space.sh', 'ünïcode.py', '.hidden', '..x']) assert.equal(checkFileName(ok), ok);
    for (const bad of [
      '',
      '.',
      '..',
      'a/b.py',
      'a\\b.py',
      'tab\there.py',
      'nul\u0000.py',
      'line\nbreak.py',
      '\u001f.py',
    ]) {
      assert.throws(
        () => checkFileName(bad),
        (error: Error & { code?: string }) =>
          error.code === 'InvalidFileName' && error.message.includes(JSON.stringify(bad)),
        bad,
      );
    }
  });

  test('presigned lifetimes: delivery + execution + slack, capped at 7 days', () => {
    assert.equal(presignLifetimeSeconds(600, 3600), 600 + 3600 + LIVE_POLICY_SLACK_SECONDS);
    assert.equal(presignLifetimeSeconds(0, 0), LIVE_POLICY_SLACK_SECONDS);
    assert.equal(presignLifetimeSeconds(MAX_PRESIGN_SECONDS, 1), MAX_PRESIGN_SECONDS);
    assert.equal(presignLifetimeSeconds(MAX_PRESIGN_SECONDS - LIVE_POLICY_SLACK_SECONDS - 1, 1), MAX_PRESIGN_SECONDS);
    assert.equal(runPrefixOf('ec2-runner/', 'abc'), 'ec2-runner/runs/abc/');
  });

  test('the live-output POST accepts any key under the run prefix and nothing outside it or over the size cap', async () => {
    const runPrefix = runPrefixOf('ec2-runner/', `run-${Date.now()}`);
    const target = await createLiveOutputTarget(s3, bucket, runPrefix, 300);
    assert.equal(target.keyPrefix, runPrefix);
    const policy = JSON.parse(Buffer.from(target.fields.Policy, 'base64').toString('utf8')) as {
      expiration: string;
      conditions: unknown[];
    };
    assert.deepEqual(
      policy.conditions.filter((c) => Array.isArray(c)),
      [
        ['starts-with', '$key', runPrefix],
        ['content-length-range', 0, LIVE_CHUNK_MAX_BYTES],
      ],
    );
    const expiresInS = (Date.parse(policy.expiration) - Date.now()) / 1000;
    assert.ok(expiresInS > 280 && expiresInS <= 301, `expires in ${expiresInS} s`);
    const post = async (key: string, body: string) => {
      const form = new FormData();
      for (const [name, value] of Object.entries(target.fields)) form.append(name, value);
      form.append('key', key);
      form.append('file', new Blob([body]));
      return (await fetch(target.url, { method: 'POST', body: form })).status;
    };
    assert.equal(await post(`${runPrefix}i-1/000001`, 'frames'), 204);
    assert.equal(await post(`ec2-runner/runs/other/i-1/000001`, 'frames'), 403);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${runPrefix}i-1/000001` }));
    assert.equal(await got.Body!.transformToString(), 'frames');
  });

  test('the presigned GET reads the staged file without credentials, until it expires', async () => {
    const staged = await stageFile(s3, { bucket, keyPrefix: 'g/', fileName: 'd.py', content: bytes('print(1)\n') });
    const url = await presignedDownloadUrl(s3, bucket, staged.key, 60);
    const response = await fetch(url);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), 'print(1)\n');
    assert.match(url, /X-Amz-Expires=60/);
    const expired = await presignedDownloadUrl(s3, bucket, staged.key, 1);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    assert.equal((await fetch(expired)).status, 403);
  });
});
