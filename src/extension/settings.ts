// The `ec2Runner.*` settings as plain data. Their defaults live in ONE place: package.json
// `contributes.configuration` (config.ts reads them through getConfiguration, never repeating them).
// Empty strings mean "not set": the engine then uses the AWS environment variables and shared
// config (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, SSO...) and EC2_RUNNER_BUCKET.
import type { EngineSettings, RunSource, TransferMode } from '../core/frontEnd';
import { languageExtension } from '../core/frontEnd';

export type Feedback = 'fireAndForget' | 'exitCode' | 'exitCodeAndData';

/** Where a run's output is shown: the shared output channel, or a terminal of its own (colours, `\r` progress bars). */
export type RunIn = 'outputChannel' | 'terminal';

export interface ExtensionSettings {
  profile: string;
  region: string;
  endpointUrl: string;
  bucket: string;
  keyPrefix: string;
  kmsKeyId: string;
  interpreter: string;
  workingDirectory: string;
  env: Record<string, string>;
  timeoutSeconds: number;
  saveBeforeRun: boolean;
  transferMode: TransferMode;
  clearPreviousOutput: boolean;
  preserveFocus: boolean;
  promptForArguments: boolean;
  feedback: Feedback;
  installDependencies: boolean;
  venvRoot: string;
  debugpyPath: string;
  runIn: RunIn;
}

/** Every setting key, in the order config.ts reads them (a unit test checks package.json has exactly these). */
export const SETTING_KEYS: ReadonlyArray<keyof ExtensionSettings> = [
  'profile',
  'region',
  'endpointUrl',
  'bucket',
  'keyPrefix',
  'kmsKeyId',
  'interpreter',
  'workingDirectory',
  'env',
  'timeoutSeconds',
  'saveBeforeRun',
  'transferMode',
  'clearPreviousOutput',
  'preserveFocus',
  'promptForArguments',
  'feedback',
  'installDependencies',
  'venvRoot',
  'debugpyPath',
  'runIn',
];

/**
 * Settings a cloned repository must not choose for you: they pick credentials, endpoint or bucket
 * (where code and signed requests go) or what runs on the instance. package.json lists exactly
 * these in `restrictedConfigurations` (a unit test checks), so in Restricted Mode VS Code ignores
 * their workspace values; `trustedValue` does the same on our side.
 */
export const RESTRICTED_SETTING_KEYS: ReadonlyArray<keyof ExtensionSettings> = [
  'profile',
  'region',
  'endpointUrl',
  'bucket',
  'kmsKeyId',
  'keyPrefix',
  'interpreter',
  'workingDirectory',
  'env',
  'transferMode',
  'venvRoot',
];

/** What `WorkspaceConfiguration.inspect` reports for one setting (the parts used here). */
export interface InspectedSetting<T> {
  defaultValue?: T;
  globalValue?: T;
  workspaceValue?: T;
  workspaceFolderValue?: T;
}

/**
 * The value in effect: in an untrusted workspace a restricted setting comes from the user settings or the default only.
 */
export function trustedValue<T>(
  key: keyof ExtensionSettings,
  inspected: InspectedSetting<T> | undefined,
  effective: T,
  trusted: boolean,
): T {
  if (trusted || !RESTRICTED_SETTING_KEYS.includes(key)) return effective;
  return (inspected?.globalValue ?? inspected?.defaultValue ?? effective) as T;
}

/** Settings that change which AWS account, region, endpoint or bucket the engine talks to. */
export const ENGINE_SETTING_KEYS: ReadonlyArray<keyof ExtensionSettings> = [
  'profile',
  'region',
  'endpointUrl',
  'bucket',
  'keyPrefix',
  'kmsKeyId',
];

function blankToUndefined(value: string | undefined): string | undefined {
  return value?.trim() ? value.trim() : undefined;
}

export function engineSettingsOf(
  settings: Pick<ExtensionSettings, 'profile' | 'region' | 'endpointUrl' | 'bucket' | 'keyPrefix'> &
    Partial<Pick<ExtensionSettings, 'kmsKeyId'>>,
): EngineSettings {
  return {
    profile: blankToUndefined(settings.profile),
    region: blankToUndefined(settings.region),
    endpointUrl: blankToUndefined(settings.endpointUrl),
    bucket: blankToUndefined(settings.bucket),
    keyPrefix: blankToUndefined(settings.keyPrefix),
    ...(blankToUndefined(settings.kmsKeyId) ? { kmsKeyId: blankToUndefined(settings.kmsKeyId) } : {}),
  };
}

/** The profile in effect (setting, else AWS_PROFILE), for messages such as `aws sso login --profile X`. */
export function effectiveProfile(
  settings: Pick<ExtensionSettings, 'profile'>,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  return blankToUndefined(settings.profile) ?? blankToUndefined(env.AWS_PROFILE);
}

/** A one-line description of where the extension talks to, for the Instances view's message. */
export function connectionSummary(
  settings: Pick<ExtensionSettings, 'profile' | 'region' | 'endpointUrl'>,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const profile = effectiveProfile(settings, env) ?? 'default credentials';
  const region =
    blankToUndefined(settings.region) ??
    blankToUndefined(env.AWS_REGION) ??
    blankToUndefined(env.AWS_DEFAULT_REGION) ??
    'region from profile';
  const endpoint = blankToUndefined(settings.endpointUrl) ?? blankToUndefined(env.AWS_ENDPOINT_URL);
  return [profile, region, endpoint].filter(Boolean).join(' · ');
}

/**
 * The `interpreter` setting runs every Python source: a file, a selection, a project's entry (and their
 * reruns). Shell scripts and commands keep their own; an interpreter the source already names wins.
 */
export function withInterpreterSetting(source: RunSource, interpreter: string): RunSource {
  const command = interpreter.trim();
  if (!command || source.kind === 'command' || source.interpreter) return source;
  const isPython =
    source.kind === 'selection'
      ? languageExtension(source.language) === '.py'
      : /\.py$/i.test(source.kind === 'file' ? source.fileName : source.entry);
  return isPython ? { ...source, interpreter: command } : source;
}
