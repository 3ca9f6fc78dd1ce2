// Run Command's records: a command, its per-instance invocations and their statuses, and how the
// command's own Status follows from its invocations' (SSM's aggregation rules, MaxErrors included).
import type { RunningScript } from './agent';
import type { SandboxInstance } from './fleet';

export type InvocationStatus =
  'Pending' | 'InProgress' | 'Delayed' | 'Success' | 'Cancelled' | 'TimedOut' | 'Failed' | 'Cancelling';

export interface CommandRequest {
  documentName: string;
  documentVersion: string;
  parameters: Record<string, string[]>;
  lines: string[];
  workingDirectory: string;
  executionTimeoutSeconds: number;
  instanceIds: string[];
  targets: Array<{ Key: string; Values: string[] }>;
  comment: string;
  timeoutSeconds: number;
  outputS3BucketName: string;
  outputS3KeyPrefix: string;
  maxConcurrency: string;
  maxErrors: string;
  serviceRoleArn: string;
  notificationConfig: unknown;
  cloudWatchOutputConfig: { CloudWatchLogGroupName: string; CloudWatchOutputEnabled: boolean };
}

export interface Invocation {
  command: Command;
  instance: SandboxInstance;
  status: InvocationStatus;
  statusDetails: string;
  /** Before this time GetCommandInvocation answers InvocationDoesNotExist (eventual consistency). */
  visibleAt: number;
  startedAt?: number;
  endedAt?: number;
  responseCode: number;
  stdout: Buffer;
  stderr: Buffer;
  run?: RunningScript;
  timer?: NodeJS.Timeout;
  timedOut: boolean;
  cancelRequested: boolean;
  delivered: boolean;
  /** Times the script started (more than once after a 194 reboot). */
  executions: number;
}

export interface Command {
  id: string;
  request: CommandRequest;
  requestedAt: number;
  expiresAfter: number;
  invocations: Invocation[];
  byInstance: Map<string, Invocation>;
  queue: Invocation[];
  inFlight: number;
  concurrencyLimit: number;
  errorLimit: number;
  counts: {
    completed: number;
    errors: number;
    deliveryTimedOut: number;
    executionTimedOut: number;
    cancelled: number;
    started: number;
    success: number;
  };
  cancelRequested: boolean;
}

const TERMINAL: ReadonlySet<InvocationStatus> = new Set(['Success', 'Cancelled', 'TimedOut', 'Failed']);

export function isTerminal(status: InvocationStatus): boolean {
  return TERMINAL.has(status);
}

/** The command's aggregate Status and StatusDetails, from its counts. */
export function commandStatus(command: Command): { status: InvocationStatus; details: string } {
  const total = command.invocations.length;
  const c = command.counts;
  if (c.completed === total) {
    if (total === 0) return { status: 'Success', details: 'No Instances In Tag' };
    if (c.cancelled > 0 && command.cancelRequested) return { status: 'Cancelled', details: 'Cancelled' };
    const failures = c.errors + c.deliveryTimedOut;
    if (failures === 0 && c.cancelled === 0) return { status: 'Success', details: 'Success' };
    if (failures > command.errorLimit) {
      if (c.deliveryTimedOut === failures) return { status: 'TimedOut', details: 'Delivery Timed Out' };
      if (c.executionTimedOut === failures) return { status: 'TimedOut', details: 'Execution Timed Out' };
      return { status: 'Failed', details: 'Failed' };
    }
    return { status: 'Success', details: 'Incomplete' };
  }
  if (command.cancelRequested) return { status: 'Cancelling', details: 'Cancelling' };
  if (c.started > 0 || c.completed > 0) return { status: 'InProgress', details: 'InProgress' };
  return { status: 'Pending', details: 'Pending' };
}

/** "50" or "10%" of `total`, at least `minimum`. */
export function resolveCount(value: string, total: number, minimum: number): number {
  const count = value.endsWith('%') ? Math.ceil((Number(value.slice(0, -1)) / 100) * total) : Number(value);
  return Math.max(minimum, count);
}
