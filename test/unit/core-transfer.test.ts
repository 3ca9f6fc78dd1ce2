// Transfer and staging rules without a server (issue 18, mutation testing): presign lifetimes against
// the signing credentials, the live-output POST policy per instance and with SSE-KMS, and the staging
// decisions (skip, upload, which errors mean "not there"). The sandbox tests (staging-transfer,
// upload-policies) check the same URLs and policies against S3's own checks.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { S3Client } from '@aws-sdk/client-s3';
import { LIVE_CHUNK_MAX_BYTES, LIVE_POLICY_SLACK_SECONDS, MAX_PRESIGN_SECONDS } from '../../src/core/defaults';
import { checkFileName, sha256Hex, stagedKey, stageFile } from '../../src/core/staging';
import {
  cappedLifetimeSeconds,
  createLiveOutputTarget,
  downloadLifetimeSeconds,
  presignedDownloadUrl,
  signingCredentials,
} from '../../src/core/transfer';

const KEYS = { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' };

function client(credentials: () => Promise<object> = async () => KEYS): S3Client {
  return new S3Client({ region: 'eu-west-1', credentials: credentials as never, endpoint: 'http://127.0.0.1:9' });
}

describe('presign lifetimes and the signing credentials', () => {
  test('the staged file: delivery + slack, capped at 7 days', () => {
    assert.equal(downloadLifetimeSeconds(600), 600 + LIVE_POLICY_SLACK_SECONDS);
    assert.equal(downloadLifetimeSeconds(MAX_PRESIGN_SECONDS), MAX_PRESIGN_SECONDS);
  });

  test('never past the credentials’ expiry, at least a second; long-term keys: as wanted', () => {
    const now = 1_000_000;
    assert.equal(cappedLifetimeSeconds(3_600, { renewable: true }, now), 3_600);
    assert.equal(cappedLifetimeSeconds(3_600, { expiresAtMs: now + 600_999, renewable: true }, now), 600);
    assert.equal(cappedLifetimeSeconds(300, { expiresAtMs: now + 600_000, renewable: true }, now), 300);
    assert.equal(cappedLifetimeSeconds(300, { expiresAtMs: now - 5_000, renewable: false }, now), 1);
    assert.equal(cappedLifetimeSeconds(300, { expiresAtMs: now + 1_500, renewable: false }, now), 1);
    assert.equal(cappedLifetimeSeconds(300, { expiresAtMs: now + 2_000, renewable: false }, now), 2);
  });

  test('expiry and renewability from the SDK identity: keys in code or env vars are fixed', async () => {
    const expiration = new Date('2030-01-01T00:00:00Z');
    assert.deepEqual(await signingCredentials(client(async () => ({ ...KEYS, expiration }))), {
      expiresAtMs: expiration.getTime(),
      renewable: true,
    });
    assert.deepEqual(await signingCredentials(client()), { expiresAtMs: undefined, renewable: true });
    for (const source of ['CREDENTIALS_CODE', 'CREDENTIALS_ENV_VARS']) {
      const identity = { ...KEYS, $source: { [source]: 'x' } };
      assert.equal((await signingCredentials(client(async () => identity))).renewable, false, source);
    }
    const sso = { ...KEYS, $source: { CREDENTIALS_SSO: 'x' } };
    assert.equal((await signingCredentials(client(async () => sso))).renewable, true);
  });
});

describe('the live-output POST policy', () => {
  const policyOf = (fields: Record<string, string>) =>
    JSON.parse(Buffer.from(fields.Policy, 'base64').toString('utf8')) as { conditions: unknown[] };

  test("one instance's policy covers only its own keys; the key prefix stays the run's", async () => {
    const target = await createLiveOutputTarget(client(), 'b', 'p/runs/r/', 300, 'i-0123456789abcdef0');
    assert.equal(target.keyPrefix, 'p/runs/r/');
    assert.deepEqual(
      policyOf(target.fields).conditions.filter((c) => Array.isArray(c)),
      [
        ['starts-with', '$key', 'p/runs/r/i-0123456789abcdef0/'],
        ['content-length-range', 0, LIVE_CHUNK_MAX_BYTES],
      ],
    );
    assert.equal(target.fields.key, 'p/runs/r/i-0123456789abcdef0/${filename}');
  });

  test('SSE-KMS: the encryption fields are in the form and pinned by the policy', async () => {
    const target = await createLiveOutputTarget(client(), 'b', 'p/runs/r/', 300, undefined, { kmsKeyId: 'alias/k' });
    assert.equal(target.fields['x-amz-server-side-encryption'], 'aws:kms');
    assert.equal(target.fields['x-amz-server-side-encryption-aws-kms-key-id'], 'alias/k');
    assert.ok(
      policyOf(target.fields).conditions.some(
        (c) => JSON.stringify(c) === JSON.stringify({ 'x-amz-server-side-encryption-aws-kms-key-id': 'alias/k' }),
      ),
    );
  });

  test('the presigned GET names the object and its lifetime', async () => {
    const url = new URL(await presignedDownloadUrl(client(), 'b', 'p/staged/x/a b.py', 77));
    assert.equal(url.searchParams.get('X-Amz-Expires'), '77');
    assert.match(decodeURIComponent(url.pathname), /\/b\/p\/staged\/x\/a b\.py$/);
  });
});

describe('staging decisions', () => {
  const content = new TextEncoder().encode('print(1)\n');
  const sha = sha256Hex(content);

  /** A client whose HeadObject answers `head` (or throws it) and that records every command. */
  function fakeS3(head: unknown) {
    const sent: Array<{ name: string; input: Record<string, unknown> }> = [];
    const s3 = {
      send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
        sent.push({ name: command.constructor.name, input: command.input });
        if (command.constructor.name === 'HeadObjectCommand') {
          if (head instanceof Error) throw head;
          return head;
        }
        return {};
      },
    };
    return { s3: s3 as unknown as S3Client, sent };
  }
  const stage = (s3: S3Client, encryption?: { kmsKeyId: string }) =>
    stageFile(s3, { bucket: 'b', keyPrefix: 'p/', fileName: 'a.py', content, encryption });

  test('the same bytes with their recorded sha256: nothing uploaded', async () => {
    const { s3, sent } = fakeS3({ ContentLength: content.byteLength, Metadata: { sha256: sha } });
    assert.deepEqual(await stage(s3), {
      bucket: 'b',
      key: `p/staged/${sha}/a.py`,
      sha256: sha,
      size: content.byteLength,
      uploaded: false,
    });
    assert.deepEqual(
      sent.map((s) => s.name),
      ['HeadObjectCommand'],
    );
    assert.deepEqual(sent[0].input, { Bucket: 'b', Key: `p/staged/${sha}/a.py` });
  });

  test('another length or sha256, or none recorded: uploaded again with its sha256 and length', async () => {
    for (const head of [
      { ContentLength: content.byteLength + 1, Metadata: { sha256: sha } },
      { ContentLength: content.byteLength, Metadata: { sha256: '0'.repeat(64) } },
      { ContentLength: content.byteLength },
    ]) {
      const { s3, sent } = fakeS3(head);
      assert.equal((await stage(s3)).uploaded, true, JSON.stringify(head));
      assert.equal(sent[1].name, 'PutObjectCommand');
      assert.deepEqual(
        { ...sent[1].input, Body: undefined },
        {
          Bucket: 'b',
          Key: `p/staged/${sha}/a.py`,
          Body: undefined,
          ContentLength: content.byteLength,
          Metadata: { sha256: sha },
        },
      );
    }
  });

  test('NotFound and NoSuchKey mean "not there"; any other error is thrown before uploading', async () => {
    for (const name of ['NotFound', 'NoSuchKey']) {
      const { s3, sent } = fakeS3(Object.assign(new Error(name), { name }));
      assert.equal((await stage(s3, { kmsKeyId: 'k' })).uploaded, true);
      assert.equal(sent[1].input.ServerSideEncryption, 'aws:kms');
      assert.equal(sent[1].input.SSEKMSKeyId, 'k');
    }
    const denied = fakeS3(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    await assert.rejects(stage(denied.s3), /denied/);
    assert.equal(denied.sent.length, 1);
  });

  test('names: control characters and backslashes are refused; keys are content-addressed', () => {
    for (const bad of ['a\u0000', 'a\u001f', 'a\\b', 'a/b', '', '.', '..'])
      assert.throws(
        () => checkFileName(bad),
        /Invalid file name .*: give a plain file name without directories\./,
        JSON.stringify(bad),
      );
    assert.equal(checkFileName('a\u0020b.py'), 'a b.py');
    assert.equal(stagedKey('p/', 'abc', 'x.py'), 'p/staged/abc/x.py');
  });
});
