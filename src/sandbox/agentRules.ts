// What the SSM agent on an instance does on its own, whatever the service asked: its execution-timeout
// bounds, the output it keeps (truncated) and where it uploads it, its working-directory check, and
// how long a modelled reboot (exit code 194) keeps it away.
import { existsSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import type { Invocation } from './invocations';
import { OUTPUT_TRUNCATED_SUFFIX, RUN_SHELL_SCRIPT_OUTPUT_FOLDER } from './limits';

/** A modelled reboot (exit code 194): the agent is away this long, then runs the command again. */
export const REBOOT_DURATION_MS = 1_000;

/** `<prefix>/<CommandId>/<InstanceId>/awsrunShellScript/0.awsrunShellScript/<stream>` (no leading slash when no prefix). */
export function outputKey(invocation: Invocation, stream: 'stdout' | 'stderr'): string {
  const prefix = invocation.command.request.outputS3KeyPrefix.replace(/\/+$/, '');
  const parts = [
    prefix,
    invocation.command.id,
    invocation.instance.instanceId,
    RUN_SHELL_SCRIPT_OUTPUT_FOLDER,
    stream,
  ].filter(Boolean);
  return parts.join('/');
}

/** The agent resets executionTimeout values outside 5..172800 to the default 3600. */
export function agentExecutionTimeoutSeconds(requested: number): number {
  return requested < 5 || requested > 172_800 ? 3_600 : requested;
}

/** Output of `max` bytes or more keeps its first `max - suffix` bytes plus `--output truncated--`. */
export function agentTruncate(head: Buffer, totalBytes: number, max: number): Buffer {
  if (totalBytes < max) return head;
  const suffix = Buffer.from(OUTPUT_TRUNCATED_SUFFIX, 'utf8');
  return Buffer.concat([head.subarray(0, max - suffix.length), suffix]);
}

/** The agent's stderr when workingDirectory is not an absolute path to a directory, else undefined. */
export function checkWorkingDirectory(dir: string): string | undefined {
  if (!dir) return undefined;
  if (!isAbsolute(dir))
    return `Invalid workingDirectory: "${dir}" is not an absolute path\nfailed to run commands: invalid working directory\n`;
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    return `Invalid workingDirectory: "${dir}" does not exist or is not a directory\nfailed to run commands: invalid working directory\n`;
  return undefined;
}
