// Cancelling a followed run: asked by the caller, forced by the client-side timeout, or for an
// instance found offline; and the end of waiting when SSM never confirms it.
import type { RunBackend } from './backend';
import type { Clock } from './clock';
import { toRunnerError } from './errors';
import type { InstanceProgress } from './progress';
import type { RunInstances } from './runInstances';
import { FATAL_ERROR_CODES, WAIT_POLICY } from './waitPolicy';

export interface CancellationOptions {
  commandId: string;
  backend: RunBackend;
  clock: Clock;
  instances: RunInstances;
  /** Client-side execution timeout; undefined = rely on SSM's own (attach). */
  timeoutSeconds?: number;
  /** One targeted instance: a timeout cancels the whole command. */
  singleTarget: boolean;
  /** The instances that make up the run (FollowedRun.counted). */
  counted: () => InstanceProgress[];
  finalize: (p: InstanceProgress, status: string, statusDetails: string) => Promise<void>;
  /** SSM never confirmed: the command counts as cancelled (SsmChecker.assumeCancelled). */
  assumeCancelled: () => void;
}

export class Cancellation {
  /** When cancelling was first asked for (by the caller or a timeout). */
  requestedAtMs?: number;

  constructor(private readonly options: CancellationOptions) {}

  /** The caller cancels the instances still open (the whole command). */
  async request(open: InstanceProgress[]): Promise<void> {
    this.requestedAtMs ??= this.options.clock.now();
    for (const p of open) p.cancelRequestedAtMs ??= this.requestedAtMs;
    await this.send(undefined);
  }

  /** The next instance timeout, or the end of waiting for a cancellation (Infinity: none). */
  nextDeadline(): number {
    let next = Infinity;
    for (const p of this.options.instances.all()) next = Math.min(next, this.deadlineOf(p));
    if (this.requestedAtMs !== undefined) next = Math.min(next, this.requestedAtMs + WAIT_POLICY.cancelConfirmLimitMs);
    return next;
  }

  /** Cancels the instances whose client-side timeout has passed. */
  async enforceTimeouts(): Promise<void> {
    const now = this.options.clock.now();
    const expired = this.options.instances.all().filter((p) => now >= this.deadlineOf(p));
    if (expired.length === 0) return;
    for (const p of expired) {
      p.timedOut = true;
      p.cancelRequestedAtMs = now;
    }
    this.requestedAtMs ??= now;
    await this.send(this.options.singleTarget ? undefined : expired.map((p) => p.instanceId));
  }

  /**
   * CancelCommand (undefined: every instance); a command that has just finished cannot be cancelled, the next check
   * tells.
   */
  async send(instanceIds: string[] | undefined): Promise<void> {
    try {
      await this.options.backend.cancel(this.options.commandId, instanceIds);
    } catch (error) {
      const mapped = toRunnerError(error);
      if (FATAL_ERROR_CODES.has(mapped.code)) throw mapped;
    }
  }

  /** SSM has not confirmed the cancellation within cancelConfirmLimitMs: the open instances end as cancelled. */
  async giveUpIfUnconfirmed(): Promise<void> {
    if (this.requestedAtMs === undefined) return;
    if (this.options.clock.now() - this.requestedAtMs < WAIT_POLICY.cancelConfirmLimitMs) return;
    for (const p of this.options.counted()) {
      if (p.final) continue;
      p.notes.push('SSM did not confirm the cancellation');
      await this.options.finalize(
        p,
        p.timedOut ? 'TimedOut' : 'Cancelled',
        p.timedOut ? 'ExecutionTimedOut' : 'Cancelled',
      );
    }
    this.options.assumeCancelled();
  }

  private deadlineOf(p: InstanceProgress): number {
    // Only confirmed instances: cancelling an id SSM does not know would fail the whole CancelCommand.
    if (
      this.options.timeoutSeconds === undefined ||
      !p.confirmed ||
      p.final ||
      p.timedOut ||
      p.startedAtMs === undefined
    )
      return Infinity;
    return p.startedAtMs + this.options.timeoutSeconds * 1000;
  }
}
