// The sandbox's browser-form POST Object on its own (mutation testing): handlePostObject and verifyPostPrefix called
// directly with hand-built multipart bodies and a verifier that accepts every signature, so each check of the form,
// the policy document and its conditions meets its own refusal, as real S3 gives it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AwsError } from '../../src/sandbox/errors';
import type { ApiRequest } from '../../src/sandbox/http';
import { ObjectStore } from '../../src/sandbox/objectStore';
import { sandboxKms } from '../../src/sandbox/bucketRules';
import { handlePostObject, POST_FIELDS_MAX_BYTES, verifyPostPrefix } from '../../src/sandbox/postObject';
import type { S3Context } from '../../src/sandbox/s3Api';
import type { SigV4Verifier } from '../../src/sandbox/sigv4';
import { makeTempDir } from '../support/tempDirs';

const REGION = 'eu-west-1';
const BUCKET = 'post-bucket';
const verifier = { verifyPolicySignature: async () => REGION } as unknown as SigV4Verifier;

function context(): S3Context {
  const store = new ObjectStore(makeTempDir('post-object-'));
  store.createBucket(BUCKET);
  return {
    store,
    accountId: '123456789012',
    region: REGION,
    kms: sandboxKms('123456789012', REGION),
    withoutExpectedOwner: [],
  };
}

const future = () => new Date(Date.now() + 3600_000).toISOString();
const encodePolicy = (conditions: unknown[], expiration: string = future()) =>
  Buffer.from(JSON.stringify({ expiration, conditions })).toString('base64');

interface FormOptions {
  fields?: Record<string, string>;
  conditions?: unknown[];
  policy?: string;
  file?: string | null;
  fileName?: string;
  bucket?: string;
}

async function request(options: FormOptions): Promise<ApiRequest> {
  const form = new FormData();
  const fields = { key: 'dir/out.txt', ...options.fields };
  form.set(
    'policy',
    options.policy ?? encodePolicy(options.conditions ?? [{ bucket: BUCKET }, ['starts-with', '$key', '']]),
  );
  form.set('x-amz-signature', 'sig');
  for (const [name, value] of Object.entries(fields)) form.set(name, value);
  if (options.file !== null) form.set('file', new Blob([options.file ?? 'hello']), options.fileName ?? 'local.txt');
  const built = new Request('http://x/', { method: 'POST', body: form });
  return raw(Buffer.from(await built.arrayBuffer()), built.headers.get('content-type')!, options.bucket);
}

function raw(body: Buffer, contentType: string, bucket = BUCKET): ApiRequest {
  const headers = { 'content-type': contentType };
  return { method: 'POST', rawPath: `/${bucket}`, rawQuery: '', query: [], headers, body, requestId: 'r' };
}

async function refused(
  ctx: S3Context,
  req: ApiRequest | Promise<ApiRequest>,
  code: string,
  status: number,
  text: RegExp,
) {
  await assert.rejects(handlePostObject(await req, ctx, verifier), (error: unknown) => {
    assert.ok(error instanceof AwsError);
    assert.equal(error.code, code);
    assert.equal(error.status, status);
    assert.match(error.message, text);
    return true;
  });
}

describe('POST Object form and response', () => {
  test('a missing bucket is NoSuchBucket 404 naming the bucket', async () => {
    const ctx = context();
    await assert.rejects(handlePostObject(await request({ bucket: 'nope-bucket' }), ctx, verifier), (e: AwsError) => {
      assert.equal(e.code, 'NoSuchBucket');
      assert.equal(e.status, 404);
      assert.equal(e.details.BucketName, 'nope-bucket');
      assert.equal(e.message, 'The specified bucket does not exist');
      return true;
    });
  });

  test('a form without a key field is InvalidArgument with ArgumentName key', async () => {
    const form = new FormData();
    form.set('policy', encodePolicy([]));
    form.set('file', new Blob(['x']), 'a.txt');
    const built = new Request('http://x/', { method: 'POST', body: form });
    const req = raw(Buffer.from(await built.arrayBuffer()), built.headers.get('content-type')!);
    await assert.rejects(handlePostObject(req, context(), verifier), (e: AwsError) => {
      assert.equal(e.code, 'InvalidArgument');
      assert.equal(e.status, 400);
      assert.match(e.message, /must contain a field named 'key'/);
      assert.equal(e.details.ArgumentName, 'key');
      return true;
    });
  });

  test('${filename} in the key becomes the uploaded file name, everywhere it appears', async () => {
    const ctx = context();
    const fields = { key: 'up/${filename}.d/${filename}' };
    const res = await handlePostObject(await request({ fields, fileName: 'data.bin' }), ctx, verifier);
    assert.equal(res.headers!.location, `/${BUCKET}/up/data.bin.d/data.bin`);
    assert.ok(ctx.store.bucket(BUCKET)!.objects.has('up/data.bin.d/data.bin'));
  });

  test('fields the policy does not name are refused as extra input fields', async () => {
    const req = request({ fields: { 'content-type': 'text/plain', acl: 'private' } });
    await refused(
      context(),
      req,
      'AccessDenied',
      403,
      /^Invalid according to Policy: Extra input fields: content-type, acl$/,
    );
  });

  test('policy, signatures, file and x-ignore-* need no condition; x-amz-meta-* become metadata', async () => {
    const ctx = context();
    const fields = {
      'x-amz-meta-Owner': 'me',
      'x-ignore-note': 'n',
      awsaccesskeyid: 'a',
      signature: 's',
    };
    const conditions = [{ bucket: BUCKET }, ['starts-with', '$key', ''], { 'x-amz-meta-owner': 'me' }];
    const res = await handlePostObject(await request({ fields, conditions }), ctx, verifier);
    assert.equal(res.status, 204);
    assert.deepEqual(ctx.store.bucket(BUCKET)!.objects.get('dir/out.txt')!.metadata, { owner: 'me' });
  });

  test('x-amz-* fields other than the signing ones still need a condition', async () => {
    const req = request({ fields: { 'x-amz-meta-owner': 'me' } });
    await refused(context(), req, 'AccessDenied', 403, /Extra input fields: x-amz-meta-owner$/);
  });

  test('success_action_status 201 answers an XML PostResponse', async () => {
    const conditions = [{ bucket: BUCKET }, ['starts-with', '$key', ''], { success_action_status: '201' }];
    const res = await handlePostObject(
      await request({ fields: { success_action_status: '201' }, conditions }),
      context(),
      verifier,
    );
    assert.equal(res.status, 201);
    assert.equal(res.headers!['content-type'], 'application/xml');
    const etag = res.headers!.etag;
    assert.match(String(etag), /^"[0-9a-f]{32}"$/);
    const body = String(res.body);
    assert.match(body, /^<\?xml/);
    assert.ok(body.includes(`<PostResponse><Location>/${BUCKET}/dir/out.txt</Location><Bucket>${BUCKET}</Bucket>`));
    assert.ok(body.includes(`<Key>dir/out.txt</Key><ETag>`));
    assert.ok(body.endsWith('</ETag></PostResponse>'));
  });

  test('success_action_status 200 answers 200 without a body, anything else 204', async () => {
    for (const [status, expected] of [
      ['200', 200],
      ['202', 204],
    ] as const) {
      const conditions = [{ bucket: BUCKET }, ['starts-with', '$key', ''], ['eq', '$success_action_status', status]];
      const res = await handlePostObject(
        await request({ fields: { success_action_status: status }, conditions }),
        context(),
        verifier,
      );
      assert.equal(res.status, expected);
      assert.equal(res.body, undefined);
      assert.equal(res.headers!['content-type'], undefined);
    }
    const res = await handlePostObject(await request({}), context(), verifier);
    assert.equal(res.status, 204);
    assert.match(String(res.headers!.etag), /^"[0-9a-f]{32}"$/);
  });

  test('the Location header keeps slashes and percent-encodes other characters', async () => {
    const res = await handlePostObject(await request({ fields: { key: 'a b/c+d&é' } }), context(), verifier);
    assert.equal(res.headers!.location, `/${BUCKET}/a%20b/c%2Bd%26%C3%A9`);
  });
});

describe('POST Object: what reaches the signature check, the rate limits and the store', () => {
  test('signing fields reach the signature check; type and encryption reach the store and the bucket policy', async () => {
    const ctx = context();
    const signed: unknown[] = [];
    const recording = {
      verifyPolicySignature: async (input: unknown) => (signed.push(input), REGION),
    } as unknown as SigV4Verifier;
    const fields = {
      'x-amz-credential': 'AKIA/20260102/eu-west-1/s3/aws4_request',
      'x-amz-date': '20260102T030405Z',
      'x-amz-algorithm': 'AWS4-HMAC-SHA256',
      'x-amz-security-token': 'token',
      'content-type': 'text/csv',
      'x-amz-server-side-encryption': 'aws:kms',
      'x-amz-server-side-encryption-aws-kms-key-id': ctx.kms.keyArn,
    };
    const conditions = [
      { bucket: BUCKET },
      ['starts-with', '$key', ''],
      ...Object.entries(fields).map(([k, v]) => ({ [k]: v })),
    ];
    const policy = encodePolicy(conditions);
    const res = await handlePostObject(await request({ fields, policy }), ctx, recording);
    assert.deepEqual(signed, [
      {
        policy,
        signature: 'sig',
        credential: fields['x-amz-credential'],
        date: fields['x-amz-date'],
        algorithm: fields['x-amz-algorithm'],
        securityToken: 'token',
      },
    ]);
    const stored = ctx.store.bucket(BUCKET)!.objects.get('dir/out.txt')!;
    ctx.store.bucket(BUCKET)!.policy = 'require-kms';
    assert.equal((await handlePostObject(await request({ fields, policy }), ctx, recording)).status, 204, 'aws:kms');
    assert.equal(stored.contentType, 'text/csv');
    assert.equal(stored.serverSideEncryption, 'aws:kms');
    assert.equal(stored.kmsKeyId, ctx.kms.keyArn);
    assert.equal(res.headers!['x-amz-server-side-encryption-aws-kms-key-id'], ctx.kms.keyArn);
  });

  test('conditions see the key after ${filename} is replaced; the rate limits see PostObject and that key', async () => {
    const ctx = context();
    const checked: unknown[] = [];
    ctx.rateLimits = { check: (_req: ApiRequest, op: string, key?: string) => checked.push([op, key]) } as never;
    const conditions = [{ bucket: BUCKET }, ['eq', '$key', 'dir/local.txt']];
    const res = await handlePostObject(
      await request({ fields: { key: 'dir/${filename}' }, conditions }),
      ctx,
      verifier,
    );
    assert.equal(res.status, 204);
    assert.deepEqual(checked, [['PostObject', 'dir/local.txt']]);
  });
});

describe('POST Object multipart parsing', () => {
  const part = (name: string, value: string, extra = '') =>
    `--XyZ\r\nContent-Disposition: form-data; name="${name}"${extra}\r\n\r\n${value}\r\n`;
  const body = (...parts: string[]) => Buffer.from(parts.join('') + '--XyZ--\r\n', 'latin1');
  const policyPart = part('Policy', encodePolicy([{ bucket: BUCKET }, ['starts-with', '$key', '']]));

  test('a quoted and an unquoted boundary both parse', async () => {
    const full = body(policyPart, part('key', 'k.txt'), part('file', 'abc', '; filename="f.txt"'));
    for (const type of ['multipart/form-data; boundary="XyZ"', 'multipart/form-data; boundary=XyZ']) {
      const res = await handlePostObject(raw(full, type), context(), verifier);
      assert.equal(res.status, 204);
      await verifyPostPrefix(full, type, false, verifier);
    }
  });

  test('a content type without a boundary is MalformedPOSTRequest', async () => {
    const full = body(policyPart, part('key', 'k'), part('file', 'abc'));
    await refused(
      context(),
      raw(full, 'multipart/form-data'),
      'MalformedPOSTRequest',
      400,
      /not well-formed multipart/,
    );
    await assert.rejects(verifyPostPrefix(full, 'multipart/form-data', true, verifier), {
      code: 'MalformedPOSTRequest',
    });
  });

  test('a prefix of POST_FIELDS_MAX_BYTES reaching the file passes; one without the file is too large', async () => {
    const type = 'multipart/form-data; boundary=XyZ';
    const head = policyPart + part('key', 'k');
    const fileHead = '--XyZ\r\nContent-Disposition: form-data; name="file"\r\n\r\n';
    const pad = part('x-ignore-pad', 'p'.repeat(POST_FIELDS_MAX_BYTES - head.length - fileHead.length - 64));
    const prefix = Buffer.from(head + pad + fileHead, 'latin1');
    assert.equal(prefix.length, POST_FIELDS_MAX_BYTES);
    await verifyPostPrefix(prefix, type, false, verifier);
    const cut = prefix.subarray(0, prefix.length - 1);
    await assert.rejects(verifyPostPrefix(cut, type, false, verifier), (e: AwsError) => {
      assert.equal(e.code, 'MaxPostPreDataLengthExceededError');
      assert.equal(e.status, 400);
      assert.match(e.message, /fields preceding the upload file were too large/);
      return true;
    });
    await verifyPostPrefix(cut, type, true, verifier); // the whole body: the full parser judges it
  });

  test('a body without a file part is InvalidArgument naming file', async () => {
    const req = request({ file: null });
    await assert.rejects(handlePostObject(await req, context(), verifier), (e: AwsError) => {
      assert.equal(e.code, 'InvalidArgument');
      assert.match(e.message, /exactly one file upload/);
      assert.equal(e.details.ArgumentName, 'file');
      return true;
    });
  });

  test('a file given as a plain string field is stored as its text, with an empty file name', async () => {
    const ctx = context();
    const full = body(policyPart, part('key', 'x/${filename}'), part('FILE', 'plain text'), part('acl', 'ignored'));
    const res = await handlePostObject(raw(full, 'multipart/form-data; boundary=XyZ'), ctx, verifier);
    assert.equal(res.headers!.location, `/${BUCKET}/x/`);
    assert.equal(ctx.store.bucket(BUCKET)!.objects.get('x/')!.size, 'plain text'.length);
  });
});

describe('POST Object policy document', () => {
  const invalid = /^Invalid Policy: Invalid JSON or missing expiration\/conditions\.$/;
  test('a policy that is not base64 JSON, or lacks expiration or conditions, is InvalidPolicyDocument', async () => {
    const docs = ['%%%', Buffer.from('{"conditions":[]}').toString('base64')];
    docs.push(Buffer.from(JSON.stringify({ expiration: future() })).toString('base64'));
    docs.push(Buffer.from(JSON.stringify({ expiration: 'soon', conditions: [] })).toString('base64'));
    docs.push(Buffer.from(JSON.stringify({ expiration: future(), conditions: {} })).toString('base64'));
    // A number is not a date-time string, though Date.parse would read 2999 as a year.
    docs.push(Buffer.from(JSON.stringify({ expiration: 2999, conditions: [] })).toString('base64'));
    for (const policy of docs) await refused(context(), request({ policy }), 'InvalidPolicyDocument', 400, invalid);
  });

  test('an expired policy is refused before its conditions', async () => {
    const policy = encodePolicy([['bogus']], new Date(Date.now() - 1000).toISOString());
    await refused(
      context(),
      request({ policy }),
      'AccessDenied',
      403,
      /^Invalid according to Policy: Policy expired\.$/,
    );
  });

  const failed = (condition: unknown) =>
    new RegExp(
      `^Invalid according to Policy: Policy Condition failed: ${JSON.stringify(condition).replace(
        /[[\]$^.*+?()|{}\\]/g,
        '\\$&',
      )}$`,
    );

  test('an exact-match condition must match, case-insensitively in the field name', async () => {
    const ok = [{ Bucket: BUCKET }, { KEY: 'dir/out.txt' }];
    assert.equal((await handlePostObject(await request({ conditions: ok }), context(), verifier)).status, 204);
    const bad = { key: 'dir/other.txt' };
    await refused(context(), request({ conditions: [{ bucket: BUCKET }, bad] }), 'AccessDenied', 403, failed(bad));
  });

  test('["eq", field, value] with or without $ and in any case', async () => {
    for (const name of ['$key', 'KEY', '$Key']) {
      const ok = [
        ['eq', '$bucket', BUCKET],
        ['eq', name, 'dir/out.txt'],
      ];
      assert.equal((await handlePostObject(await request({ conditions: ok }), context(), verifier)).status, 204);
    }
    const bad = ['eq', '$key', 'dir/out'];
    await refused(context(), request({ conditions: [{ bucket: BUCKET }, bad] }), 'AccessDenied', 403, failed(bad));
  });

  test('["starts-with", "$key", prefix] checks the prefix; an empty prefix allows any value', async () => {
    const ok = [{ bucket: BUCKET }, ['starts-with', '$key', 'dir/']];
    assert.equal((await handlePostObject(await request({ conditions: ok }), context(), verifier)).status, 204);
    const bad = ['starts-with', '$key', 'out'];
    await refused(context(), request({ conditions: [{ bucket: BUCKET }, bad] }), 'AccessDenied', 403, failed(bad));
    const missing = ['starts-with', '$content-type', 'text/'];
    const conditions = [{ bucket: BUCKET }, ['starts-with', '$key', ''], missing];
    await refused(context(), request({ conditions }), 'AccessDenied', 403, failed(missing));
  });

  test('content-length-range accepts its bounds and refuses one byte outside them', async () => {
    const conditions = [{ bucket: BUCKET }, ['starts-with', '$key', ''], ['content-length-range', 3, 5]];
    for (const file of ['abc', 'abcde']) {
      assert.equal((await handlePostObject(await request({ conditions, file }), context(), verifier)).status, 204);
    }
    for (const [file, size] of [
      ['ab', 2],
      ['abcdef', 6],
    ] as const) {
      const text = new RegExp(
        `^Your proposed upload size ${size} is outside the policy's content-length-range 3\\.\\.5$`,
      );
      await refused(context(), request({ conditions, file }), 'EntityTooLarge', 400, text);
    }
  });

  test('an unknown condition operator is InvalidPolicyDocument naming it', async () => {
    const conditions = [{ bucket: BUCKET }, ['starts-with', '$key', ''], ['ends-with', '$key', 'x']];
    await refused(
      context(),
      request({ conditions }),
      'InvalidPolicyDocument',
      400,
      /Invalid Condition operator: ends-with$/,
    );
  });
});
