// Browser-style POST Object (what @aws-sdk/s3-presigned-post's createPresignedPost produces): a
// multipart form whose policy is signed with the SDK's key derivation. We enforce what S3 enforces:
// the signature, the expiration, every condition, and that no field escapes the policy.
import { AwsError, accessDenied } from './errors';
import type { ApiRequest, ApiResponse } from './http';
import { checkBucketPolicy, checkBucketRegion } from './bucketRules';
import type { S3Context } from './s3Api';
import { checkKey, encryptionHeaders, splitS3Path, storeObject } from './s3Api';
import type { SigV4Verifier } from './sigv4';
import { XML_DECLARATION, el } from './xml';

type Condition = Record<string, string> | [string, ...unknown[]];

/** Fields S3 never requires a policy condition for. */
const EXEMPT_FIELDS = new Set(['policy', 'x-amz-signature', 'file', 'awsaccesskeyid', 'signature']);

export async function handlePostObject(req: ApiRequest, ctx: S3Context, verifier: SigV4Verifier): Promise<ApiResponse> {
  const { bucket: bucketName } = splitS3Path(req.rawPath);
  const bucket = ctx.store.bucket(bucketName);
  if (!bucket)
    throw new AwsError('NoSuchBucket', 'The specified bucket does not exist', 404, { BucketName: bucketName });
  const { fields, file, fileName } = await parseForm(req);
  const { policy, signingRegion } = await verifyPolicy(fields, verifier);
  checkBucketRegion(bucket, signingRegion, ctx.region);
  const rawKey = fields.get('key');
  if (rawKey === undefined)
    throw new AwsError('InvalidArgument', "Bucket POST must contain a field named 'key'.", 400, {
      ArgumentName: 'key',
    });
  const key = rawKey.replace(/\$\{filename\}/g, fileName);
  checkKey(key);
  ctx.rateLimits?.check(req, 'PostObject', key);
  const values = new Map(fields);
  values.set('bucket', bucketName);
  values.set('key', key);
  const covered = new Set<string>();
  for (const condition of policy.conditions) checkCondition(condition, values, file.length, covered);
  const extra = [...fields.keys()].filter(
    (name) => !covered.has(name) && !EXEMPT_FIELDS.has(name) && !name.startsWith('x-ignore-'),
  );
  if (extra.length > 0) throw accessDenied(`Invalid according to Policy: Extra input fields: ${extra.join(', ')}`);

  const metadata: Record<string, string> = {};
  for (const [name, value] of fields) if (name.startsWith('x-amz-meta-')) metadata[name.slice(11)] = value;
  checkBucketPolicy(bucket, key, fields.get('x-amz-server-side-encryption'), ctx.accountId);
  const object = storeObject(ctx, bucket, key, file, {
    contentType: fields.get('content-type'),
    serverSideEncryption: fields.get('x-amz-server-side-encryption'),
    kmsKeyId: fields.get('x-amz-server-side-encryption-aws-kms-key-id'),
    metadata,
  });
  const location = `/${bucketName}/${encodeURIComponent(key).replace(/%2F/g, '/')}`;
  const headers = { etag: object.etag, location, ...encryptionHeaders(object) };
  const status = fields.get('success_action_status');
  if (status === '201') {
    const body =
      `${XML_DECLARATION}<PostResponse>${el('Location', location)}${el('Bucket', bucketName)}` +
      `${el('Key', key)}${el('ETag', object.etag)}</PostResponse>`;
    return { status: 201, headers: { ...headers, 'content-type': 'application/xml' }, body };
  }
  return { status: status === '200' ? 200 : 204, headers };
}

/**
 * The signed policy of a form and the region it was signed for: signature, then expiry (what S3 checks before anything
 * else).
 */
async function verifyPolicy(
  fields: Map<string, string>,
  verifier: SigV4Verifier,
): Promise<{ policy: { expiration: string; conditions: Condition[] }; signingRegion: string }> {
  const signingRegion = await verifier.verifyPolicySignature({
    policy: fields.get('policy'),
    signature: fields.get('x-amz-signature'),
    credential: fields.get('x-amz-credential'),
    date: fields.get('x-amz-date'),
    algorithm: fields.get('x-amz-algorithm'),
    securityToken: fields.get('x-amz-security-token'),
  });
  const policy = decodePolicy(fields.get('policy')!);
  if (Date.now() > Date.parse(policy.expiration)) throw accessDenied('Invalid according to Policy: Policy expired.');
  return { policy, signingRegion };
}

/** S3 takes at most this much form data before the file part (AWS documents 20 KB of fields). */
export const POST_FIELDS_MAX_BYTES = 64 * 1024;

/**
 * Authenticates a POST Object from the start of its body, before the file is read: S3 requires the
 * fields (policy, signature) to precede the file, so an unsigned or forged upload is refused after at
 * most POST_FIELDS_MAX_BYTES. `complete` says whether `prefix` is the whole body.
 */
export async function verifyPostPrefix(
  prefix: Buffer,
  contentType: string,
  complete: boolean,
  verifier: SigV4Verifier,
): Promise<void> {
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  if (!boundary)
    throw new AwsError('MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data.');
  const delimiter = Buffer.from(`\r\n--${boundary[1] ?? boundary[2]}`, 'latin1');
  const body = Buffer.concat([Buffer.from('\r\n'), prefix]); // the first delimiter has no CRLF before it
  const fields = new Map<string, string>();
  let at = body.indexOf(delimiter);
  for (;;) {
    if (at < 0) break;
    const headersStart = at + delimiter.length + 2;
    const headersEnd = body.indexOf('\r\n\r\n', headersStart, 'latin1');
    if (headersEnd < 0) break;
    const name = /name="([^"]*)"/i.exec(body.subarray(headersStart, headersEnd).toString('utf8'))?.[1]?.toLowerCase();
    if (name === 'file') return verifyPolicy(fields, verifier).then(() => undefined);
    const next = body.indexOf(delimiter, headersEnd + 4);
    if (next < 0) break;
    if (name !== undefined) fields.set(name, body.subarray(headersEnd + 4, next).toString('utf8'));
    at = next;
  }
  // No file part in sight: a complete body is judged by the full parser (it names what is missing).
  if (complete) return;
  throw new AwsError(
    'MaxPostPreDataLengthExceededError',
    'Your POST request fields preceding the upload file were too large.',
    400,
  );
}

async function parseForm(req: ApiRequest): Promise<{ fields: Map<string, string>; file: Buffer; fileName: string }> {
  let form: FormData;
  try {
    form = await new Request('http://sandbox.invalid/', {
      method: 'POST',
      headers: { 'content-type': req.headers['content-type'] ?? '' },
      body: req.body,
    }).formData();
  } catch {
    throw new AwsError('MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data.');
  }
  const fields = new Map<string, string>();
  let file: Buffer | undefined;
  let fileName = '';
  for (const [name, value] of form.entries()) {
    const lower = name.toLowerCase();
    if (lower === 'file') {
      if (typeof value === 'string') file = Buffer.from(value, 'utf8');
      else {
        file = Buffer.from(await value.arrayBuffer());
        fileName = value.name ?? '';
      }
      break; // S3 ignores fields after the file
    }
    if (typeof value === 'string') fields.set(lower, value);
  }
  if (!file)
    throw new AwsError('InvalidArgument', 'POST requires exactly one file upload per request.', 400, {
      ArgumentName: 'file',
    });
  return { fields, file, fileName };
}

function decodePolicy(base64: string): { expiration: string; conditions: Condition[] } {
  try {
    const policy = JSON.parse(Buffer.from(base64, 'base64').toString('utf8')) as {
      expiration: string;
      conditions: Condition[];
    };
    if (
      typeof policy.expiration !== 'string' ||
      !Array.isArray(policy.conditions) ||
      Number.isNaN(Date.parse(policy.expiration))
    )
      throw new Error('shape');
    return policy;
  } catch {
    throw new AwsError('InvalidPolicyDocument', 'Invalid Policy: Invalid JSON or missing expiration/conditions.');
  }
}

function checkCondition(
  condition: Condition,
  values: Map<string, string>,
  fileSize: number,
  covered: Set<string>,
): void {
  const failed = () =>
    accessDenied(`Invalid according to Policy: Policy Condition failed: ${JSON.stringify(condition)}`);
  if (!Array.isArray(condition)) {
    for (const [name, expected] of Object.entries(condition)) {
      const field = name.toLowerCase();
      covered.add(field);
      if (values.get(field) !== expected) throw failed();
    }
    return;
  }
  const [operator, ...args] = condition;
  switch (String(operator).toLowerCase()) {
    case 'content-length-range': {
      const [min, max] = args.map(Number);
      if (!(fileSize >= min && fileSize <= max)) {
        throw new AwsError(
          'EntityTooLarge',
          `Your proposed upload size ${fileSize} is outside the policy's content-length-range ${min}..${max}`,
          400,
        );
      }
      return;
    }
    case 'eq':
    case 'starts-with': {
      const field = String(args[0]).replace(/^\$/, '').toLowerCase();
      const expected = String(args[1]);
      covered.add(field);
      const actual = values.get(field) ?? '';
      const ok = operator === 'eq' ? actual === expected : actual.startsWith(expected);
      if (!ok) throw failed();
      return;
    }
    default:
      throw new AwsError('InvalidPolicyDocument', `Invalid Policy: Invalid Condition operator: ${String(operator)}`);
  }
}
