// AWS SDK clients built from EngineSettings: created lazily (a Lambda or `ec2-runner instances`
// pays only for what it uses) and shared by every engine operation.
import { SSMClient } from '@aws-sdk/client-ssm';
import { S3Client } from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import type { AwsSettings } from './api';
import { credentialChainLogger, regionFromEnvironment } from './awsEnvironment';
import { SDK_MAX_ATTEMPTS, SDK_RETRY_MODE } from './defaults';
import { expectBucketOwner } from './bucketOwner';
import { annotateFailedOperation } from './operationTag';

export interface AwsClients {
  readonly ssm: SSMClient;
  /** S3 in the clients' region. */
  readonly s3: S3Client;
  /** S3 in another region (a bucket that lives there), created once per region. */
  s3In(region: string): S3Client;
  readonly sts: STSClient;
  readonly tagging: ResourceGroupsTaggingAPIClient;
  /** The region every client uses (resolved from settings, environment or shared config). */
  region(): Promise<string>;
  dispose(): void;
}

/** True when requests go to a custom endpoint (the sandbox, LocalStack...): S3 then needs path-style URLs. */
export function usesCustomEndpoint(settings: AwsSettings, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(settings.endpointUrl || env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL);
}

/** Options of the client set. */
export interface ClientOptions {
  /** The account every S3 request expects to own its bucket (x-amz-expected-bucket-owner), see bucketOwner.ts. */
  bucketOwner?: () => Promise<string>;
}

function commonConfig(settings: AwsSettings) {
  return {
    region: settings.region || regionFromEnvironment(),
    profile: settings.profile || undefined,
    endpoint: settings.endpointUrl || undefined,
    // Explicit credentials win; otherwise the standard chain (env, SSO, shared files, process,
    // container/instance metadata). An explicit profile makes the chain skip environment keys,
    // as the AWS CLI does with --profile.
    credentials:
      settings.credentials ??
      fromNodeProviderChain({
        profile: settings.profile || undefined,
        logger: credentialChainLogger(settings.profile),
      }),
    retryMode: SDK_RETRY_MODE,
    maxAttempts: SDK_MAX_ATTEMPTS,
  };
}

export function createClients(settings: AwsSettings, options: ClientOptions = {}): AwsClients {
  const created: Array<{ destroy(): void }> = [];
  function lazy<T extends { destroy(): void }>(make: () => T): () => T {
    let client: T | undefined;
    return () => {
      if (!client) {
        client = make();
        created.push(client);
      }
      return client;
    };
  }
  const ssm = lazy(() => annotateFailedOperation(new SSMClient(commonConfig(settings))));
  const makeS3 = (region?: string) => {
    const client = annotateFailedOperation(
      new S3Client({
        ...commonConfig(settings),
        ...(region ? { region } : {}),
        forcePathStyle: usesCustomEndpoint(settings),
        // The engine verifies content itself with sha256 end to end; extra SDK checksums add
        // nothing and are not understood by every S3-compatible endpoint.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      }),
    );
    return options.bucketOwner ? expectBucketOwner(client, options.bucketOwner) : client;
  };
  const s3 = lazy(() => makeS3());
  const regionalS3 = new Map<string, () => S3Client>();
  const sts = lazy(() => annotateFailedOperation(new STSClient(commonConfig(settings))));
  const tagging = lazy(() => annotateFailedOperation(new ResourceGroupsTaggingAPIClient(commonConfig(settings))));
  return {
    get ssm() {
      return ssm();
    },
    get s3() {
      return s3();
    },
    s3In(region) {
      let client = regionalS3.get(region);
      if (!client) regionalS3.set(region, (client = lazy(() => makeS3(region))));
      return client();
    },
    get sts() {
      return sts();
    },
    get tagging() {
      return tagging();
    },
    region: () => ssm().config.region(),
    dispose() {
      for (const client of created.splice(0)) client.destroy();
    },
  };
}
