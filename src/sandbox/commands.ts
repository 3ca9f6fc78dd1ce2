// Run Command's state: commands, their per-instance invocations, and the transitions
// Pending -> InProgress -> Success | Failed | TimedOut | Cancelled (Cancelling in between).
// Work is driven by one timer per invocation event (delivery, execution timeout, delivery timeout),
// never by polling instances, and aggregate counts are kept incrementally so reads are O(1).
import { randomUUID } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { type RunningScript, type ScriptResult, type ScriptSpec, runScript } from './agent';
import type { SandboxInstance } from './fleet';
import {
  AGENT_REBOOT_EXIT_CODE,
  KILLED_EXIT_CODE,
  MAX_STDERR_CONTENT_BYTES,
  MAX_STDOUT_CONTENT_BYTES,
  OUTPUT_TRUNCATED_SUFFIX,
  RUN_SHELL_SCRIPT_OUTPUT_FOLDER,
} from './limits';

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

export interface CommandStoreOptions {
  region: string;
  instancePath: string;
  deliveryDelayMs: () => number;
  invocationVisibilityDelayMs: number;
  /** Tests: deliver-timeout after this many ms instead of TimeoutSeconds. */
  deliveryTimeoutMs?: number;
  /** Uploads full output when OutputS3BucketName is set; false when the bucket does not exist. */
  uploadOutput: (bucket: string, key: string, file: string) => boolean;
  /** How the agent of `instance` runs scripts right now (switches that model real instances). */
  agentFor?: (instance: SandboxInstance) => Pick<ScriptSpec, 'withoutInstanceId' | 'extraEnv' | 'niceness'>;
}

/** A modelled reboot (exit code 194): the agent is away this long, then runs the command again. */
export const REBOOT_DURATION_MS = 1_000;

const TERMINAL: ReadonlySet<InvocationStatus> = new Set(['Success', 'Cancelled', 'TimedOut', 'Failed']);

export function isTerminal(status: InvocationStatus): boolean {
  return TERMINAL.has(status);
}

export class CommandStore {
  /** Newest first, as ListCommands answers. */
  readonly commands: Command[] = [];
  private readonly byId = new Map<string, Command>();
  /** Invocations waiting for an instance that is not Online. */
  private readonly waitingFor = new Map<string, Set<Invocation>>();
  private readonly running = new Set<Invocation>();
  /** Process groups of every script started: what scripts left running dies with the sandbox. */
  private readonly groups = new Set<number>();
  private stopped = false;
  private readonly startQueue: Invocation[] = [];

  constructor(private readonly options: CommandStoreOptions) {}

  get(commandId: string): Command | undefined {
    return this.byId.get(commandId);
  }

  send(request: CommandRequest, instances: SandboxInstance[]): Command {
    const now = Date.now();
    const command: Command = {
      id: randomUUID(),
      request,
      requestedAt: now,
      expiresAfter: now + request.timeoutSeconds * 1000,
      invocations: [],
      byInstance: new Map(),
      queue: [],
      inFlight: 0,
      concurrencyLimit: resolveCount(request.maxConcurrency, instances.length, 1),
      errorLimit: resolveCount(request.maxErrors, instances.length, 0),
      counts: {
        completed: 0,
        errors: 0,
        deliveryTimedOut: 0,
        executionTimedOut: 0,
        cancelled: 0,
        started: 0,
        success: 0,
      },
      cancelRequested: false,
    };
    for (const instance of instances) {
      const invocation: Invocation = {
        command,
        instance,
        status: 'Pending',
        statusDetails: 'Pending',
        visibleAt: now + this.options.invocationVisibilityDelayMs,
        responseCode: -1,
        stdout: Buffer.alloc(0),
        stderr: Buffer.alloc(0),
        timedOut: false,
        cancelRequested: false,
        delivered: false,
        executions: 0,
      };
      command.invocations.push(invocation);
      command.byInstance.set(instance.instanceId, invocation);
      command.queue.push(invocation);
    }
    this.commands.unshift(command);
    this.byId.set(command.id, command);
    this.pump(command);
    return command;
  }

  /** Cancel the command's invocations (all, or those on `instanceIds`) that have not ended. */
  cancel(command: Command, instanceIds?: string[]): void {
    const targets = instanceIds
      ? instanceIds.map((id) => command.byInstance.get(id)).filter((i): i is Invocation => !!i)
      : command.invocations;
    if (!instanceIds) command.cancelRequested = true;
    for (const invocation of targets) {
      if (isTerminal(invocation.status) || invocation.cancelRequested) continue;
      invocation.cancelRequested = true;
      if (!invocation.run) {
        // Never started: it will not start; the agent confirms after a delivery round trip.
        this.setStatus(invocation, 'Cancelling', 'Cancelling');
        this.later(invocation, this.options.deliveryDelayMs(), () =>
          this.finish(invocation, 'Cancelled', 'Cancelled', -1),
        );
        continue;
      }
      this.setStatus(invocation, 'Cancelling', 'Cancelling');
      const run = invocation.run;
      this.later(invocation, this.options.deliveryDelayMs(), () => run.kill());
    }
  }

  /** An instance came back Online: deliver what waited for it (unless expired). */
  instanceOnline(instance: SandboxInstance): void {
    const waiting = this.waitingFor.get(instance.instanceId);
    if (!waiting) return;
    this.waitingFor.delete(instance.instanceId);
    for (const invocation of waiting) if (invocation.status === 'Pending') this.scheduleStart(invocation);
  }

  /** Kills every running process group and clears timers; resolves when all scripts have ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const command of this.commands) for (const invocation of command.invocations) clearTimeout(invocation.timer);
    const ends = [...this.running].map((invocation) => {
      invocation.run!.kill();
      return invocation.run!.done;
    });
    await Promise.all(ends);
    for (const pgid of this.groups) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // ESRCH: nothing left in that group
      }
    }
  }

  runningCount(): number {
    return this.running.size;
  }

  private pump(command: Command): void {
    while (command.inFlight < command.concurrencyLimit && command.queue.length > 0) {
      const invocation = command.queue.shift()!;
      if (invocation.status !== 'Pending') continue;
      if (this.errorBudgetExceeded(command)) {
        // Past MaxErrors the service stops sending to further targets.
        this.finish(invocation, 'Cancelled', 'Cancelled', -1);
        continue;
      }
      command.inFlight++;
      invocation.delivered = true;
      if (invocation.instance.pingStatus !== 'Online') this.waitForInstance(invocation);
      else this.scheduleStart(invocation);
    }
  }

  private deliveryDeadline(command: Command): number {
    return command.requestedAt + (this.options.deliveryTimeoutMs ?? command.request.timeoutSeconds * 1000);
  }

  /** The instance is not Online: the invocation stays Pending until it is, or until the delivery timeout. */
  private waitForInstance(invocation: Invocation): void {
    const id = invocation.instance.instanceId;
    let waiting = this.waitingFor.get(id);
    if (!waiting) this.waitingFor.set(id, (waiting = new Set()));
    waiting.add(invocation);
    this.later(invocation, this.deliveryDeadline(invocation.command) - Date.now(), () =>
      this.deliveryTimedOut(invocation),
    );
  }

  private scheduleStart(invocation: Invocation): void {
    this.later(invocation, this.options.deliveryDelayMs(), () => this.enqueueStart(invocation));
  }

  /**
   * Starts due invocations one per event-loop turn: each spawn blocks the loop until the child has
   * exec'd, and hundreds of them due in the same tick would stall every API answer for seconds.
   */
  private enqueueStart(invocation: Invocation): void {
    this.startQueue.push(invocation);
    if (this.startQueue.length === 1) setImmediate(() => this.startNextQueued());
  }

  private startNextQueued(): void {
    const invocation = this.startQueue.shift();
    if (!invocation) return;
    this.start(invocation);
    if (this.startQueue.length > 0) setImmediate(() => this.startNextQueued());
  }

  private start(invocation: Invocation): void {
    const { command, instance } = invocation;
    if (invocation.status !== 'Pending' || this.stopped) return;
    if (Date.now() > this.deliveryDeadline(command)) return this.deliveryTimedOut(invocation);
    if (instance.pingStatus !== 'Online') return this.waitForInstance(invocation);
    this.waitingFor.get(instance.instanceId)?.delete(invocation);
    invocation.startedAt = Date.now();
    command.counts.started++;
    this.setStatus(invocation, 'InProgress', 'InProgress');
    const cwdProblem = checkWorkingDirectory(command.request.workingDirectory);
    if (cwdProblem) {
      invocation.stderr = Buffer.from(cwdProblem, 'utf8');
      this.finish(invocation, 'Failed', 'Failed', 1);
      return;
    }
    this.execute(invocation);
  }

  /** Runs the script (again, after a reboot), with the agent's execution timeout. */
  private execute(invocation: Invocation): void {
    const { command, instance } = invocation;
    invocation.executions++;
    const run = runScript({
      instance,
      commandId: command.id,
      region: this.options.region,
      lines: command.request.lines,
      cwd: command.request.workingDirectory || instance.rootDir,
      path: this.options.instancePath,
      keepStdoutBytes: MAX_STDOUT_CONTENT_BYTES,
      keepStderrBytes: MAX_STDERR_CONTENT_BYTES,
      ...this.options.agentFor?.(instance),
    });
    invocation.run = run;
    if (run.pid > 0) this.groups.add(run.pid);
    this.running.add(invocation);
    this.later(invocation, agentExecutionTimeoutSeconds(command.request.executionTimeoutSeconds) * 1000, () => {
      invocation.timedOut = true;
      run.kill();
    });
    void run.done.then((result) => this.ended(invocation, result));
  }

  private ended(invocation: Invocation, result: ScriptResult): void {
    this.running.delete(invocation);
    if (
      result.exitCode === AGENT_REBOOT_EXIT_CODE &&
      !invocation.timedOut &&
      !invocation.cancelRequested &&
      !this.stopped
    ) {
      // The agent reboots the instance (everything the script left dies) and runs the whole command
      // again under the same command id; the invocation stays InProgress meanwhile.
      invocation.run?.kill();
      invocation.run = undefined;
      this.later(invocation, REBOOT_DURATION_MS, () => this.execute(invocation));
      return;
    }
    invocation.stdout = agentTruncate(result.stdoutHead, result.stdoutBytes, MAX_STDOUT_CONTENT_BYTES);
    invocation.stderr = agentTruncate(result.stderrHead, result.stderrBytes, MAX_STDERR_CONTENT_BYTES);
    const { outputS3BucketName } = invocation.command.request;
    if (outputS3BucketName) {
      // Like the agent: only non-empty streams, once the plugin has finished.
      if (result.stdoutBytes > 0)
        this.options.uploadOutput(outputS3BucketName, outputKey(invocation, 'stdout'), result.stdoutPath);
      if (result.stderrBytes > 0)
        this.options.uploadOutput(outputS3BucketName, outputKey(invocation, 'stderr'), result.stderrPath);
    }
    if (invocation.timedOut) this.finish(invocation, 'TimedOut', 'ExecutionTimedOut', KILLED_EXIT_CODE);
    else if (invocation.cancelRequested) this.finish(invocation, 'Cancelled', 'Cancelled', result.exitCode);
    else if (result.exitCode === 0) this.finish(invocation, 'Success', 'Success', 0);
    else this.finish(invocation, 'Failed', 'Failed', result.exitCode);
  }

  private deliveryTimedOut(invocation: Invocation): void {
    if (invocation.status !== 'Pending') return;
    this.waitingFor.get(invocation.instance.instanceId)?.delete(invocation);
    this.finish(invocation, 'TimedOut', 'DeliveryTimedOut', -1);
  }

  private finish(invocation: Invocation, status: InvocationStatus, details: string, responseCode: number): void {
    if (isTerminal(invocation.status)) return;
    const { command } = invocation;
    clearTimeout(invocation.timer);
    invocation.endedAt = Date.now();
    invocation.responseCode = responseCode;
    this.setStatus(invocation, status, details);
    const counts = command.counts;
    counts.completed++;
    if (status === 'Success') counts.success++;
    else if (status === 'Cancelled') counts.cancelled++;
    else if (details === 'DeliveryTimedOut') counts.deliveryTimedOut++;
    else {
      counts.errors++;
      if (details === 'ExecutionTimedOut') counts.executionTimedOut++;
    }
    if (invocation.delivered) {
      command.inFlight--;
      this.pump(command);
    }
  }

  private setStatus(invocation: Invocation, status: InvocationStatus, details: string): void {
    invocation.status = status;
    invocation.statusDetails = details;
  }

  private errorBudgetExceeded(command: Command): boolean {
    return command.counts.errors + command.counts.deliveryTimedOut > command.errorLimit;
  }

  /** One pending timer per invocation: each new step replaces the previous one. */
  private later(invocation: Invocation, delayMs: number, action: () => void): void {
    if (this.stopped) return;
    clearTimeout(invocation.timer);
    invocation.timer = setTimeout(action, Math.max(0, delayMs));
  }
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

/** "50" or "10%" of `total`, at least `minimum`. */
export function resolveCount(value: string, total: number, minimum: number): number {
  const count = value.endsWith('%') ? Math.ceil((Number(value.slice(0, -1)) / 100) * total) : Number(value);
  return Math.max(minimum, count);
}

function checkWorkingDirectory(dir: string): string | undefined {
  if (!dir) return undefined;
  if (!isAbsolute(dir))
    return `Invalid workingDirectory: "${dir}" is not an absolute path\nfailed to run commands: invalid working directory\n`;
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    return `Invalid workingDirectory: "${dir}" does not exist or is not a directory\nfailed to run commands: invalid working directory\n`;
  return undefined;
}
