// A followed run (RunHandle): live output from the S3 channel, status from SSM, with a
// latency-first policy that keeps SSM calls low. This file is the loop that decides what happens
// next; the machines it drives live in their own modules:
// - liveFollower.ts: the live channel (S3) is polled every 150 ms, and every second only after a
//   minute without output; it shows output within about a second and tells when the script has ended.
// - ssmChecker.ts: what SSM says. When every instance's exit frame has arrived, SSM is asked once to
//   confirm (then 200 ms, 400 ms, ... while SSM still says InProgress). Independent slow checks
//   (5 s after sending, then every 10 s) catch what the channel cannot see: never delivered, offline
//   instance, cancelled elsewhere, channel broken; a silent channel gets early looks.
// - cancellation.ts: a client-side timeout cancels the remote command and reports TimedOut.
// - runResults.ts: each instance's final result, from the live channel or SSM's own output.
import {
  RunnerError,
  type Listener,
  type OutputChunk,
  type RunHandle,
  type RunResult,
  type RunStatusUpdate,
  type Subscription,
} from './api';
import type { RunBackend } from './backend';
import { Cancellation } from './cancellation';
import { systemClock, type Clock } from './clock';
import { writeRunArtifacts } from './artifacts';
import { liveOutputLocation, type LiveLocation } from './liveChannelReader';
import { LiveFollower } from './liveFollower';
import { RunOutputStores, type OutputStoreOptions } from './outputStore';
import type { InstanceProgress } from './progress';
import type { UploadRenewal } from './renewal';
import { RunInstances } from './runInstances';
import { RunResults } from './runResults';
import { SsmChecker } from './ssmChecker';
import { WAIT_POLICY } from './waitPolicy';

export { WAIT_POLICY } from './waitPolicy';

export interface FollowOptions {
  commandId: string;
  backend: RunBackend;
  /** Instances known up front (instance targets). */
  instanceIds: string[];
  /** True for tag targets: SSM picks the instances; they are discovered while following. */
  discoverInstances: boolean;
  live?: LiveLocation;
  /** The instances' least time between live-output uploads (cadence.ts); attach assumes a watched run's. */
  uploadGapSeconds?: number;
  /** Client-side execution timeout; undefined = rely on SSM's own (attach). */
  timeoutSeconds?: number;
  /** Check SSM at once instead of after 5 s (attach/status: the run may be long finished). */
  immediateStatusCheck?: boolean;
  /**
   * Cancel the command when following it fails for good (e.g. ssm:GetCommandInvocation denied), so a
   * run this process started never keeps going unseen. Off for attach: that run belongs to someone else.
   */
  cancelIfUnfollowable?: boolean;
  /**
   * Renews the instances' live-output upload policy before it expires, and fetches output kept on an instance after its
   * run (renewal.ts).
   */
  renewal?: UploadRenewal;
  /**
   * Said once before the run (e.g. credentials that expire before its timeout); the CLI prints them, the extension
   * shows them.
   */
  warnings?: string[];
  /** Where output beyond OUTPUT_MEMORY_BYTES per stream is saved (default: the OS temp folder). */
  output?: OutputStoreOptions;
  clock?: Clock;
}

export class FollowedRun implements RunHandle {
  readonly commandId: string;
  private readonly clock: Clock;
  private readonly startedAtMs: number;
  private readonly instances: RunInstances;
  private readonly ssm: SsmChecker;
  private readonly live?: LiveFollower;
  private readonly cancellation: Cancellation;
  private readonly outcome: RunResults;
  private detached = false;
  private wakeUp?: AbortController;
  private completion?: Promise<RunResult>;

  constructor(private readonly options: FollowOptions) {
    const { commandId, backend, discoverInstances, timeoutSeconds } = options;
    this.commandId = commandId;
    this.clock = options.clock ?? systemClock;
    this.startedAtMs = this.clock.now();
    const clock = this.clock;
    const instances = (this.instances = new RunInstances(
      options.instanceIds,
      new RunOutputStores(commandId, options.output),
    ));
    const singleTarget = !discoverInstances && options.instanceIds.length === 1;
    const finalize = (p: InstanceProgress, status: string, details: string, note?: string) =>
      this.outcome.finalize(p, status, details, note);
    this.ssm = new SsmChecker({
      commandId,
      backend,
      clock,
      instances,
      discoverInstances,
      singleTarget,
      startedAtMs: this.startedAtMs,
      host: {
        finalize,
        recoverKeptOutput: async (p, invocation) => (await this.live?.recoverKeptOutput(p, invocation)) ?? false,
        cancel: (ids) => this.cancellation.send(ids),
        catchUpLive: async () => void (await this.live?.poll(false)),
      },
    });
    const counted = () => this.counted();
    if (options.live) {
      this.live = new LiveFollower({
        commandId,
        backend,
        clock,
        instances,
        discoverInstances,
        counted,
        location: options.live,
        uploadGapSeconds: options.uploadGapSeconds,
        renewal: options.renewal,
        targetsResolved: () => this.ssm.targetsResolved(),
        ssmGuard: this.ssm.guard,
      });
    }
    this.cancellation = new Cancellation({
      commandId,
      backend,
      clock,
      instances,
      timeoutSeconds,
      singleTarget,
      counted,
      finalize,
      assumeCancelled: () => this.ssm.assumeCancelled(),
    });
    this.outcome = new RunResults({
      commandId,
      backend,
      instances,
      live: this.live,
      ssmGuard: this.ssm.guard,
      timeoutSeconds,
    });
  }

  get outputLocation(): string | undefined {
    return this.options.live ? liveOutputLocation(this.options.live) : undefined;
  }

  get instanceIds(): readonly string[] {
    return this.counted().map((p) => p.instanceId);
  }

  get warnings(): readonly string[] {
    return this.options.warnings ?? [];
  }

  /** Starts following (idempotent); wait() returns the same completion. */
  start(): this {
    if (!this.completion) {
      this.completion = this.loop()
        .catch((error: unknown) => this.abandon(error))
        .finally(() => this.instances.all().forEach((p) => p.closeOutput()))
        .then(() => this.results());
      // A run nobody waits for (fire and forget) must not end the process with an unhandled rejection.
      this.completion.catch(() => undefined);
    }
    return this;
  }

  onOutput(listener: Listener<OutputChunk>): Subscription {
    return this.instances.onOutput(listener);
  }

  onStatus(listener: Listener<RunStatusUpdate>): Subscription {
    return this.instances.onStatus(listener);
  }

  wait(): Promise<RunResult> {
    return this.start().completion!;
  }

  async cancel(): Promise<void> {
    const open = this.counted().filter((p) => !p.final);
    if (open.length === 0 && this.ssm.targetsResolved()) return;
    await this.cancellation.request(open);
    this.wake();
  }

  detach(): void {
    this.detached = true;
    this.wake();
  }

  /** Writes the shipped artifacts into the fresh folder `dir/<commandId>/`, one `<instanceId>/` per instance. */
  async downloadArtifacts(dir: string, options: { instanceId?: string } = {}): Promise<string[]> {
    // Only instances SSM named: a forged live key never becomes a folder.
    const chosen = this.instances
      .all()
      .filter((p) => p.confirmed && (options.instanceId === undefined || p.instanceId === options.instanceId));
    if (options.instanceId !== undefined && chosen.length === 0) {
      throw new RunnerError(
        `Instance ${options.instanceId} is not part of command ${this.commandId}.`,
        'UnknownInstance',
      );
    }
    const tars = chosen.flatMap((p) => (p.artifactsTar ? [{ instanceId: p.instanceId, tar: p.artifactsTar }] : []));
    return writeRunArtifacts(dir, this.commandId, tars);
  }

  /** One pass over everything observable, no waiting (for `status`). */
  async snapshot(): Promise<RunResult> {
    await this.live?.poll(true);
    await this.ssm.check(true, { spread: false });
    // Output kept on an instance whose upload policy expired: wait (bounded) for the renewal to bring it.
    let lastCheck = this.clock.now();
    while (this.recovering().length > 0) {
      await this.clock.sleep(WAIT_POLICY.liveIntervalMs * 2);
      await this.live?.poll(true);
      const ended = this.recovering().some((p) => p.liveEnded);
      if (ended || this.clock.now() - lastCheck >= WAIT_POLICY.statusCheckIntervalMs) {
        await this.ssm.check(true, { spread: false });
        lastCheck = this.clock.now();
      }
    }
    return this.results();
  }

  private recovering(): InstanceProgress[] {
    return this.instances.all().filter((p) => p.recoverySentAtMs !== undefined && !p.final);
  }

  /** Following failed for good: cancel what this process started (best effort) and say so in the error. */
  private async abandon(error: unknown): Promise<never> {
    if (this.options.cancelIfUnfollowable && !this.detached && !this.finished()) {
      const cancelled = await this.options.backend.cancel(this.commandId, undefined).then(
        () => true,
        () => false,
      );
      if (error instanceof RunnerError) {
        error.message += cancelled
          ? ` Command ${this.commandId} was cancelled so it does not keep running unseen.`
          : ` Command ${this.commandId} may still be running: cancel it once allowed.`;
      }
    }
    throw error;
  }

  // ---- the loop: what happens next --------------------------------------------------------

  private async loop(): Promise<void> {
    const policy = WAIT_POLICY;
    const live = this.live;
    const follows = () => live?.follows() ?? false;
    let nextStatusAt = this.startedAtMs + (this.options.immediateStatusCheck ? 0 : policy.firstStatusCheckMs);
    let lastStatusCheckAt = this.startedAtMs;
    let nextLiveAt = this.startedAtMs;
    let lastLiveDataAt = this.startedAtMs;
    let confirmAt: number | undefined;
    let confirmDelay: number = policy.confirmBackoffFirstMs;
    while (!this.detached) {
      if (live && follows() && this.clock.now() >= nextLiveAt) {
        if (await live.poll(false)) lastLiveDataAt = this.clock.now();
        nextLiveAt = this.clock.now() + live.interval(this.clock.now() - lastLiveDataAt > policy.liveIdleAfterMs);
      }
      await live?.renewIfDue();
      await this.cancellation.enforceTimeouts();
      // Every exit frame is in (or a cancel is asked for): confirm with SSM at once, then backing off.
      const urgent = this.readyToConfirm() || this.cancellation.requestedAtMs !== undefined;
      if (!urgent) {
        confirmAt = undefined;
        confirmDelay = policy.confirmBackoffFirstMs;
      } else if (confirmAt === undefined) {
        confirmAt = this.clock.now();
      }
      if (confirmAt !== undefined && this.clock.now() >= confirmAt) {
        await this.ssm.check(true, { spread: true });
        confirmAt = this.clock.now() + confirmDelay;
        confirmDelay = Math.min(confirmDelay * 2, this.ssm.confirmBackoffMaxMs());
        nextStatusAt = this.clock.now() + policy.statusCheckIntervalMs;
      } else if (this.clock.now() >= this.ssm.followUpDueAt()) {
        await this.ssm.runFollowUp();
      } else if (this.clock.now() >= Math.min(nextStatusAt, this.ssm.silentCheckAt(lastStatusCheckAt))) {
        const regular = this.clock.now() >= nextStatusAt;
        await this.ssm.regularCheck();
        lastStatusCheckAt = this.clock.now();
        if (regular) nextStatusAt = this.clock.now() + policy.statusCheckIntervalMs;
      }
      await this.cancellation.giveUpIfUnconfirmed();
      if (this.finished()) return;
      const wakeAt = Math.min(
        follows() ? nextLiveAt : Infinity,
        nextStatusAt,
        this.ssm.silentCheckAt(lastStatusCheckAt),
        confirmAt ?? Infinity,
        this.ssm.followUpDueAt(),
        this.cancellation.nextDeadline(),
        live?.nextRenewalAt() ?? Infinity,
      );
      await this.sleepUntil(wakeAt);
    }
  }

  /** The live channel says every open instance has ended (or, before discovery, nothing is known yet). */
  private readyToConfirm(): boolean {
    const open = this.counted().filter((p) => !p.final);
    // Nothing known yet (tag targets before discovery): the slow checks find the instances.
    if (open.length === 0) return this.instances.size > 0 && !this.ssm.targetsResolved();
    return open.every((p) => p.liveEnded);
  }

  /**
   * The instances that make up the run: those SSM confirmed, plus, while SSM has not named every
   * target yet, those only seen on the live channel. Once the targets are resolved, an instance SSM
   * never named (forged keys) is dropped: it neither keeps the run open nor reaches the results.
   */
  private counted(): InstanceProgress[] {
    const all = this.instances.all();
    return this.ssm.targetsResolved() ? all.filter((p) => p.confirmed) : all;
  }

  private finished(): boolean {
    return this.ssm.targetsResolved() && this.counted().every((p) => p.final);
  }

  private results(): RunResult {
    return this.outcome.results(this.counted());
  }

  private async sleepUntil(wakeAt: number): Promise<void> {
    const ms = wakeAt - this.clock.now();
    if (ms <= 0 || this.detached) return;
    const controller = new AbortController();
    this.wakeUp = controller;
    await this.clock.sleep(ms, controller.signal);
    controller.abort(); // releases a real timer if the sleep ended early
  }

  private wake(): void {
    this.wakeUp?.abort();
  }
}
