// withSandbox(): a fresh sandbox for one test file (stopped by node:test's `after`), with what a
// test needs to point an SDK client, the ec2-runner CLI or the AWS CLI at it.
import { after } from 'node:test';
import { type Sandbox, type SandboxInfo, type SandboxOptions, startSandbox } from '../../src/sandbox/index';
import { sandboxEnvironment } from '../../src/sandbox/environment';

export interface SandboxFixture {
  sandbox: Sandbox;
  info: SandboxInfo;
  /** AwsSettings-shaped (src/core/api.ts): region, endpointUrl, credentials. */
  settings: { region: string; endpointUrl: string; credentials: { accessKeyId: string; secretAccessKey: string } };
  /** Config for `new SSMClient(...)` / `new S3Client({ ...clientConfig, forcePathStyle: true })`. */
  clientConfig: { region: string; endpoint: string; credentials: { accessKeyId: string; secretAccessKey: string } };
  /** A whole environment for a child process (CLI, `aws`): this process's env without any AWS_* variable, plus the sandbox's. */
  env: NodeJS.ProcessEnv;
}

/** Environment for child processes: no inherited AWS_* settings, no config/credential files, no pager. */
export function childEnvironment(info: SandboxInfo, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(base)) if (!name.startsWith('AWS_') && name !== 'EC2_RUNNER_BUCKET') env[name] = value;
  return {
    ...env,
    ...sandboxEnvironment(info),
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_PAGER: '',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

export async function withSandbox(options: SandboxOptions = {}): Promise<SandboxFixture> {
  const sandbox = await startSandbox({ latencyMs: 0, ...options });
  after(() => sandbox.stop());
  const { info } = sandbox;
  const credentials = { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey };
  return {
    sandbox,
    info,
    settings: { region: info.region, endpointUrl: info.endpoint, credentials },
    clientConfig: { region: info.region, endpoint: info.endpoint, credentials },
    env: childEnvironment(info),
  };
}
