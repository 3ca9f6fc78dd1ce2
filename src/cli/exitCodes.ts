// Process exit codes (one source of truth for the CLI, its help text and the README).
// A run that ran exits with the remote script's own code. What ec2-runner itself decides uses the
// AWS CLI's high codes, which scripts rarely use, so "not run" and "bad usage" are never mistaken
// for a script's own 1 or 2.
import { RunnerError, type InvocationResult, type RunResult } from '../core';
import { UsageError } from './usageError';

export const EXIT = {
  ok: 0,
  /** Several targets failed with different codes (the summary lines say which). */
  mixed: 1,
  /** Like timeout(1). */
  timedOut: 124,
  /** 128 + SIGINT, like a shell. */
  cancelled: 130,
  /** The script ran and exited 0, but its artifacts could not be saved (--artifacts DIR); stderr says why. */
  artifactsNotSaved: 251,
  /** The command line or its input (a file, a folder, an option value) is wrong; nothing was sent. */
  usage: 252,
  /** Credentials, profile, region, endpoint or bucket are missing or wrong; nothing was sent. */
  config: 253,
  /** AWS refused or the command never ran on the instance (access denied, offline, not delivered, throttled). */
  notRun: 254,
  /** An unexpected error (a bug: EC2_RUNNER_DEBUG=1 shows the stack). */
  unexpected: 255,
} as const;

/** The table `--help` and the README show. */
export const EXIT_CODES_HELP =
  "Exit codes: the remote script's own code when it ran " +
  `(0 success; 124 timed out, 130 cancelled;
with several targets, their common code, 1 when they differ). Otherwise:
  ${EXIT.artifactsNotSaved}  the script ran and succeeded, but its artifacts were not saved ` +
  `(a failing script keeps its own code)
  ${EXIT.usage}  usage error: the command line or its input is wrong (nothing was sent)
  ${EXIT.config}  configuration: credentials, profile, region, endpoint or bucket (nothing was sent)
  ${EXIT.notRun}  not run: AWS refused (access denied, throttled) or the instance never ran it (offline, not delivered)
  ${EXIT.unexpected}  unexpected error
The one-line reason is on stderr.`;

const USAGE_CODES = new Set([
  'InvalidRequest',
  'InvalidFileName',
  'InvalidEntry',
  'UnsupportedFileType',
  'UnsupportedLanguage',
  'FileUnreadable',
  'ProjectNotFound',
  'ProjectTooLarge',
  'InvalidPyproject',
  'AwsCliUnsupported',
  'AwsCliNeedsFile',
]);
const CONFIG_CODES = new Set([
  'NoCredentials',
  'CredentialsExpired',
  'InvalidCredentials',
  'NoRegion',
  'ProfileNotFound',
  'NoSuchBucket',
  'EndpointUnreachable',
  'InvalidEndpoint',
  'BucketInOtherRegion',
  'BucketPolicyDenied',
  'KmsKeyInvalid',
]);

/** Why a run's artifacts were not saved (the run itself ran: its exit code stands unless it was 0). */
export const ARTIFACT_SAVE_CODES = new Set([
  'UnsafeArtifactPath',
  'ArtifactsFolderExists',
  'ArtifactWriteFailed',
  'UnreadableArtifacts',
]);

/** The exit code for an error that stopped ec2-runner before or instead of a result. */
export function exitCodeForError(error: unknown): number {
  if (error instanceof UsageError) return EXIT.usage;
  if (!(error instanceof RunnerError)) return EXIT.unexpected;
  if (USAGE_CODES.has(error.code)) return EXIT.usage;
  if (CONFIG_CODES.has(error.code)) return EXIT.config;
  return EXIT.notRun;
}

function exitCodeOfInvocation(invocation: InvocationResult): number {
  if (invocation.status === 'Success') return EXIT.ok;
  if (invocation.status === 'TimedOut') return EXIT.timedOut;
  if (invocation.status === 'Cancelled') return EXIT.cancelled;
  if (invocation.exitCode !== null && invocation.exitCode !== 0) return invocation.exitCode;
  return EXIT.notRun;
}

/**
 * One target: its exit code (124 timed out, 130 cancelled, 254 when it never ran).
 * Several: 0 when all succeeded, else the failures' common code, or 1 when they differ.
 */
export function exitCodeFor(result: RunResult): number {
  if (result.invocations.length === 0) return EXIT.notRun;
  const failures = new Set(result.invocations.map(exitCodeOfInvocation).filter((code) => code !== EXIT.ok));
  if (failures.size === 0) return EXIT.ok;
  return failures.size === 1 ? [...failures][0] : EXIT.mixed;
}
