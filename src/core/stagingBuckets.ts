// The engine's staging bucket: which one (configured, or the account's default), whether it exists
// (seen once per engine), creating it, and the context staging goes through: the bucket's regional
// client, the key prefix and the configured encryption.
import type { S3Client } from '@aws-sdk/client-s3';
import { RunnerError, type CallerIdentity } from './api';
import { configuredBucket, createStagingBucket, defaultBucketName } from './bucket';
import type { BucketLocation, BucketRegions } from './bucketRegion';
import type { AwsClients } from './clients';
import { DEFAULT_KEY_PREFIX } from './defaults';
import type { UploadEncryption } from './encryption';
import type { LaunchContext } from './launch';

export interface ResolvedBucket {
  bucket: string;
  /** The account's default name, not one the user chose. */
  isDefault: boolean;
  identity: CallerIdentity;
}

export interface StagingBucketOptions {
  clients: AwsClients;
  regions: BucketRegions;
  whoAmI: () => Promise<CallerIdentity>;
  /** The bucket setting (EC2_RUNNER_BUCKET applies when empty). */
  bucket?: string;
  keyPrefix?: string;
  encryption?: UploadEncryption;
}

/** The prefix with no leading slash and one trailing slash (or empty). */
export function normalizeKeyPrefix(prefix: string | undefined): string {
  const value = (prefix ?? DEFAULT_KEY_PREFIX).replace(/^\/+/, '');
  return value === '' || value.endsWith('/') ? value : `${value}/`;
}

export class StagingBuckets {
  readonly keyPrefix: string;
  /** Buckets seen to exist (checked once per engine). */
  private readonly known = new Set<string>();

  constructor(private readonly options: StagingBucketOptions) {
    this.keyPrefix = normalizeKeyPrefix(options.keyPrefix);
  }

  get encryption(): UploadEncryption | undefined {
    return this.options.encryption;
  }

  async resolve(): Promise<ResolvedBucket> {
    const identity = await this.options.whoAmI();
    const configured = configuredBucket(this.options.bucket);
    return configured
      ? { bucket: configured, isDefault: false, identity }
      : { bucket: defaultBucketName(identity.account, identity.region), isDefault: true, identity };
  }

  /** HeadBucket (following a redirect to the bucket's region); an existing bucket is remembered. */
  async locate(bucket: string): Promise<BucketLocation> {
    const location = await this.options.regions.locate(bucket);
    if (location.exists) this.known.add(bucket);
    return location;
  }

  async create({ bucket, identity }: ResolvedBucket): Promise<void> {
    await createStagingBucket(this.options.clients.s3, bucket, identity.region, this.keyPrefix, this.encryption);
    this.known.add(bucket);
  }

  /** Throws NoSuchBucket (advice for a default or a chosen bucket) unless the bucket exists. */
  async require(bucket: string, isDefault: boolean): Promise<void> {
    if (this.known.has(bucket)) return;
    if ((await this.locate(bucket)).exists) return;
    throw new RunnerError(
      isDefault ? `The staging bucket ${bucket} does not exist yet` : `S3 bucket ${bucket} does not exist`,
      'NoSuchBucket',
      {
        advice: isDefault
          ? 'create it (public access blocked, encrypted, objects expire after 7 days), ' +
            'or choose an existing bucket (EC2_RUNNER_BUCKET).'
          : 'create it, or choose an existing bucket (EC2_RUNNER_BUCKET).',
        data: { bucket, isDefault },
      },
    );
  }

  /** The bucket's region as far as seen, else undefined. */
  regionOf(bucket: string): string | undefined {
    return this.options.regions.regionOf(bucket);
  }

  /**
   * Staging, presigned URLs and upload policies go through the bucket's regional client, with the
   * configured encryption.
   */
  async launchContext(bucket: string, identity: CallerIdentity): Promise<LaunchContext> {
    return {
      clients: this.options.clients,
      identity,
      bucket,
      s3: await this.options.regions.client(bucket),
      bucketRegion: this.regionOf(bucket) ?? identity.region,
      keyPrefix: this.keyPrefix,
      encryption: this.encryption,
    };
  }

  /** The bucket's regional client, locating the bucket first when this engine has not (attach, status). */
  async locatedClient(bucket: string): Promise<S3Client> {
    if (this.regionOf(bucket) === undefined) await this.options.regions.locate(bucket);
    return this.options.regions.client(bucket);
  }
}
