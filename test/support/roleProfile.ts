// An AWS config file with a `role_arn` + `source_profile` profile for the sandbox's role, so the SDK's
// own credential chain (and the ec2-runner CLI) assumes the role and refreshes the temporary
// credentials itself, as with a real account.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import type { SandboxInfo } from '../../src/sandbox/index';

export const ROLE_PROFILE = 'runner-role';

export interface RoleProfileFixture {
  configFile: string;
  /**
   * For a child process: the sandbox env without static keys, AWS_PROFILE and AWS_CONFIG_FILE pointing at the role
   * profile.
   */
  childEnv(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
}

export function writeRoleProfile(info: SandboxInfo): RoleProfileFixture {
  const dir = mkdtempSync(join(tmpdir(), 'ec2-runner-role-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const configFile = join(dir, 'config');
  writeFileSync(
    configFile,
    [
      '[profile sandbox-keys]',
      `aws_access_key_id = ${info.accessKeyId}`,
      `aws_secret_access_key = ${info.secretAccessKey}`,
      `[profile ${ROLE_PROFILE}]`,
      `role_arn = ${info.roleArn}`,
      'source_profile = sandbox-keys',
      `region = ${info.region}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return {
    configFile,
    childEnv(base) {
      const env: NodeJS.ProcessEnv = {
        ...base,
        AWS_CONFIG_FILE: configFile,
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
        AWS_PROFILE: ROLE_PROFILE,
      };
      delete env.AWS_ACCESS_KEY_ID;
      delete env.AWS_SECRET_ACCESS_KEY;
      delete env.AWS_SESSION_TOKEN;
      return env;
    },
  };
}
