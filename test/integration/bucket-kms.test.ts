// A bucket whose policy requires SSE-KMS (sandbox --bucket-policy require-kms): S3's answers through
// the real SDK, the bucket default applied when a request names no encryption, and the engine and
// the ec2-runner CLI with and without the KMS key setting.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  GetBucketEncryptionCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketEncryptionCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { createEngine, RunnerError, type RunRequest } from '../../src/core';
import { EXTENSION_ADVICE } from '../../src/extension/advice';
import { runCli, tooLargeToInline } from '../support/runChecks';
import { withSandbox } from '../support/sandbox';
import { makeTempDir } from '../support/tempDirs';

type SdkError = Error & { $metadata?: { httpStatusCode?: number } };
const utf8 = (text: string) => new TextEncoder().encode(text);
/** A whole run through the CLI; generous, the machine may be busy. */
const CLI_RUN_TIMEOUT_MS = 180_000;

describe('a bucket whose policy requires SSE-KMS', async () => {
  const fx = await withSandbox({ instances: 1, bucketPolicy: 'require-kms' });
  const { info } = fx;
  const instanceId = fx.onlineInstanceIds[0];
  const s3 = new S3Client({ ...fx.clientConfig, forcePathStyle: true, maxAttempts: 1 });
  const head = (bucket: string, key: string) => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  const explicitDeny =
    /^User: arn:aws:iam::\d{12}:user\/sandbox is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::.+" with an explicit deny in a resource-based policy$/;
  const fileRequest = (text: string): RunRequest => ({
    source: {
      kind: 'file',
      fileName: 'kms.py',
      content: utf8(`print(${JSON.stringify(text)})\n${tooLargeToInline()}`),
    },
    target: { kind: 'instances', instanceIds: [instanceId] },
  });

  test('SDK: uploads without aws:kms are denied by the bucket policy; with it they pass; the default encryption is aws:kms', async () => {
    const encryption = await s3.send(new GetBucketEncryptionCommand({ Bucket: info.bucket }));
    const rule = encryption.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault;
    assert.deepEqual(
      { algorithm: rule?.SSEAlgorithm, key: rule?.KMSMasterKeyID },
      { algorithm: 'aws:kms', key: info.kmsKeyArn },
    );
    for (const ServerSideEncryption of [undefined, 'AES256'] as const) {
      const denied = await s3
        .send(new PutObjectCommand({ Bucket: info.bucket, Key: 'kms/plain', Body: 'x', ServerSideEncryption }))
        .then(
          () => undefined,
          (e: SdkError) => e,
        );
      assert.equal(denied?.name, 'AccessDenied', `ServerSideEncryption ${ServerSideEncryption}`);
      assert.equal(denied?.$metadata?.httpStatusCode, 403);
      assert.match(denied?.message ?? '', explicitDeny);
    }
    await s3.send(
      new PutObjectCommand({ Bucket: info.bucket, Key: 'kms/default-key', Body: 'x', ServerSideEncryption: 'aws:kms' }),
    );
    const stored = await head(info.bucket, 'kms/default-key');
    assert.equal(stored.ServerSideEncryption, 'aws:kms');
    assert.match(stored.SSEKMSKeyId ?? '', /^arn:aws:kms:[a-z0-9-]+:\d{12}:key\//);
    assert.notEqual(
      stored.SSEKMSKeyId,
      info.kmsKeyArn,
      'aws:kms without a key id: the AWS managed key aws/s3, as S3 documents',
    );
    const unknownKey = await s3
      .send(
        new PutObjectCommand({
          Bucket: info.bucket,
          Key: 'kms/x',
          Body: 'x',
          ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: 'arn:aws:kms:us-west-2:111122223333:key/nope',
        }),
      )
      .then(
        () => undefined,
        (e: SdkError) => e,
      );
    assert.equal(unknownKey?.name, 'KMS.NotFoundException');
  });

  test('SDK: a POST upload must carry x-amz-server-side-encryption as a field covered by the policy', async () => {
    const post = async (fields: Record<string, string>, extraFormFields: Record<string, string> = {}) => {
      const presigned = await createPresignedPost(s3, {
        Bucket: info.bucket,
        Key: 'kms/posted',
        Fields: fields,
        Expires: 60,
      });
      const form = new FormData();
      for (const [name, value] of Object.entries({ ...presigned.fields, ...extraFormFields })) form.append(name, value);
      form.append('file', new Blob(['posted']), 'posted');
      const response = await fetch(presigned.url, { method: 'POST', body: form });
      return { status: response.status, body: await response.text() };
    };
    const plain = await post({});
    assert.equal(plain.status, 403);
    assert.match(plain.body, /explicit deny in a resource-based policy/);
    const uncovered = await post({}, { 'x-amz-server-side-encryption': 'aws:kms' });
    assert.equal(uncovered.status, 403, 'a field the policy does not cover is refused');
    assert.match(uncovered.body, /Extra input fields: x-amz-server-side-encryption/);
    assert.equal(
      (
        await post({
          'x-amz-server-side-encryption': 'aws:kms',
          'x-amz-server-side-encryption-aws-kms-key-id': info.kmsKeyArn,
        })
      ).status,
      204,
    );
    const stored = await head(info.bucket, 'kms/posted');
    assert.deepEqual([stored.ServerSideEncryption, stored.SSEKMSKeyId], ['aws:kms', info.kmsKeyArn]);
  });

  test('SDK: a request naming no encryption gets the bucket default (AES256, or the KMS default once set)', async () => {
    const bucket = 'ec2-runner-kms-default-test';
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        CreateBucketConfiguration: { LocationConstraint: info.region as never },
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'before', Body: 'x' }));
    assert.equal((await head(bucket, 'before')).ServerSideEncryption, 'AES256');
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket: bucket,
        ServerSideEncryptionConfiguration: {
          Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: info.kmsKeyArn } }],
        },
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'after', Body: 'x' }));
    const after = await head(bucket, 'after');
    assert.deepEqual([after.ServerSideEncryption, after.SSEKMSKeyId], ['aws:kms', info.kmsKeyArn]);
  });

  test('engine without a KMS key: one message naming the setting, the flag and the bucket policy; nothing is sent', async () => {
    const engine = createEngine(fx.engineSettings);
    try {
      fx.sandbox.resetStats();
      await assert.rejects(engine.start(fileRequest('never')), (error: unknown) => {
        assert.ok(error instanceof RunnerError);
        assert.equal(error.code, 'BucketPolicyDenied');
        assert.match(
          error.message,
          new RegExp(`^S3 bucket ${info.bucket}'s bucket policy denies the upload \\(s3:PutObject, explicit deny\\)`),
        );
        assert.match(error.message, /configure the KMS key ARN the policy requires \(EC2_RUNNER_KMS_KEY_ID\)/);
        assert.match(
          EXTENSION_ADVICE.BucketPolicyDenied(error.data) ?? '',
          /^set ec2Runner\.kmsKeyId to the KMS key ARN/,
        );
        assert.match(error.message, /kms:GenerateDataKey/);
        return true;
      });
      assert.equal(fx.sandbox.stats()['ssm:SendCommand'], undefined, 'no command was sent');
    } finally {
      engine.dispose();
    }
  });

  test('engine with the KMS key: staging and live output pass the policy, every object is SSE-KMS with the key', async () => {
    const engine = createEngine({ ...fx.engineSettings, kmsKeyId: info.kmsKeyArn });
    try {
      const handle = await engine.start(fileRequest('encrypted'));
      const invocation = (await handle.wait()).invocations[0];
      assert.equal(invocation.status, 'Success', invocation.reason);
      assert.equal(invocation.stdout, 'encrypted\n');
      assert.equal(invocation.outputSource, 'live', 'the live POST carried the encryption fields');
      const exec = await engine.start({
        source: { kind: 'command', command: 'echo live too' },
        target: { kind: 'instances', instanceIds: [instanceId] },
      });
      const execResult = (await exec.wait()).invocations[0];
      assert.deepEqual([execResult.stdout, execResult.outputSource], ['live too\n', 'live']);
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: info.bucket, Prefix: 'ec2-runner/' }));
      const keys = (listed.Contents ?? []).map((o) => o.Key!);
      assert.ok(
        keys.some((k) => k.startsWith('ec2-runner/staged/')) && keys.some((k) => k.startsWith('ec2-runner/runs/')),
        keys.join(' '),
      );
      for (const key of keys) {
        const object = await head(info.bucket, key);
        assert.deepEqual([object.ServerSideEncryption, object.SSEKMSKeyId], ['aws:kms', info.kmsKeyArn], key);
      }
    } finally {
      engine.dispose();
    }
  });

  test('engine with a key S3 does not know: one message naming the setting, nothing sent', async () => {
    const engine = createEngine({ ...fx.engineSettings, kmsKeyId: 'alias/not-a-key' });
    try {
      fx.sandbox.resetStats();
      await assert.rejects(engine.start(fileRequest('bad key')), (error: unknown) => {
        assert.ok(error instanceof RunnerError);
        assert.equal(error.code, 'KmsKeyInvalid');
        assert.match(
          error.message,
          /^S3 cannot use the KMS key \(the configured KMS key is alias\/not-a-key\) \(KMS\.NotFoundException: [^)]+\): configure a KMS key id or ARN/,
        );
        return true;
      });
      assert.equal(fx.sandbox.stats()['ssm:SendCommand'], undefined, 'no command was sent');
    } finally {
      engine.dispose();
    }
  });

  test('ec2-runner CLI: without the key one line and exit 253 (configuration); with --kms-key-id or EC2_RUNNER_KMS_KEY_ID the run works', async () => {
    const dir = makeTempDir('ec2r-kms-');
    const file = join(dir, 'cli.py');
    writeFileSync(file, `print("kms from the cli")\n${tooLargeToInline()}`);
    const denied = await runCli(['run', file, '--instance', instanceId], fx.env);
    assert.equal(denied.code, 253);
    assert.match(
      denied.stderr,
      /^ec2-runner: S3 bucket \S+'s bucket policy denies the upload \(s3:PutObject, explicit deny\), as a policy requiring SSE-KMS does: pass --kms-key-id \(or set EC2_RUNNER_KMS_KEY_ID\)[^\n]*\n$/,
    );
    writeFileSync(file, `print("kms from the cli, flag")\n${tooLargeToInline()}`);
    const flag = await runCli(
      ['run', file, '--instance', instanceId, '--kms-key-id', info.kmsKeyArn],
      fx.env,
      CLI_RUN_TIMEOUT_MS,
    );
    assert.equal(flag.code, 0, flag.stderr);
    assert.equal(flag.stdout.toString(), 'kms from the cli, flag\n');
    writeFileSync(file, `print("kms from the cli, env")\n${tooLargeToInline()}`);
    const env = await runCli(
      ['run', file, '--instance', instanceId],
      { ...fx.env, EC2_RUNNER_KMS_KEY_ID: info.kmsKeyArn },
      CLI_RUN_TIMEOUT_MS,
    );
    assert.equal(env.code, 0, env.stderr);
    assert.equal(env.stdout.toString(), 'kms from the cli, env\n');
  });
});
