// S3's request-rate limits: about 3,500 PUT/COPY/POST/DELETE and 5,500 GET/HEAD requests per
// second per partitioned prefix; above that S3 answers 503 SlowDown. Off by default (0 = no
// limit); `s3PutRps` / `s3GetRps` switch them on (bench: a 1,000-instance fleet).
//
// Real S3 partitions a bucket by key prefix on its own, splitting hot prefixes as load grows; a new
// prefix starts in one partition with the figures above. The sandbox models the starting point
// with a fixed, documented partition: the bucket plus the key's first PARTITION_DEPTH segments
// ending in "/" (`ec2-runner/runs/<runId>/` for live output: a whole fleet's run shares one,
// `ec2-runner/staged/<sha256>/` for a staged file), or the key's own directory when it is
// shallower. A listing is a GET on the partition of its `prefix` parameter.
import { AwsError } from './errors';
import { queryValue, type ApiRequest } from './http';
import { Throttle } from './knobs';
import { splitS3Path } from './s3Api';

/** Key segments that make up a rate-limit partition (`<keyPrefix>runs/<runId>/`). */
export const PARTITION_DEPTH = 3;

const WRITES = new Set(['PutObject', 'PostObject', 'CopyObject', 'DeleteObject', 'DeleteObjects']);
const READS = new Set(['GetObject', 'HeadObject', 'ListObjectsV2', 'ListObjects']);

/** The partition of a key (or listing prefix): up to its PARTITION_DEPTH-th "/", else its last "/". */
export function partitionOf(key: string): string {
  let end = -1;
  for (let depth = 0; depth < PARTITION_DEPTH; depth++) {
    const slash = key.indexOf('/', end + 1);
    if (slash < 0) break;
    end = slash;
  }
  return key.slice(0, end + 1);
}

export function slowDown(): AwsError {
  return new AwsError('SlowDown', 'Please reduce your request rate.', 503);
}

export class S3RateLimits {
  private readonly buckets = new Map<string, Throttle>();

  constructor(
    private readonly rates: () => { put: number; get: number },
    /** Told of every SlowDown answered (the sandbox counts them as `slowDown:s3:<operation>`). */
    private readonly onSlowDown: (operation: string) => void = () => undefined,
  ) {}

  /**
   * Takes one request of `operation` from its partition's budget; throws SlowDown above the rate.
   * The key of a browser POST is in its form, not its path: the caller passes it.
   */
  check(req: ApiRequest, operation: string, postedKey?: string): void {
    const kind = WRITES.has(operation) ? 'put' : READS.has(operation) ? 'get' : undefined;
    if (!kind) return;
    const rps = this.rates()[kind];
    if (rps <= 0) return;
    const { bucket, key } = splitS3Path(req.rawPath);
    const name = operation.startsWith('List') ? (queryValue(req, 'prefix') ?? '') : (postedKey ?? key);
    const id = `${kind} ${bucket}/${partitionOf(name)}`;
    let throttle = this.buckets.get(id);
    if (!throttle) {
      throttle = new Throttle();
      throttle.setRate(rps);
      this.buckets.set(id, throttle);
    } else if (throttle.rate !== rps) throttle.setRate(rps);
    if (throttle.take()) return;
    this.onSlowDown(operation);
    throw slowDown();
  }

  /** Forgets every partition's budget (after a rate change, so old buckets do not linger). */
  reset(): void {
    this.buckets.clear();
  }
}
