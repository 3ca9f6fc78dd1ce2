// Where the engine reads the AWS environment the way the AWS CLI does, where the SDK alone differs.
import { isValidProfileName } from './profiles';

/**
 * AWS_REGION, then AWS_DEFAULT_REGION (the AWS CLI honours both; the SDK reads only the first). Undefined: the
 * profile's region.
 */
export function regionFromEnvironment(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || undefined;
}

let multipleSourcesReported = false;

/**
 * A logger for the SDK's credential chain. Its only warning worth a user's attention, the multi-line
 * "Multiple credential sources detected" (a profile and static keys both set, e.g. after the
 * sandbox's exports), becomes one line, once per process; everything else stays quiet.
 */
export function credentialChainLogger(
  profile: string | undefined,
  warn: (line: string) => void = (line) => console.warn(line),
) {
  return {
    debug: () => undefined,
    info: () => undefined,
    error: () => undefined,
    warn: (message: unknown) => {
      // An explicit profile (--profile, the setting) wins over keys in the environment, as with the AWS CLI: nothing to
      // say.
      if (profile || !/Multiple credential sources/i.test(String(message))) return;
      if (multipleSourcesReported) return;
      multipleSourcesReported = true;
      const name = process.env.AWS_PROFILE ?? '';
      const shown = isValidProfileName(name) ? ` "${name}"` : '';
      warn(
        `ec2-runner: warning: both AWS_PROFILE${shown ? ` (${shown.trim()})` : ''} and ` +
          `AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are set; using the profile. Unset one of them (for the ` +
          `sandbox: unset AWS_PROFILE).`,
      );
    },
  };
}
