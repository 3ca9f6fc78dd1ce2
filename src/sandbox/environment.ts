// The environment variables that point the AWS CLI, the SDK and ec2-runner at a sandbox.
import type { SandboxInfo } from './index';

export function sandboxEnvironment(info: SandboxInfo): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: info.endpoint,
    AWS_ACCESS_KEY_ID: info.accessKeyId,
    AWS_SECRET_ACCESS_KEY: info.secretAccessKey,
    AWS_REGION: info.region,
    // The AWS CLI v1 (botocore) reads only AWS_DEFAULT_REGION.
    AWS_DEFAULT_REGION: info.region,
    EC2_RUNNER_BUCKET: info.bucket,
  };
}

/**
 * Variables that must not stay set next to the sandbox's keys: a profile wins over them, a session token spoils them.
 */
export const SHADOWING_VARIABLES = ['AWS_PROFILE', 'AWS_SESSION_TOKEN'];
