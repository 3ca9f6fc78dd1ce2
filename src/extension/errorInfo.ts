// What to tell the user about a failure and which buttons fix it. The engine's RunnerError is
// recognised by shape (name + code), not instanceof: it comes from the separately loaded engine bundle.
import { messageWithAdvice } from '../core/frontEnd';
import { isValidProfileName } from '../core/frontEnd';
import { EXTENSION_ADVICE } from './advice';

export interface ErrorAction {
  title: string;
  command: string;
  args?: unknown[];
}

export interface ErrorInfo {
  code: string;
  message: string;
  actions: ErrorAction[];
}

export function errorCodeOf(error: unknown): string | undefined {
  const e = error as { name?: string; code?: unknown } | undefined;
  return e && e.name === 'RunnerError' && typeof e.code === 'string' ? e.code : undefined;
}

/** The message with the extension's own advice (settings, commands) in place of the engine's neutral one. */
export function errorMessageOf(error: unknown): string {
  return messageWithAdvice(error, EXTENSION_ADVICE);
}

const SELECT_PROFILE: ErrorAction = { title: 'Select Profile and Region…', command: 'ec2Runner.selectProfileRegion' };
const OPEN_SETTINGS: ErrorAction = {
  title: 'Open Settings',
  command: 'workbench.action.openSettings',
  args: ['ec2Runner'],
};

export function describeError(error: unknown, profile?: string): ErrorInfo {
  const code = errorCodeOf(error) ?? 'Unexpected';
  const message = errorMessageOf(error);
  const ssoLogin: ErrorAction = {
    title: `Run aws sso login${profile ? ` --profile ${profile}` : ''}`,
    command: 'ec2Runner.ssoLogin',
  };
  switch (code) {
    case 'NoCredentials':
      return { code, message, actions: profile ? [ssoLogin, SELECT_PROFILE] : [SELECT_PROFILE, OPEN_SETTINGS] };
    case 'CredentialsExpired':
      return { code, message, actions: [ssoLogin, SELECT_PROFILE] };
    case 'InvalidCredentials':
    case 'NoRegion':
      return { code, message, actions: [SELECT_PROFILE] };
    case 'NoSuchBucket':
      return {
        code,
        message,
        actions: [
          { title: 'Create Staging Bucket', command: 'ec2Runner.createBucket' },
          { ...OPEN_SETTINGS, args: ['ec2Runner.bucket'] },
        ],
      };
    case 'EndpointUnreachable':
      return { code, message, actions: [{ ...OPEN_SETTINGS, args: ['ec2Runner.endpointUrl'] }] };
    default:
      return {
        code,
        message: errorCodeOf(error) ? message : `EC2 Runner failed unexpectedly: ${message}`,
        actions: [],
      };
  }
}

/**
 * The SSO sign-in terminal: the profile reaches `aws sso login` through the terminal's environment
 * (AWS_PROFILE), never as typed text, so no shell (bash, PowerShell, cmd) ever parses it. A name
 * that is not a profile name is refused (undefined): settings may come from anywhere.
 */
export function ssoLoginTerminal(
  profile: string | undefined,
): { env: Record<string, string>; text: string } | undefined {
  if (profile && !isValidProfileName(profile)) return undefined;
  return { env: profile ? { AWS_PROFILE: profile } : {}, text: 'aws sso login' };
}
