// S3 REST, path-style: the bucket is the first path segment, the key the (decoded) rest.
import { createHash } from 'node:crypto';
import { type SandboxKms, checkBucketPolicy, checkBucketRegion, regionOf, resolveEncryption } from './bucketRules';
import { AwsError, accessDenied } from './errors';
import { type ApiRequest, type ApiResponse, decodeAwsChunked, hasQuery, queryValue } from './http';
import { LIST_OBJECTS_MAX_KEYS } from './limits';
import { type Bucket, type ObjectMeta, type ObjectStore, isValidBucketName } from './objectStore';
import type { S3RateLimits } from './s3RateLimits';
import { S3_XMLNS, XML_DECLARATION, el, firstTag } from './xml';

export interface S3Context {
  store: ObjectStore;
  accountId: string;
  /** The sandbox's region: SSM's, and buckets' unless they have their own. */
  region: string;
  kms: SandboxKms;
  /** Tests: "<Operation> <bucket>" of every request on a bucket that did not carry x-amz-expected-bucket-owner. */
  withoutExpectedOwner: string[];
  /** S3's per-prefix request-rate limits (503 SlowDown); see s3RateLimits.ts. */
  rateLimits?: S3RateLimits;
}

/** How many unchecked calls are remembered (a test needs the first few; a soak must not grow memory). */
const MAX_REMEMBERED_UNCHECKED = 1000;

/** Bucket sub-resources the sandbox stores as given (the engine's ensureBucket sets them). */
const BUCKET_CONFIGS = {
  publicAccessBlock: {
    missing: 'NoSuchPublicAccessBlockConfiguration',
    message: 'The public access block configuration was not found',
  },
  lifecycle: { missing: 'NoSuchLifecycleConfiguration', message: 'The lifecycle configuration does not exist' },
  encryption: { missing: '', message: '' }, // S3 encrypts every bucket with SSE-S3 by default
} as const;
type BucketConfigName = keyof typeof BUCKET_CONFIGS;

const DEFAULT_ENCRYPTION_XML =
  `<ServerSideEncryptionConfiguration ` +
  `xmlns="${S3_XMLNS}"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm>` +
  `</ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false</BucketKeyEnabled></Rule>` +
  `</ServerSideEncryptionConfiguration>`;

export function splitS3Path(rawPath: string): { bucket: string; key: string } {
  const path = rawPath.startsWith('/') ? rawPath.slice(1) : rawPath;
  const slash = path.indexOf('/');
  const bucket = decodeURIComponent(slash < 0 ? path : path.slice(0, slash));
  const key = slash < 0 ? '' : decodeURIComponent(path.slice(slash + 1));
  return { bucket, key };
}

/** The S3 operation a request is (for stats and routing). */
export function s3OperationName(req: ApiRequest): string {
  const { bucket, key } = splitS3Path(req.rawPath);
  const m = req.method;
  if (!bucket) return m === 'GET' ? 'ListBuckets' : 'Unknown';
  if (key) {
    if (m === 'PUT') return req.headers['x-amz-copy-source'] ? 'CopyObject' : 'PutObject';
    return (
      ({ GET: 'GetObject', HEAD: 'HeadObject', DELETE: 'DeleteObject', POST: 'PostObject' } as Record<string, string>)[
        m
      ] ?? 'Unknown'
    );
  }
  for (const name of Object.keys(BUCKET_CONFIGS)) {
    if (hasQuery(req, name)) {
      const verb = ({ GET: 'Get', PUT: 'Put', DELETE: 'Delete' } as Record<string, string>)[m] ?? m;
      return `${verb}${configOperationSuffix(name as BucketConfigName)}`;
    }
  }
  if (m === 'GET' && hasQuery(req, 'location')) return 'GetBucketLocation';
  if (m === 'POST' && hasQuery(req, 'delete')) return 'DeleteObjects';
  if (m === 'POST') return 'PostObject';
  return (
    (
      {
        PUT: 'CreateBucket',
        HEAD: 'HeadBucket',
        DELETE: 'DeleteBucket',
        GET: hasQuery(req, 'list-type') ? 'ListObjectsV2' : 'ListObjects',
      } as Record<string, string>
    )[m] ?? 'Unknown'
  );
}

function configOperationSuffix(name: BucketConfigName): string {
  return {
    publicAccessBlock: 'PublicAccessBlock',
    lifecycle: 'BucketLifecycleConfiguration',
    encryption: 'BucketEncryption',
  }[name];
}

/** `signingRegion`: the region the request was signed for, i.e. the regional endpoint it stands for. */
export async function handleS3(
  req: ApiRequest,
  operation: string,
  ctx: S3Context,
  signingRegion?: string,
): Promise<ApiResponse> {
  const { bucket: bucketName, key } = splitS3Path(req.rawPath);
  if (operation === 'ListBuckets') return listBuckets(ctx);
  if (!isValidBucketName(bucketName))
    throw new AwsError('InvalidBucketName', 'The specified bucket is not valid.', 400, { BucketName: bucketName });
  ctx.rateLimits?.check(req, operation);
  checkExpectedOwner(req, ctx, operation, bucketName);
  if (operation === 'CreateBucket') return createBucket(req, bucketName, ctx, signingRegion ?? ctx.region);
  const bucket = ctx.store.bucket(bucketName);
  if (!bucket) {
    if (req.method === 'HEAD') return { status: 404 };
    throw new AwsError('NoSuchBucket', 'The specified bucket does not exist', 404, { BucketName: bucketName });
  }
  // GetBucketLocation answers from any region: it is how a client finds the right one.
  if (operation !== 'GetBucketLocation') checkBucketRegion(bucket, signingRegion, ctx.region);
  switch (operation) {
    case 'HeadBucket':
      return { status: 200, headers: { 'x-amz-bucket-region': regionOf(bucket, ctx.region) } };
    case 'DeleteBucket':
      if (bucket.objects.size > 0)
        throw new AwsError('BucketNotEmpty', 'The bucket you tried to delete is not empty', 409, {
          BucketName: bucketName,
        });
      throw new AwsError('NotImplemented', 'The sandbox does not delete buckets', 501);
    case 'GetBucketLocation':
      return xml(
        `<LocationConstraint xmlns="${S3_XMLNS}">` +
          `${regionOf(bucket, ctx.region) === 'us-east-1' ? '' : regionOf(bucket, ctx.region)}</LocationConstraint>`,
      );
    case 'ListObjectsV2':
      return listObjectsV2(req, bucket, ctx);
    case 'PutObject':
      return putObject(req, bucket, key, ctx);
    case 'GetObject':
    case 'HeadObject':
      return getObject(req, bucket, key, ctx, operation === 'HeadObject');
    case 'DeleteObject':
      ctx.store.deleteObject(bucket, key);
      return { status: 204 };
  }
  for (const name of Object.keys(BUCKET_CONFIGS) as BucketConfigName[]) {
    if (hasQuery(req, name)) return bucketConfig(req, bucket, name, ctx);
  }
  throw new AwsError(
    'NotImplemented',
    `The sandbox does not implement ${operation} (${req.method} ${req.rawPath})`,
    501,
  );
}

function checkExpectedOwner(req: ApiRequest, ctx: S3Context, operation: string, bucketName: string): void {
  for (const header of ['x-amz-expected-bucket-owner', 'x-amz-source-expected-bucket-owner']) {
    // A presigned URL carries the header as a query parameter (the SDK hoists x-amz-* headers).
    const expected = req.headers[header] ?? queryValue(req, header);
    if (expected !== undefined && expected !== ctx.accountId) throw accessDenied('Access Denied');
  }
  const checked = req.headers['x-amz-expected-bucket-owner'] ?? queryValue(req, 'x-amz-expected-bucket-owner');
  // CreateBucket has no ExpectedBucketOwner parameter: the caller becomes the owner.
  if (
    checked === undefined &&
    operation !== 'CreateBucket' &&
    ctx.withoutExpectedOwner.length < MAX_REMEMBERED_UNCHECKED
  ) {
    ctx.withoutExpectedOwner.push(`${operation} ${bucketName}`);
  }
}

function listBuckets(ctx: S3Context): ApiResponse {
  const buckets = ctx.store
    .listBuckets()
    .map((b) => `<Bucket>${el('Name', b.name)}${el('CreationDate', new Date(b.createdAt).toISOString())}</Bucket>`);
  return xml(
    `<ListAllMyBucketsResult ` +
      `xmlns="${S3_XMLNS}"><Owner>${el('ID', ctx.accountId)}</Owner><Buckets>${buckets.join('')}</Buckets>` +
      `</ListAllMyBucketsResult>`,
  );
}

/** `endpointRegion`: the region of the endpoint the request went to (where the bucket will live). */
function createBucket(req: ApiRequest, name: string, ctx: S3Context, endpointRegion: string): ApiResponse {
  const constraint = firstTag(req.body.toString('utf8'), 'LocationConstraint')?.trim() || undefined;
  if (
    endpointRegion === 'us-east-1'
      ? constraint !== undefined && constraint !== 'us-east-1'
      : constraint !== endpointRegion
  ) {
    throw new AwsError(
      'IllegalLocationConstraintException',
      constraint === undefined
        ? `The unspecified location constraint is incompatible for the region specific endpoint this request ` +
            `was sent to (pass CreateBucketConfiguration LocationConstraint=${endpointRegion}).`
        : `The ${constraint} location constraint is incompatible for the region specific endpoint this request ` +
            `was sent to (${endpointRegion}).`,
    );
  }
  if (ctx.store.bucket(name)) {
    // us-east-1 answers 200 to the owner re-creating its bucket; every other region 409.
    if (endpointRegion === 'us-east-1') return { status: 200, headers: { location: `/${name}` } };
    throw new AwsError(
      'BucketAlreadyOwnedByYou',
      'Your previous request to create the named bucket succeeded and you already own it.',
      409,
      { BucketName: name },
    );
  }
  ctx.store.createBucket(name, endpointRegion === ctx.region ? undefined : endpointRegion);
  return { status: 200, headers: { location: `/${name}` } };
}

function bucketConfig(req: ApiRequest, bucket: Bucket, name: BucketConfigName, ctx: S3Context): ApiResponse {
  if (req.method === 'PUT') {
    const body = req.body.toString('utf8').trim();
    if (!body.startsWith('<'))
      throw new AwsError(
        'MalformedXML',
        'The XML you provided was not well-formed or did not validate against our published schema',
      );
    ctx.store.setConfig(bucket, name, body);
    return { status: 200 };
  }
  if (req.method === 'DELETE') {
    ctx.store.setConfig(bucket, name, undefined);
    return { status: 204 };
  }
  const stored = bucket.configs[name];
  if (stored !== undefined) return xml(stored.replace(/^<\?xml[^>]*\?>\s*/, ''));
  if (name === 'encryption') return xml(DEFAULT_ENCRYPTION_XML);
  throw new AwsError(BUCKET_CONFIGS[name].missing, BUCKET_CONFIGS[name].message, 404, { BucketName: bucket.name });
}

function putObject(req: ApiRequest, bucket: Bucket, key: string, ctx: S3Context): ApiResponse {
  checkKey(key);
  const encoding = req.headers['content-encoding'] ?? '';
  const chunked =
    encoding
      .split(',')
      .map((s) => s.trim())
      .includes('aws-chunked') || (req.headers['x-amz-content-sha256'] ?? '').startsWith('STREAMING-');
  const body = chunked ? decodeAwsChunked(req.body) : req.body;
  const md5 = req.headers['content-md5'];
  if (md5 && createHash('md5').update(body).digest('base64') !== md5) {
    throw new AwsError('BadDigest', 'The Content-MD5 you specified did not match what we received.');
  }
  if (req.headers['if-none-match'] === '*' && bucket.objects.has(key)) {
    throw new AwsError('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 412, {
      Condition: 'If-None-Match',
    });
  }
  checkBucketPolicy(bucket, key, req.headers['x-amz-server-side-encryption'], ctx.accountId);
  const object = storeObject(ctx, bucket, key, body, {
    contentType: req.headers['content-type'],
    serverSideEncryption: req.headers['x-amz-server-side-encryption'],
    kmsKeyId: req.headers['x-amz-server-side-encryption-aws-kms-key-id'],
    metadata: userMetadata(req.headers),
  });
  return { status: 200, headers: { etag: object.etag, ...encryptionHeaders(object) } };
}

/**
 * Shared by PutObject, POST Object and the agent's output upload; the bucket's default encryption applies when none is
 * named.
 */
export function storeObject(
  ctx: S3Context,
  bucket: Bucket,
  key: string,
  body: Buffer,
  options: {
    contentType?: string;
    serverSideEncryption?: string;
    kmsKeyId?: string;
    metadata?: Record<string, string>;
  },
): ObjectMeta {
  const encryption = resolveEncryption(
    bucket,
    { algorithm: options.serverSideEncryption, kmsKeyId: options.kmsKeyId },
    ctx.kms,
  );
  return ctx.store.putObject(bucket, key, body, {
    contentType: options.contentType || 'binary/octet-stream',
    serverSideEncryption: encryption.algorithm,
    kmsKeyId: encryption.kmsKeyArn,
    metadata: options.metadata ?? {},
  });
}

export function encryptionHeaders(object: ObjectMeta): Record<string, string> {
  const headers: Record<string, string> = { 'x-amz-server-side-encryption': object.serverSideEncryption };
  if (object.kmsKeyId) headers['x-amz-server-side-encryption-aws-kms-key-id'] = object.kmsKeyId;
  return headers;
}

export function checkKey(key: string): void {
  if (!key) throw new AwsError('InvalidArgument', 'An object key must not be empty');
  if (Buffer.byteLength(key, 'utf8') > 1024) throw new AwsError('KeyTooLongError', 'Your key is too long', 400);
}

function userMetadata(headers: Record<string, string>): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers))
    if (name.startsWith('x-amz-meta-')) metadata[name.slice(11)] = value;
  return metadata;
}

function getObject(req: ApiRequest, bucket: Bucket, key: string, ctx: S3Context, headOnly: boolean): ApiResponse {
  const object = bucket.objects.get(key);
  if (!object) {
    if (headOnly) return { status: 404 };
    throw new AwsError('NoSuchKey', 'The specified key does not exist.', 404, { Key: key });
  }
  const headers: Record<string, string | number> = {
    etag: object.etag,
    'last-modified': new Date(object.lastModified).toUTCString(),
    'content-type': object.contentType,
    'accept-ranges': 'bytes',
    ...encryptionHeaders(object),
  };
  for (const [name, value] of Object.entries(object.metadata)) headers[`x-amz-meta-${name}`] = value;
  const ifNoneMatch = req.headers['if-none-match'];
  if (ifNoneMatch && ifNoneMatch === object.etag) return { status: 304, headers };
  const range = parseRange(req.headers['range'], object.size);
  if (range === 'unsatisfiable') {
    if (headOnly) return { status: 416 };
    throw new AwsError('InvalidRange', 'The requested range is not satisfiable', 416, {
      RangeRequested: req.headers['range'] ?? '',
      ActualObjectSize: String(object.size),
    });
  }
  const [start, end] = range ?? [0, object.size - 1];
  headers['content-length'] = Math.max(0, end - start + 1);
  if (range) headers['content-range'] = `bytes ${start}-${end}/${object.size}`;
  const status = range ? 206 : 200;
  if (headOnly || object.size === 0) return { status, headers };
  return { status, headers, file: { path: ctx.store.dataPath(bucket, key), start, end } };
}

/** Single byte ranges (`bytes=a-b`, `a-`, `-n`); anything else is ignored like S3 does. */
function parseRange(header: string | undefined, size: number): [number, number] | 'unsatisfiable' | undefined {
  const match = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return [Math.max(0, size - suffix), size - 1];
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return [start, end];
}

interface ListCursor {
  after: string;
  skipPrefix?: string;
}

function listObjectsV2(req: ApiRequest, bucket: Bucket, ctx: S3Context): ApiResponse {
  const prefix = queryValue(req, 'prefix') ?? '';
  const delimiter = queryValue(req, 'delimiter') || undefined;
  const startAfter = queryValue(req, 'start-after');
  const token = queryValue(req, 'continuation-token');
  const urlEncoded = queryValue(req, 'encoding-type') === 'url';
  const maxKeysText = queryValue(req, 'max-keys');
  const maxKeys = maxKeysText === undefined ? LIST_OBJECTS_MAX_KEYS : Number(maxKeysText);
  if (!Number.isInteger(maxKeys) || maxKeys < 0)
    throw new AwsError('InvalidArgument', 'Provided max-keys not an integer or within integer range', 400, {
      ArgumentName: 'max-keys',
    });
  let cursor: ListCursor = { after: startAfter ?? '' };
  if (token !== undefined) {
    try {
      cursor = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as ListCursor;
      if (typeof cursor.after !== 'string') throw new Error('bad token');
    } catch {
      throw new AwsError('InvalidArgument', 'The continuation token provided is incorrect', 400, {
        ArgumentName: 'continuation-token',
      });
    }
  }
  const limit = Math.min(maxKeys, LIST_OBJECTS_MAX_KEYS);
  const contents: ObjectMeta[] = [];
  const commonPrefixes: string[] = [];
  let last: ListCursor | undefined;
  let truncated = false;
  for (const key of ctx.store.keysAfter(bucket, prefix, cursor.after)) {
    if (cursor.skipPrefix && key.startsWith(cursor.skipPrefix)) continue;
    const rest = key.slice(prefix.length);
    const cut = delimiter ? rest.indexOf(delimiter) : -1;
    const common = cut >= 0 ? prefix + rest.slice(0, cut + delimiter!.length) : undefined;
    if (common !== undefined && commonPrefixes[commonPrefixes.length - 1] === common) continue;
    if (contents.length + commonPrefixes.length >= limit) {
      truncated = true;
      break;
    }
    if (common !== undefined) {
      commonPrefixes.push(common);
      last = { after: key, skipPrefix: common };
    } else {
      contents.push(bucket.objects.get(key)!);
      last = { after: key };
    }
  }
  const encode = (text: string) => (urlEncoded ? encodeURIComponent(text).replace(/%2F/g, '/') : text);
  const body =
    `<ListBucketResult xmlns="${S3_XMLNS}">` +
    el('Name', bucket.name) +
    el('Prefix', encode(prefix)) +
    el('Delimiter', delimiter && encode(delimiter)) +
    el('StartAfter', startAfter && encode(startAfter)) +
    el('ContinuationToken', token) +
    el('NextContinuationToken', truncated && last ? Buffer.from(JSON.stringify(last)).toString('base64') : undefined) +
    el('KeyCount', contents.length + commonPrefixes.length) +
    el('MaxKeys', maxKeys) +
    el('EncodingType', urlEncoded ? 'url' : undefined) +
    el('IsTruncated', truncated) +
    contents
      .map(
        (o) =>
          `<Contents>${el('Key', encode(o.key))}${el('LastModified', new Date(o.lastModified).toISOString())}` +
          `${el('ETag', o.etag)}${el('Size', o.size)}${el('StorageClass', 'STANDARD')}</Contents>`,
      )
      .join('') +
    commonPrefixes.map((p) => `<CommonPrefixes>${el('Prefix', encode(p))}</CommonPrefixes>`).join('') +
    `</ListBucketResult>`;
  return xml(body);
}

function xml(body: string, status = 200): ApiResponse {
  return { status, headers: { 'content-type': 'application/xml' }, body: XML_DECLARATION + body };
}
