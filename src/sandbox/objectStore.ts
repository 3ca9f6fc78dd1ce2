// S3 objects on disk. A key never becomes a path: each object is stored under the SHA-256 of its
// key (so `../x`, absolute keys or 1,024-byte keys cannot escape or overflow a file name), with a
// JSON sidecar holding the key and metadata so a restart on the same data dir reloads everything.
// An in-memory sorted key list makes ListObjectsV2 (Prefix/StartAfter) a binary search.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ObjectMeta {
  key: string;
  size: number;
  etag: string;
  lastModified: number;
  contentType: string;
  serverSideEncryption: string;
  /** The KMS key ARN of an aws:kms object. */
  kmsKeyId?: string;
  metadata: Record<string, string>;
}

export interface Bucket {
  name: string;
  createdAt: number;
  /** The bucket's region; undefined: the sandbox's own region. */
  region?: string;
  /** The bucket policy the sandbox models for it (set at start-up, see bucketRules.ts). */
  policy?: 'require-kms';
  /** Stored sub-resource configurations (publicAccessBlock, encryption, lifecycle) as received XML. */
  configs: Record<string, string>;
  objects: Map<string, ObjectMeta>;
  sortedKeys: string[];
  dir: string;
}

const BUCKET_NAME = /^(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function isValidBucketName(name: string): boolean {
  return BUCKET_NAME.test(name) && !name.includes('..');
}

/** Staged code and run output are private to the user running the sandbox (whatever the umask). */
export const PRIVATE_DIR = 0o700;
export const PRIVATE_FILE = 0o600;

export class ObjectStore {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly root: string) {
    mkdirSync(root, { recursive: true, mode: PRIVATE_DIR });
    for (const name of readdirSync(root)) if (isValidBucketName(name)) this.loadBucket(name);
  }

  bucket(name: string): Bucket | undefined {
    return this.buckets.get(name);
  }

  listBuckets(): Bucket[] {
    return [...this.buckets.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  createBucket(name: string, region?: string): Bucket {
    if (!isValidBucketName(name)) throw new Error(`invalid bucket name ${name}`);
    const existing = this.buckets.get(name);
    if (existing) return existing;
    const dir = join(this.root, name);
    mkdirSync(join(dir, 'objects'), { recursive: true, mode: PRIVATE_DIR });
    const bucket: Bucket = {
      name,
      createdAt: Date.now(),
      region,
      configs: {},
      objects: new Map(),
      sortedKeys: [],
      dir,
    };
    this.saveBucket(bucket);
    this.buckets.set(name, bucket);
    return bucket;
  }

  setRegion(bucket: Bucket, region: string | undefined): void {
    bucket.region = region;
    this.saveBucket(bucket);
  }

  setConfig(bucket: Bucket, name: string, xml: string | undefined): void {
    if (xml === undefined) delete bucket.configs[name];
    else bucket.configs[name] = xml;
    this.saveBucket(bucket);
  }

  putObject(
    bucket: Bucket,
    key: string,
    body: Buffer,
    meta: Pick<ObjectMeta, 'contentType' | 'serverSideEncryption' | 'kmsKeyId' | 'metadata'>,
  ): ObjectMeta {
    const object: ObjectMeta = {
      key,
      size: body.length,
      etag: `"${createHash('md5').update(body).digest('hex')}"`,
      lastModified: Date.now(),
      ...meta,
    };
    const base = this.objectBase(bucket, key);
    // Write then rename: a concurrent GET sees the old or the new object, never half of one.
    const temp = `${base}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(temp, body, { mode: PRIVATE_FILE });
    renameSync(temp, `${base}.data`);
    writeFileSync(`${base}.json`, JSON.stringify(object), { mode: PRIVATE_FILE });
    if (!bucket.objects.has(key)) insertSorted(bucket.sortedKeys, key);
    bucket.objects.set(key, object);
    return object;
  }

  dataPath(bucket: Bucket, key: string): string {
    return `${this.objectBase(bucket, key)}.data`;
  }

  deleteObject(bucket: Bucket, key: string): void {
    if (!bucket.objects.delete(key)) return;
    const index = lowerBound(bucket.sortedKeys, key);
    if (bucket.sortedKeys[index] === key) bucket.sortedKeys.splice(index, 1);
    const base = this.objectBase(bucket, key);
    rmSync(`${base}.data`, { force: true });
    rmSync(`${base}.json`, { force: true });
  }

  /** Keys > `after` starting with `prefix`, in order, lazily (callers stop when a page is full). */
  *keysAfter(bucket: Bucket, prefix: string, after: string): Generator<string> {
    const keys = bucket.sortedKeys;
    const start = compareKeys(after, prefix) > 0 ? upperBound(keys, after) : lowerBound(keys, prefix);
    for (let i = start; i < keys.length; i++) {
      if (!keys[i].startsWith(prefix)) return;
      yield keys[i];
    }
  }

  private objectBase(bucket: Bucket, key: string): string {
    return join(bucket.dir, 'objects', createHash('sha256').update(key, 'utf8').digest('hex'));
  }

  private saveBucket(bucket: Bucket): void {
    writeFileSync(
      join(bucket.dir, 'bucket.json'),
      JSON.stringify({
        name: bucket.name,
        createdAt: bucket.createdAt,
        region: bucket.region,
        configs: bucket.configs,
      }),
      { mode: PRIVATE_FILE },
    );
  }

  private loadBucket(name: string): void {
    const dir = join(this.root, name);
    const file = join(dir, 'bucket.json');
    if (!existsSync(file)) return;
    const saved = JSON.parse(readFileSync(file, 'utf8')) as {
      createdAt: number;
      region?: string;
      configs: Record<string, string>;
    };
    const bucket: Bucket = {
      name,
      createdAt: saved.createdAt,
      region: saved.region,
      configs: saved.configs ?? {},
      objects: new Map(),
      sortedKeys: [],
      dir,
    };
    mkdirSync(join(dir, 'objects'), { recursive: true });
    for (const entry of readdirSync(join(dir, 'objects'))) {
      if (!entry.endsWith('.json')) continue;
      const object = JSON.parse(readFileSync(join(dir, 'objects', entry), 'utf8')) as ObjectMeta;
      if (existsSync(join(dir, 'objects', entry.replace(/\.json$/, '.data')))) bucket.objects.set(object.key, object);
    }
    bucket.sortedKeys = [...bucket.objects.keys()].sort(compareKeys);
    this.buckets.set(name, bucket);
  }
}

/** S3 lists keys in UTF-8 binary order; for JS strings compare code points, not UTF-16 units. */
function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function lowerBound(keys: string[], value: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(keys[mid], value) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(keys: string[], value: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(keys[mid], value) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function insertSorted(keys: string[], key: string): void {
  keys.splice(lowerBound(keys, key), 0, key);
}
