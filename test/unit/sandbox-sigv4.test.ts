// The sandbox's signature checks on their own (issue 18, mutation testing): requests signed by the SDK's
// own SigV4 signer, as the AWS SDKs sign them, then changed one part at a time; each change meets its own
// refusal. The sandbox-s3 and security integration tests send the same through real clients.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { ApiRequest } from '../../src/sandbox/http';
import { MAX_CLOCK_SKEW_MS, MAX_PRESIGNED_EXPIRES_SECONDS } from '../../src/sandbox/limits';
import {
  AuthFailure,
  isPresigned,
  parseAmzDate,
  signingKeyIdOf,
  SigV4Verifier,
  type AuthFailureKind,
} from '../../src/sandbox/sigv4';
import { SessionStore } from '../../src/sandbox/stsSessions';

const CREDS = { accessKeyId: 'AKIASANDBOX', secretAccessKey: 'sandbox-secret' };
const REGION = 'eu-west-1';
const NOW = Date.UTC(2026, 0, 2, 3, 4, 5);
const HOST = '127.0.0.1:4566';

function signer(service: string, credentials: object = CREDS, region = REGION): SignatureV4 {
  return new SignatureV4({
    credentials: credentials as typeof CREDS,
    region,
    service,
    sha256: Sha256,
    uriEscapePath: service !== 's3',
    applyChecksum: false,
  });
}

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const lower = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), String(v)]));

/** A request as the SDK signs it (header auth), as the sandbox's HTTP layer hands it over. */
async function signed(
  service: string,
  options: {
    body?: string;
    path?: string;
    query?: Record<string, string>;
    headers?: Record<string, string>;
    at?: number;
    credentials?: object;
    region?: string;
  } = {},
): Promise<ApiRequest> {
  const body = Buffer.from(options.body ?? '{}');
  const request = await signer(service, options.credentials, options.region).sign(
    {
      method: 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      path: options.path ?? '/',
      query: options.query ?? {},
      headers: { host: HOST, 'content-type': 'application/x-amz-json-1.1', ...options.headers },
      body,
    },
    { signingDate: new Date(options.at ?? NOW) },
  );
  return {
    method: 'POST',
    rawPath: options.path ?? '/',
    rawQuery: '',
    query: Object.entries(options.query ?? {}),
    headers: lower(request.headers as Record<string, string>),
    body,
    requestId: 'r',
  };
}

async function presigned(
  options: {
    path?: string;
    expiresIn?: number;
    at?: number;
    query?: Record<string, string>;
    credentials?: object;
  } = {},
): Promise<ApiRequest> {
  const path = options.path ?? '/bucket/staged/a%20b.py';
  const url = await signer('s3', options.credentials).presign(
    {
      method: 'GET',
      protocol: 'http:',
      hostname: '127.0.0.1',
      path,
      query: options.query ?? {},
      headers: { host: HOST, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    },
    {
      signingDate: new Date(options.at ?? NOW),
      expiresIn: options.expiresIn ?? 60,
      unsignableHeaders: new Set(['x-amz-content-sha256']),
    },
  );
  return {
    method: 'GET',
    rawPath: path,
    rawQuery: '',
    query: Object.entries(url.query ?? {}).map(([k, v]) => [k, String(v)]),
    headers: { host: HOST },
    body: Buffer.alloc(0),
    requestId: 'r',
  };
}

function verifier(now = NOW, sessions?: SessionStore): SigV4Verifier {
  return new SigV4Verifier(CREDS, REGION, () => now, sessions);
}

async function refused(promise: Promise<unknown>, kind: AuthFailureKind, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof AuthFailure, String(error));
    assert.equal(error.kind, kind, error.message);
    if (message) assert.match(error.message, message);
    return true;
  });
}

const withAuthorization = (req: ApiRequest, edit: (auth: string) => string): ApiRequest => ({
  ...req,
  headers: { ...req.headers, authorization: edit(req.headers.authorization) },
});

describe('header-signed requests', () => {
  test('a request signed by the SDK passes and names its region; its key id is the caller', async () => {
    const req = await signed('ssm');
    assert.equal(await verifier().verifyHeaderSigned(req, 'ssm'), REGION);
    assert.equal(signingKeyIdOf(req), CREDS.accessKeyId);
    assert.equal(isPresigned(req), false);
    assert.equal(signingKeyIdOf({ ...req, headers: {} }), undefined);
  });

  test('unsigned, malformed or upper-case signatures are refused before any signing', async () => {
    const req = await signed('ssm');
    await refused(verifier().verifyHeaderSigned({ ...req, headers: {} }, 'ssm'), 'missing', /no Authorization header/);
    await refused(
      verifier().verifyHeaderSigned(
        withAuthorization(req, (a) => a.replace('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA1')),
        'ssm',
      ),
      'malformed',
      /Authorization header is not AWS4-HMAC-SHA256 Credential=\.\.\., SignedHeaders=\.\.\., Signature=\.\.\./,
    );
    await refused(
      verifier().verifyHeaderSigned(
        withAuthorization(req, (a) =>
          a.replace(/Signature=([0-9a-f]+)/, (_, s: string) => `Signature=${s.toUpperCase()}`),
        ),
        'ssm',
      ),
      'malformed',
    );
    await refused(
      verifier().verifyHeaderSigned(
        withAuthorization(req, (a) => `${a} extra`),
        'ssm',
      ),
      'malformed',
    );
  });

  test('the Authorization header: nothing before the algorithm; spaces after its commas optional, more allowed', async () => {
    const req = await signed('ssm');
    await refused(
      verifier().verifyHeaderSigned(
        withAuthorization(req, (a) => `x ${a}`),
        'ssm',
      ),
      'malformed',
    );
    const noSpaces = withAuthorization(req, (a) => a.replace(/, /g, ','));
    assert.doesNotMatch(noSpaces.headers.authorization, /, /);
    assert.equal(await verifier().verifyHeaderSigned(noSpaces, 'ssm'), REGION);
    const wider = withAuthorization(req, (a) => a.replace(/ /g, '  '));
    assert.equal(await verifier().verifyHeaderSigned(wider, 'ssm'), REGION);
    assert.equal(
      await verifier().verifyHeaderSigned(
        withAuthorization(req, (a) => `${a}  `),
        'ssm',
      ),
      REGION,
    );
    await refused(
      verifier().verifyHeaderSigned(
        withAuthorization(req, (a) => `${a}0`),
        'ssm',
      ),
      'malformed',
    );
  });

  test('the credential scope: five parts ending aws4_request, the sandbox key, its region and the service', async () => {
    const req = await signed('ssm');
    const scope = (edit: (credential: string) => string) =>
      withAuthorization(req, (a) => a.replace(/Credential=([^,]+)/, (_, c: string) => `Credential=${edit(c)}`));
    await refused(
      verifier().verifyHeaderSigned(
        scope((c) => c.replace('aws4_request', 'aws5_request')),
        'ssm',
      ),
      'malformed',
      /Credential must be <key id>\/<yyyymmdd>\/<region>\/<service>\/aws4_request, got "AKIASANDBOX\/\d{8}\/eu-west-1\/ssm\/aws5_request"/,
    );
    await refused(
      verifier().verifyHeaderSigned(
        scope((c) => `${c}/x`),
        'ssm',
      ),
      'malformed',
    );
    await refused(
      verifier().verifyHeaderSigned(
        scope((c) => c.replace('AKIASANDBOX', 'AKIAOTHER')),
        'ssm',
      ),
      'unknownKey',
      /The access key id AKIAOTHER is not the sandbox's/,
    );
    await refused(
      verifier().verifyHeaderSigned(await signed('ssm', { region: 'us-east-1' }), 'ssm'),
      'wrongScope',
      /the sandbox's region is 'eu-west-1', not 'us-east-1'/,
    );
    await refused(
      verifier().verifyHeaderSigned(req, 'sts'),
      'wrongScope',
      /Credential should be scoped to the correct service: 'sts', not 'ssm'/,
    );
  });

  test('S3 answers in every valid region, and no other', async () => {
    const req = await signed('s3', {
      region: 'ap-southeast-2',
      headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    });
    assert.equal(await verifier().verifyHeaderSigned(req, 's3'), 'ap-southeast-2');
    const bad = await signed('s3', { region: 'mars-1', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
    await refused(verifier().verifyHeaderSigned(bad, 's3'), 'wrongScope', /not 'mars-1'/);
  });

  test('X-Amz-Date: signed, matching the credential date, within 15 minutes either way', async () => {
    const req = await signed('ssm');
    await refused(
      verifier().verifyHeaderSigned({ ...req, headers: { ...req.headers, 'x-amz-date': '' } }, 'ssm'),
      'malformed',
      /Signed requests must sign an X-Amz-Date header/,
    );
    await refused(
      verifier().verifyHeaderSigned(
        withAuthorization(req, (a) => a.replace(/;x-amz-date/, '')),
        'ssm',
      ),
      'malformed',
      /must sign an X-Amz-Date/,
    );
    const nextDay = await signed('ssm', { at: NOW + 24 * 3600_000 });
    await refused(
      verifier(NOW + 24 * 3600_000).verifyHeaderSigned(
        { ...nextDay, headers: { ...nextDay.headers, authorization: req.headers.authorization } },
        'ssm',
      ),
      'malformed',
      /Credential date 20260102 does not match X-Amz-Date 20260103T030405Z/,
    );
    assert.equal(await verifier(NOW + MAX_CLOCK_SKEW_MS).verifyHeaderSigned(req, 'ssm'), REGION);
    assert.equal(await verifier(NOW - MAX_CLOCK_SKEW_MS).verifyHeaderSigned(req, 'ssm'), REGION);
    await refused(
      verifier(NOW + MAX_CLOCK_SKEW_MS + 1000).verifyHeaderSigned(req, 'ssm'),
      'skew',
      /Signature expired: 20260102T030405Z is more than 15 minutes away from the sandbox's clock \(2026-01-02T03:19:06\.000Z\)/,
    );
    await refused(verifier(NOW - MAX_CLOCK_SKEW_MS - 1000).verifyHeaderSigned(req, 'ssm'), 'skew');
  });

  test('a changed body, header, path, query or signature does not match', async () => {
    const req = await signed('ssm', {
      path: '/a',
      query: { x: '1' },
      headers: { 'x-amz-target': 'AmazonSSM.SendCommand' },
    });
    assert.equal(await verifier().verifyHeaderSigned(req, 'ssm'), REGION);
    const badSignature =
      /The request signature we calculated does not match the signature you provided\. Check your AWS Secret Access Key and signing method\./;
    for (const changed of [
      { ...req, body: Buffer.from('{"a":1}') },
      { ...req, headers: { ...req.headers, 'x-amz-target': 'AmazonSSM.CancelCommand' } },
      { ...req, rawPath: '/b' },
      { ...req, query: [['x', '2']] as Array<[string, string]> },
      { ...req, query: [...req.query, ['x', '3']] as Array<[string, string]> },
      { ...req, method: 'PUT' },
      withAuthorization(req, (a) => a.replace(/Signature=(.)/, (_, c: string) => `Signature=${c === '0' ? '1' : '0'}`)),
      withAuthorization(req, (a) => a.replace('SignedHeaders=', 'SignedHeaders=content-type;')),
    ])
      await refused(verifier().verifyHeaderSigned(changed, 'ssm'), 'badSignature', badSignature);
    const { ['x-amz-target']: _dropped, ...withoutTarget } = req.headers;
    await refused(
      verifier().verifyHeaderSigned({ ...req, headers: withoutTarget }, 'ssm'),
      'badSignature',
      /Header x-amz-target is listed in SignedHeaders but missing from the request/,
    );
  });

  test('a repeated query parameter is signed with both values', async () => {
    const req = await signed('s3', {
      path: '/bucket',
      query: { 'list-type': '2' },
      headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    });
    assert.equal(await verifier().verifyHeaderSigned(req, 's3'), REGION);
    await refused(
      verifier().verifyHeaderSigned({ ...req, query: [...req.query, ['list-type', '2']] }, 's3'),
      'badSignature',
    );
  });

  test('a parameter given three times is signed with all three values', async () => {
    const req = await signed('s3', {
      path: '/bucket',
      query: { tag: ['a', 'b', 'c'] } as unknown as Record<string, string>,
      headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    });
    const three: Array<[string, string]> = [
      ['tag', 'a'],
      ['tag', 'b'],
      ['tag', 'c'],
    ];
    assert.equal(await verifier().verifyHeaderSigned({ ...req, query: three }, 's3'), REGION);
    await refused(verifier().verifyHeaderSigned({ ...req, query: three.slice(0, 2) }, 's3'), 'badSignature');
  });

  test("without a clock of its own the verifier uses the machine's: signed now passes, an hour ago does not", async () => {
    const req = await signed('ssm', { at: Date.now() });
    assert.equal(await new SigV4Verifier(CREDS, REGION).verifyHeaderSigned(req, 'ssm'), REGION);
    const old = await signed('ssm', { at: Date.now() - 3_600_000 });
    await refused(new SigV4Verifier(CREDS, REGION).verifyHeaderSigned(old, 'ssm'), 'skew');
  });

  test('a percent-encoded path: S3 signs it as sent, other services decode it first', async () => {
    const s3 = await signed('s3', { path: '/bucket/a%20b', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
    assert.equal(await verifier().verifyHeaderSigned(s3, 's3'), REGION);
    const sts = await signed('sts', { path: '/a b' });
    assert.equal(await verifier().verifyHeaderSigned({ ...sts, rawPath: '/a%20b' }, 'sts'), REGION);
    const broken = await signed('sts', { path: '/%E0%A4%A' });
    assert.equal(await verifier().verifyHeaderSigned({ ...broken, rawPath: '/%E0%A4%A' }, 'sts'), REGION);
  });

  test("S3's declared payload hash: compared with the body; UNSIGNED-PAYLOAD and streaming are not", async () => {
    const body = 'hello';
    const req = await signed('s3', { path: '/b/k', body, headers: { 'x-amz-content-sha256': sha(body) } });
    assert.equal(await verifier().verifyHeaderSigned(req, 's3'), REGION);
    await refused(
      verifier().verifyHeaderSigned({ ...req, body: Buffer.from('hellO') }, 's3'),
      'payloadMismatch',
      /The provided 'x-amz-content-sha256' header does not match what was computed\./,
    );
    const empty = await signed('s3', { path: '/b/k', body: '', headers: { 'x-amz-content-sha256': sha('') } });
    assert.equal(await verifier().verifyHeaderSigned(empty, 's3'), REGION);
    for (const declared of ['UNSIGNED-PAYLOAD', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD']) {
      const unsignedBody = await signed('s3', { path: '/b/k', body, headers: { 'x-amz-content-sha256': declared } });
      assert.equal(await verifier().verifyHeaderSigned(unsignedBody, 's3'), REGION, declared);
    }
  });

  test('before the body is read: a declared payload hash lets the signature be checked; without one it waits', async () => {
    const req = await signed('s3', { path: '/b/k', body: 'hello', headers: { 'x-amz-content-sha256': sha('hello') } });
    const pending = { ...req, body: Buffer.alloc(0) };
    assert.equal(await verifier().verifyHeaderSigned(pending, 's3', { bodyPending: true }), REGION);
    await refused(
      verifier().verifyHeaderSigned({ ...pending, rawPath: '/b/other' }, 's3', { bodyPending: true }),
      'badSignature',
    );
    const json = await signed('ssm');
    const forged = withAuthorization(json, (a) => a.replace(/Signature=./, 'Signature=0'));
    assert.equal(
      await verifier().verifyHeaderSigned(forged, 'ssm', { bodyPending: true }),
      REGION,
      'the signature covers the body: checked once it is read',
    );
    await refused(verifier().verifyHeaderSigned(forged, 'ssm'), 'badSignature');
  });

  test('temporary credentials: their own secret, their session token, until they expire', async () => {
    let now = NOW;
    const sessions = new SessionStore(() => now);
    const session = sessions.issue('arn:aws:iam::123456789012:role/r', 's', 3600);
    const credentials = { accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey };
    const check = (token?: string) =>
      signed('ssm', { credentials, headers: token === undefined ? {} : { 'x-amz-security-token': token } }).then(
        (req) => new SigV4Verifier(CREDS, REGION, () => now, sessions).verifyHeaderSigned(req, 'ssm'),
      );
    assert.equal(await check(session.sessionToken), REGION);
    await refused(check(), 'badToken', /The security token included in the request is invalid\./);
    // The last character changed (to one it is not: a random token ends in 'x' one time in 64).
    const lastChanged = session.sessionToken.slice(0, -1) + (session.sessionToken.endsWith('x') ? 'y' : 'x');
    await refused(check(lastChanged), 'badToken');
    await refused(check(session.sessionToken.slice(1)), 'badToken');
    now = session.expiresAtMs;
    await refused(check(session.sessionToken), 'expiredToken', /The provided token has expired\./);
    assert.equal(new SigV4Verifier(CREDS, REGION, () => now, sessions).sessionOf(session.accessKeyId), session);
    assert.equal(verifier().sessionOf(session.accessKeyId), undefined, 'no session store, no sessions');
    const withoutStore = await signed('ssm', {
      credentials,
      headers: { 'x-amz-security-token': session.sessionToken },
    });
    await refused(verifier().verifyHeaderSigned(withoutStore, 'ssm'), 'unknownKey');
  });
});

describe('presigned URLs', () => {
  test('a presigned GET passes until it expires; it is recognised as presigned', async () => {
    const req = await presigned({ expiresIn: 60 });
    assert.equal(isPresigned(req), true);
    assert.equal(isPresigned({ ...req, query: req.query.filter(([k]) => k === 'X-Amz-Credential') }), true);
    assert.equal(isPresigned({ ...req, query: req.query.filter(([k]) => k === 'X-Amz-Signature') }), true);
    assert.equal(await verifier().verifyPresigned(req), REGION);
    assert.equal(await verifier(NOW + 60_000).verifyPresigned(req), REGION, 'the last valid millisecond');
    await refused(verifier(NOW + 60_001).verifyPresigned(req), 'expired', /^Request has expired$/);
    assert.equal(await verifier(NOW - MAX_CLOCK_SKEW_MS).verifyPresigned(req), REGION);
    await refused(
      verifier(NOW - MAX_CLOCK_SKEW_MS - 1).verifyPresigned(req),
      'notYetValid',
      /^Request is not valid yet$/,
    );
  });

  test('a URL presigned with temporary credentials carries their token, which is checked', async () => {
    const sessions = new SessionStore(() => NOW);
    const session = sessions.issue('arn:aws:iam::123456789012:role/r', 's', 3600);
    const req = await presigned({ credentials: session });
    const token = req.query.find(([k]) => k === 'X-Amz-Security-Token');
    assert.equal(token?.[1], session.sessionToken);
    assert.equal(await verifier(NOW, sessions).verifyPresigned(req), REGION);
    const withoutToken = { ...req, query: req.query.filter(([k]) => k !== 'X-Amz-Security-Token') };
    await refused(verifier(NOW, sessions).verifyPresigned(withoutToken), 'badToken');
  });

  test('each query parameter is required; the algorithm and the lifetime are checked', async () => {
    const req = await presigned();
    const without = (name: string) => ({ ...req, query: req.query.filter(([k]) => k !== name) });
    const replaced = (name: string, value: string) => ({
      ...req,
      query: req.query.map(([k, v]) => [k, k === name ? value : v] as [string, string]),
    });
    await refused(
      verifier().verifyPresigned(without('X-Amz-Algorithm')),
      'malformed',
      /X-Amz-Algorithm must be AWS4-HMAC-SHA256/,
    );
    for (const name of ['X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature'])
      await refused(
        verifier().verifyPresigned(without(name)),
        'malformed',
        /Query-string authentication requires X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders and X-Amz-Signature/,
      );
    for (const expires of ['0', '1.5', 'x', String(MAX_PRESIGNED_EXPIRES_SECONDS + 1)])
      await refused(
        verifier().verifyPresigned(replaced('X-Amz-Expires', expires)),
        'malformed',
        new RegExp(`X-Amz-Expires must be an integer from 1 to ${MAX_PRESIGNED_EXPIRES_SECONDS}`),
      );
    assert.equal(
      await verifier().verifyPresigned(await presigned({ expiresIn: MAX_PRESIGNED_EXPIRES_SECONDS })),
      REGION,
    );
    assert.equal(await verifier().verifyPresigned(await presigned({ expiresIn: 1 })), REGION);
    await refused(
      verifier().verifyPresigned(replaced('X-Amz-Date', '2026-01-02')),
      'malformed',
      /X-Amz-Date must look like/,
    );
  });

  test('a changed path, parameter, signed header list or signature does not match', async () => {
    const req = await presigned({ query: { 'response-content-type': 'text/plain' } });
    assert.equal(await verifier().verifyPresigned(req), REGION);
    const message =
      /The request signature we calculated does not match the signature you provided\. Check your key and signing method\./;
    await refused(verifier().verifyPresigned({ ...req, rawPath: '/bucket/staged/other.py' }), 'badSignature', message);
    await refused(
      verifier().verifyPresigned({
        ...req,
        query: req.query.map(([k, v]) => [k, k === 'response-content-type' ? 'text/html' : v] as [string, string]),
      }),
      'badSignature',
    );
    await refused(verifier().verifyPresigned({ ...req, method: 'PUT' }), 'badSignature');
    await refused(
      verifier().verifyPresigned({
        ...req,
        query: req.query.map(
          ([k, v]) =>
            [k, k === 'X-Amz-Signature' ? v.replace(/^./, (c) => (c === '0' ? '1' : '0')) : v] as [string, string],
        ),
      }),
      'badSignature',
    );
    await refused(
      verifier().verifyPresigned({
        ...req,
        headers: { ...req.headers, 'x-extra': '1' },
        query: req.query.map(([k, v]) => [k, k === 'X-Amz-SignedHeaders' ? 'host;x-extra' : v] as [string, string]),
      }),
      'badSignature',
    );
  });

  test('a presigned URL that signs its payload hash is checked with that hash', async () => {
    const path = '/bucket/k';
    const url = await signer('s3').presign(
      {
        method: 'PUT',
        protocol: 'http:',
        hostname: '127.0.0.1',
        path,
        query: {},
        headers: { host: HOST, 'x-amz-content-sha256': sha('body') },
      },
      { signingDate: new Date(NOW), expiresIn: 60, unhoistableHeaders: new Set(['x-amz-content-sha256']) },
    );
    const query = Object.entries(url.query ?? {}).map(([k, v]) => [k, String(v)] as [string, string]);
    assert.match(query.find(([k]) => k === 'X-Amz-SignedHeaders')![1], /x-amz-content-sha256/);
    const req: ApiRequest = {
      method: 'PUT',
      rawPath: path,
      rawQuery: '',
      query,
      headers: { host: HOST, 'x-amz-content-sha256': sha('body') },
      body: Buffer.from('body'),
      requestId: 'r',
    };
    assert.equal(await verifier().verifyPresigned(req), REGION);
    const otherHash = { ...req, headers: { ...req.headers, 'x-amz-content-sha256': sha('other') } };
    await refused(verifier().verifyPresigned(otherHash), 'badSignature');
  });
});

describe('POST policy signatures', () => {
  async function form(policy = Buffer.from('{"conditions":[]}').toString('base64')) {
    const shortDate = '20260102';
    return {
      policy,
      credential: `${CREDS.accessKeyId}/${shortDate}/${REGION}/s3/aws4_request`,
      date: '20260102T030405Z',
      algorithm: 'AWS4-HMAC-SHA256',
      signature: await signer('s3').sign(policy, {
        signingDate: new Date(NOW),
        signingRegion: REGION,
        signingService: 's3',
      }),
    };
  }

  test('a policy signed with the signing key passes; a changed policy or signature does not', async () => {
    const fields = await form();
    assert.equal(await verifier().verifyPolicySignature(fields), REGION);
    assert.equal(
      await verifier().verifyPolicySignature({ ...fields, signature: fields.signature.toUpperCase() }),
      REGION,
    );
    await refused(
      verifier().verifyPolicySignature({ ...fields, policy: Buffer.from('{"conditions":[1]}').toString('base64') }),
      'badSignature',
      /Check your key and signing method/,
    );
    await refused(verifier().verifyPolicySignature({ ...fields, signature: `${fields.signature}00` }), 'badSignature');
  });

  test('each field is required; the algorithm is checked', async () => {
    const fields = await form();
    for (const name of ['policy', 'signature', 'credential', 'date'] as const)
      await refused(
        verifier().verifyPolicySignature({ ...fields, [name]: undefined }),
        'missing',
        /POST form must carry policy, x-amz-credential, x-amz-date and x-amz-signature fields/,
      );
    await refused(
      verifier().verifyPolicySignature({ ...fields, algorithm: 'AWS4-HMAC-SHA512' }),
      'malformed',
      /x-amz-algorithm must be AWS4-HMAC-SHA256/,
    );
  });
});

test('X-Amz-Date is exactly yyyymmddThhmmssZ', () => {
  assert.equal(parseAmzDate('20260102T030405Z').getTime(), NOW);
  for (const bad of ['20260102T030405', ' 20260102T030405Z', '20260102T030405Z ', '2026012T030405Z'])
    assert.throws(
      () => parseAmzDate(bad),
      (error: unknown) =>
        error instanceof AuthFailure && error.kind === 'malformed' && error.message.includes(`got "${bad}"`),
    );
});
