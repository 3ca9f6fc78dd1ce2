// Run Command's state machine: commands and their per-instance invocations (invocations.ts) move
// Pending -> InProgress -> Success | Failed | TimedOut | Cancelled (Cancelling in between); the agent's
// own rules (timeouts, truncation, reboots) are in agentRules.ts.
// Work is driven by one timer per invocation event (delivery, execution timeout, delivery timeout),
// never by polling instances, and aggregate counts are kept incrementally so reads are O(1).
import { randomUUID } from 'node:crypto';
import { type ScriptResult, type ScriptSpec, runScript } from './agent';
import {
  REBOOT_DURATION_MS,
  agentExecutionTimeoutSeconds,
  agentTruncate,
  checkWorkingDirectory,
  outputKey,
} from './agentRules';
import type { SandboxInstance } from './fleet';
import {
  type Command,
  type CommandRequest,
  type Invocation,
  type InvocationStatus,
  isTerminal,
  resolveCount,
} from './invocations';
import { AGENT_REBOOT_EXIT_CODE, KILLED_EXIT_CODE, MAX_STDERR_CONTENT_BYTES, MAX_STDOUT_CONTENT_BYTES } from './limits';

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
