// A bucket lives in one region, which need not be SSM's. S3 answers a request sent to another
// region's endpoint with 301 PermanentRedirect (HeadBucket: an empty body, which the SDK reports as
// "UnknownError") and names the bucket's region in x-amz-bucket-region, a header present on 200,
// 301 and 403 answers alike. Each bucket's region is learnt once per engine; its requests, presigned
// URLs and POST policies then go through an S3 client of that region.
import { HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { RunnerError } from './api';
import type { AwsClients } from './clients';
import { errorName, regionNamedBy } from './errors';

function isRedirect(error: unknown): boolean {
  return (
    (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode === 301 ||
    errorName(error) === 'PermanentRedirect'
  );
}

export interface BucketLocation {
  exists: boolean;
  /** The bucket's region (the clients' region when it does not exist). */
  region: string;
}

export class BucketRegions {
  private readonly regions = new Map<string, string>();

  constructor(private readonly clients: AwsClients) {}

  /** HeadBucket, following a 301 to the bucket's own region; remembers the region. */
  async locate(bucket: string): Promise<BucketLocation> {
    const home = await this.clients.region();
    const known = this.regions.get(bucket) ?? home;
    try {
      return this.remember(bucket, true, await this.headIn(bucket, known, home));
    } catch (error) {
      if (errorName(error) === 'NotFound' || errorName(error) === 'NoSuchBucket')
        return { exists: false, region: home };
      const region = regionNamedBy(error);
      if (!isRedirect(error) || !region || region === known) throw explain(error, bucket, home, region);
      try {
        return this.remember(bucket, true, await this.headIn(bucket, region, home));
      } catch (retried) {
        if (errorName(retried) === 'NotFound' || errorName(retried) === 'NoSuchBucket')
          return { exists: false, region: home };
        throw explain(retried, bucket, home, region);
      }
    }
  }

  /** The region of a bucket seen by locate(), else undefined. */
  regionOf(bucket: string): string | undefined {
    return this.regions.get(bucket);
  }

  /** The client for the bucket's region as far as known (the clients' own region until a 301 says otherwise). */
  async client(bucket: string): Promise<S3Client> {
    const region = this.regions.get(bucket);
    return region && region !== (await this.clients.region()) ? this.clients.s3In(region) : this.clients.s3;
  }

  /**
   * Runs one request on the bucket's client; a 301 naming another region switches to it once (runs followed from
   * another process).
   */
  async send<T>(bucket: string, call: (s3: S3Client) => Promise<T>): Promise<T> {
    try {
      return await call(await this.client(bucket));
    } catch (error) {
      const region = regionNamedBy(error);
      if (!isRedirect(error) || !region || region === this.regions.get(bucket)) throw error;
      this.regions.set(bucket, region);
      return call(await this.client(bucket));
    }
  }

  private async headIn(bucket: string, region: string, home: string): Promise<string> {
    const s3 = region === home ? this.clients.s3 : this.clients.s3In(region);
    const out = await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return out.BucketRegion || region;
  }

  private remember(bucket: string, exists: boolean, region: string): BucketLocation {
    this.regions.set(bucket, region);
    return { exists, region };
  }
}

/** A redirect the engine cannot follow becomes one sentence naming both regions; anything else passes through. */
function explain(error: unknown, bucket: string, home: string, bucketRegion: string | undefined): unknown {
  if (!isRedirect(error)) return error;
  const where =
    bucketRegion && bucketRegion !== home ? `in region ${bucketRegion}` : 'in another region (S3 did not say which)';
  return new RunnerError(
    `S3 bucket ${bucket} is ${where}, not in ${home} where SSM runs, and S3 would not serve it there (301 ` +
      `PermanentRedirect)`,
    'BucketInOtherRegion',
    {
      cause: error,
      advice: `use a bucket in ${home} (another one, or the default one created).`,
      data: { bucket, bucketRegion, home },
    },
  );
}
