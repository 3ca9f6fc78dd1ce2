// Process exit codes (one source of truth for the CLI and its help text).
import type { InvocationResult, RunResult } from '../core';

export const EXIT = {
  ok: 0,
  /** A run that did not produce an exit code (not delivered, instance offline), or an error. */
  failure: 1,
  usage: 2,
  /** Like timeout(1). */
  timedOut: 124,
  /** 128 + SIGINT, like a shell. */
  cancelled: 130,
} as const;

function exitCodeOfInvocation(invocation: InvocationResult): number {
  if (invocation.status === 'Success') return EXIT.ok;
  if (invocation.status === 'TimedOut') return EXIT.timedOut;
  if (invocation.status === 'Cancelled') return EXIT.cancelled;
  if (invocation.exitCode !== null && invocation.exitCode !== 0) return invocation.exitCode;
  return EXIT.failure;
}

/**
 * One target: its exit code (124 timed out, 130 cancelled, 1 when it never ran).
 * Several: 0 when all succeeded, else the failures' common code, or 1 when they differ.
 */
export function exitCodeFor(result: RunResult): number {
  if (result.invocations.length === 0) return EXIT.failure;
  const failures = new Set(result.invocations.map(exitCodeOfInvocation).filter((code) => code !== EXIT.ok));
  if (failures.size === 0) return EXIT.ok;
  return failures.size === 1 ? [...failures][0] : EXIT.failure;
}
