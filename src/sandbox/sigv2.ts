// S3 query-string authentication, signature version 2 (`?AWSAccessKeyId=&Expires=&Signature=`).
// The AWS CLI v1 `aws s3 presign` still produces these, and S3 accepts them in regions opened before
// 2014 (us-west-2 among them). The JS SDK has no SigV2 signer, so this small HMAC-SHA1 is ours.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ApiRequest } from './http';
import { AuthFailure, type SandboxCredentials } from './sigv4';

/** Sub-resources that take part in the V2 canonical resource (the ones our S3 subset can see). */
const SUB_RESOURCES = [
  'acl',
  'encryption',
  'lifecycle',
  'location',
  'publicAccessBlock',
  'uploadId',
  'uploads',
  'partNumber',
  'versionId',
  'delete',
  'response-cache-control',
  'response-content-disposition',
  'response-content-encoding',
  'response-content-language',
  'response-content-type',
  'response-expires',
];

export function isPresignedV2(req: ApiRequest): boolean {
  return req.query.some(([k]) => k === 'AWSAccessKeyId') && req.query.some(([k]) => k === 'Signature');
}

export function verifyPresignedV2(req: ApiRequest, credentials: SandboxCredentials, now = Date.now()): void {
  const param = (name: string) => req.query.find(([k]) => k === name)?.[1];
  const accessKeyId = param('AWSAccessKeyId');
  const signature = param('Signature') ?? '';
  const expires = param('Expires') ?? '';
  if (!/^\d+$/.test(expires))
    throw new AuthFailure(
      'malformed',
      'Query-string authentication (V2) requires an Expires parameter in epoch seconds',
    );
  if (accessKeyId !== credentials.accessKeyId) {
    throw new AuthFailure(
      'unknownKey',
      `The access key id ${accessKeyId} is not the sandbox's (use the credentials from its info file or env)`,
    );
  }
  if (now > Number(expires) * 1000) throw new AuthFailure('expired', 'Request has expired');
  const amzHeaders = Object.keys(req.headers)
    .filter((name) => name.startsWith('x-amz-'))
    .sort()
    .map((name) => `${name}:${req.headers[name].trim()}\n`)
    .join('');
  const subResources = req.query
    .filter(([k]) => SUB_RESOURCES.includes(k))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => (v === '' ? k : `${k}=${v}`));
  const resource = req.rawPath + (subResources.length ? `?${subResources.join('&')}` : '');
  const stringToSign = [
    req.method,
    req.headers['content-md5'] ?? '',
    req.headers['content-type'] ?? '',
    expires,
    amzHeaders + resource,
  ].join('\n');
  const expected = createHmac('sha1', credentials.secretAccessKey).update(stringToSign, 'utf8').digest('base64');
  const a = Buffer.from(expected);
  const b = Buffer.from(signature);
  if (a.length !== b.length || !timingSafeEqual(a, b)) {
    throw new AuthFailure(
      'badSignature',
      'The request signature we calculated does not match the signature you provided. Check your key and ' +
        'signing method.',
    );
  }
}
