// A followed run (RunHandle): live output from the S3 channel, status from SSM, with a
// latency-first policy that keeps SSM calls low.
//
// - The live channel (S3, not SSM) is polled every 150 ms, and every second only after a minute
//   without output (bounds the S3 LISTs of long quiet runs); it shows output within about a
//   second and tells when the script has ended. A fleet's pass costs a few LISTs, not one per
//   instance (see follow.ts), and its objects are fetched for many instances at once.
// - When every instance's exit frame has arrived, SSM is asked once to confirm (then 200 ms,
//   400 ms, ... while SSM still says InProgress).
// - Independent slow checks (5 s after sending, then every 10 s) catch what the channel cannot see:
//   never delivered, offline instance, cancelled elsewhere, channel broken. A still-Pending
//   invocation gets one look at its instance's PingStatus so an offline instance fails fast.
// - A silent channel (nothing from an instance 2 s after sending) gets one early look; while SSM
//   says such an instance runs, it is asked every second (for the first minute): an instance that
//   cannot reach S3 ends on SSM's word within a second or two of its script, not ten.
// - A round of SSM calls is one of: ListCommands, the pages of ListCommandInvocations, the
//   PingStatus look; the next waits a moment (a fleet never bursts more than its invocation pages).
// - A client-side timeout cancels the remote command and reports TimedOut.
import { RunnerError, type InvocationResult, type Listener, type OutputChunk, type RunHandle, type RunResult, type RunStatusUpdate, type Subscription } from './api';
import type { RunBackend, SsmCommand, SsmInvocation } from './backend';
import { systemClock, type Clock } from './clock';
import { toRunnerError } from './errors';
import { writeRunArtifacts } from './artifacts';
import { mapWithLimit } from './concurrency';
import { FLEET_CADENCE_MIN_TARGETS, LIVE_UPLOAD_GAP_SECONDS } from './defaults';
import { LiveChannelReader, liveOutputLocation, type LiveLocation } from './follow';
import { isTerminalStatus, LIVE_OUTPUT_UNAVAILABLE, wrapperErrorFromStderr } from './outcome';
import { InstanceProgress } from './progress';
import { REBOOT_CODE_NOTE, type Frame } from './remote';
import type { UploadRenewal } from './renewal';
import { AGENT_REBOOT_EXIT_CODE, REBOOT_EXIT_CODE_REPORTED_AS, RECOVERY_WAIT_SECONDS } from './defaults';

/** The waiting policy's timings (one source of truth; unit tests read them too). */
export const WAIT_POLICY = {
  firstStatusCheckMs: 5_000,
  statusCheckIntervalMs: 10_000,
  liveIntervalMs: 150,
  liveIdleIntervalMs: 1_000,
  /** Without new output for this long the live channel is polled less often. */
  liveIdleAfterMs: 60_000,
  /** Each LIST call a live pass costs adds this much to the interval (bounds S3 LISTs per second). */
  livePerListCallMs: 25,
  /** Instances whose new live objects are fetched at the same time. */
  liveParallelInstances: 32,
  /** A fleet's live passes run at most once a second (S3 request fees grow with the pass rate). */
  liveFleetIntervalMs: 1_000,
  /** Pause between two rounds of SSM calls that one check needs (spreads a fleet's calls). */
  ssmRoundGapMs: 250,
  /** An instance that has shown no live output this long after sending gets an early SSM look... */
  silentLiveAfterMs: 2_000,
  /** ...and, while SSM says it runs, a look this often... */
  silentStatusCheckMs: 1_000,
  /** ...for at most this long after sending (later ends are left to the slow checks). */
  silentChecksForMs: 60_000,
  confirmBackoffFirstMs: 200,
  confirmBackoffMaxMs: 5_000,
  /** A missing live object (its upload failed for good) is skipped after this long. */
  gapGraceMs: 5_000,
  /** Give up waiting for SSM to confirm a cancellation after this long. */
  cancelConfirmLimitMs: 30_000,
  /** SSM may not know an invocation right after SendCommand; past this it is an error. */
  invocationMissingLimitMs: 120_000,
  /** Consecutive failed AWS calls tolerated before giving up (the SDK has already retried each). */
  maxConsecutiveErrors: 6,
} as const;

const FATAL_ERROR_CODES = new Set(['AccessDenied', 'NoCredentials', 'CredentialsExpired', 'InvalidCredentials', 'NoRegion']);
const NOT_STARTED = new Set(['Pending', 'Delayed']);

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
  /** Renews the instances' live-output upload policy before it expires, and fetches output kept on an instance after its run (renewal.ts). */
  renewal?: UploadRenewal;
  /** Said once before the run (e.g. credentials that expire before its timeout); the CLI prints them, the extension shows them. */
  warnings?: string[];
  clock?: Clock;
}

/** Wait this long after a failed proactive renewal before trying again. */
const RENEWAL_RETRY_MS = 30_000;
/** Statuses after which a wrapper has ended on its own (so a missing end frame means kept, not lost, output). */
const ENDED_ON_ITS_OWN = new Set(['Success', 'Failed']);

export class FollowedRun implements RunHandle {
  readonly commandId: string;
  private readonly backend: RunBackend;
  private readonly clock: Clock;
  private readonly progress = new Map<string, InstanceProgress>();
  private readonly reader?: LiveChannelReader;
  private readonly outputListeners = new Set<Listener<OutputChunk>>();
  private readonly statusListeners = new Set<Listener<RunStatusUpdate>>();
  private readonly singleTarget: boolean;
  private liveDisabled = false;
  private command?: SsmCommand;
  private lastCompletedCount = -1;
  private detached = false;
  private cancelRequestedAtMs?: number;
  private wakeUp?: AbortController;
  private errorsInARow = { ssm: 0, live: 0 };
  private readonly startedAtMs: number;
  private completion?: Promise<RunResult>;
  /** SSM rounds that a check still owes, sent one per `ssmRoundGapMs`. */
  private ssmFollowUps: Array<'listInvocations' | 'pingCheck'> = [];
  private ssmFollowUpAt = Infinity;
  /** LIST calls of the last live pass (prices the next interval). */
  private lastLiveListCalls = 1;
  /** SSM's invocations were listed after the command had finished: every target is known. */
  private listedFinishedCommand = false;
  private nextRenewalTryAt = 0;
  private renewalProblem?: string;

  constructor(private readonly options: FollowOptions) {
    this.commandId = options.commandId;
    this.backend = options.backend;
    this.clock = options.clock ?? systemClock;
    this.startedAtMs = this.clock.now();
    for (const id of options.instanceIds) this.progress.set(id, new InstanceProgress(id, true));
    this.singleTarget = !options.discoverInstances && options.instanceIds.length === 1;
    if (options.live) {
      const gapMs = (options.uploadGapSeconds ?? LIVE_UPLOAD_GAP_SECONDS.watched) * 1000;
      this.reader = new LiveChannelReader(this.backend, options.live, (id, frames) => this.onFrames(id, frames), gapMs, () => this.clock.now());
    }
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
        .then(() => this.results());
      // A run nobody waits for (fire and forget) must not end the process with an unhandled rejection.
      this.completion.catch(() => undefined);
    }
    return this;
  }

  onOutput(listener: Listener<OutputChunk>): Subscription {
    this.outputListeners.add(listener);
    return { dispose: () => this.outputListeners.delete(listener) };
  }

  onStatus(listener: Listener<RunStatusUpdate>): Subscription {
    this.statusListeners.add(listener);
    return { dispose: () => this.statusListeners.delete(listener) };
  }

  wait(): Promise<RunResult> {
    return this.start().completion!;
  }

  async cancel(): Promise<void> {
    const open = this.counted().filter((p) => !p.final);
    if (open.length === 0 && this.targetsResolved()) return;
    this.cancelRequestedAtMs ??= this.clock.now();
    for (const p of open) p.cancelRequestedAtMs ??= this.cancelRequestedAtMs;
    await this.sendCancel(undefined);
    this.wake();
  }

  detach(): void {
    this.detached = true;
    this.wake();
  }

  /** Writes the shipped artifacts into the fresh folder `dir/<commandId>/`, one `<instanceId>/` per instance. */
  async downloadArtifacts(dir: string, options: { instanceId?: string } = {}): Promise<string[]> {
    // Only instances SSM named: a forged live key never becomes a folder.
    const chosen = [...this.progress.values()].filter((p) => p.confirmed && (options.instanceId === undefined || p.instanceId === options.instanceId));
    if (options.instanceId !== undefined && chosen.length === 0) {
      throw new RunnerError(`Instance ${options.instanceId} is not part of command ${this.commandId}.`, 'UnknownInstance');
    }
    const tars = chosen.flatMap((p) => (p.artifactsTar ? [{ instanceId: p.instanceId, tar: p.artifactsTar }] : []));
    return writeRunArtifacts(dir, this.commandId, tars);
  }

  /** One pass over everything observable, no waiting (for `status`). */
  async snapshot(): Promise<RunResult> {
    await this.pollLive(true);
    await this.checkSsm(true, { spread: false });
    // Output kept on an instance whose upload policy expired: wait (bounded) for the renewal to bring it.
    let lastCheck = this.clock.now();
    while (this.recovering().length > 0) {
      await this.clock.sleep(WAIT_POLICY.liveIntervalMs * 2);
      await this.pollLive(true);
      const ended = this.recovering().some((p) => p.liveEnded);
      if (ended || this.clock.now() - lastCheck >= WAIT_POLICY.statusCheckIntervalMs) {
        await this.checkSsm(true, { spread: false });
        lastCheck = this.clock.now();
      }
    }
    return this.results();
  }

  private recovering(): InstanceProgress[] {
    return [...this.progress.values()].filter((p) => p.recoverySentAtMs !== undefined && !p.final);
  }

  /** Following failed for good: cancel what this process started (best effort) and say so in the error. */
  private async abandon(error: unknown): Promise<never> {
    if (this.options.cancelIfUnfollowable && !this.detached && !this.finished()) {
      const cancelled = await this.backend.cancel(this.commandId, undefined).then(
        () => true,
        () => false,
      );
      if (error instanceof RunnerError) {
        error.message += cancelled
          ? ` Command ${this.commandId} was cancelled so it does not keep running unseen.`
          : ` Command ${this.commandId} may still be running: cancel it with \`ec2-runner cancel ${this.commandId}\` once allowed.`;
      }
    }
    throw error;
  }

  // ---- the loop ---------------------------------------------------------------------------

  private async loop(): Promise<void> {
    const policy = WAIT_POLICY;
    let nextStatusAt = this.startedAtMs + (this.options.immediateStatusCheck ? 0 : policy.firstStatusCheckMs);
    let lastStatusCheckAt = this.startedAtMs;
    let nextLiveAt = this.startedAtMs;
    let lastLiveDataAt = this.startedAtMs;
    let confirmAt: number | undefined;
    let confirmDelay: number = policy.confirmBackoffFirstMs;
    while (!this.detached) {
      if (this.followsLive() && this.clock.now() >= nextLiveAt) {
        if (await this.pollLive(false)) lastLiveDataAt = this.clock.now();
        nextLiveAt = this.clock.now() + this.liveInterval(this.clock.now() - lastLiveDataAt > policy.liveIdleAfterMs);
      }
      await this.renewUploadsIfDue();
      await this.enforceTimeouts();
      const urgent = this.readyToConfirm() || this.cancelRequestedAtMs !== undefined;
      if (!urgent) {
        confirmAt = undefined;
        confirmDelay = policy.confirmBackoffFirstMs;
      } else if (confirmAt === undefined) {
        confirmAt = this.clock.now();
      }
      if (confirmAt !== undefined && this.clock.now() >= confirmAt) {
        await this.checkSsm(true, { spread: true });
        confirmAt = this.clock.now() + confirmDelay;
        confirmDelay = Math.min(confirmDelay * 2, policy.confirmBackoffMaxMs);
        nextStatusAt = this.clock.now() + policy.statusCheckIntervalMs;
      } else if (this.ssmFollowUps.length > 0 && this.clock.now() >= this.ssmFollowUpAt) {
        await this.runSsmFollowUp();
      } else if (this.clock.now() >= Math.min(nextStatusAt, this.silentCheckAt(lastStatusCheckAt))) {
        const regular = this.clock.now() >= nextStatusAt;
        await this.checkSsm(false, { spread: true });
        this.queueSsmFollowUp('pingCheck');
        lastStatusCheckAt = this.clock.now();
        if (regular) nextStatusAt = this.clock.now() + policy.statusCheckIntervalMs;
      }
      await this.giveUpOnUnconfirmedCancel();
      if (this.finished()) return;
      const wakeAt = Math.min(
        this.followsLive() ? nextLiveAt : Infinity,
        nextStatusAt,
        this.silentCheckAt(lastStatusCheckAt),
        confirmAt ?? Infinity,
        this.ssmFollowUps.length > 0 ? this.ssmFollowUpAt : Infinity,
        this.nextDeadline(),
        this.nextRenewalAt(),
      );
      await this.sleepUntil(wakeAt);
    }
  }

  /**
   * When a silent channel calls for an early SSM look (see the header): once at silentLiveAfterMs for an
   * instance not heard from, then every silentStatusCheckMs while SSM says it runs.
   */
  private silentCheckAt(lastCheckAt: number): number {
    const policy = WAIT_POLICY;
    const firstLookAt = this.startedAtMs + policy.silentLiveAfterMs;
    if (this.clock.now() - this.startedAtMs > policy.silentChecksForMs) return Infinity;
    if (lastCheckAt < firstLookAt && this.liveSilent('any')) return firstLookAt;
    return this.liveSilent('running') ? Math.max(firstLookAt, lastCheckAt + policy.silentStatusCheckMs) : Infinity;
  }

  /** An open instance the live channel has shown nothing of ('running': that SSM says is running). */
  private liveSilent(which: 'any' | 'running'): boolean {
    return [...this.progress.values()].some(
      (p) => !p.final && p.startInfo === undefined && !p.liveEnded && (which === 'any' || p.ssm?.status === 'InProgress'),
    );
  }

  private followsLive(): boolean {
    if (!this.reader || this.liveDisabled) return false;
    return !this.targetsResolved() || this.counted().some((p) => this.wantsLive(p));
  }

  private wantsLive(p: InstanceProgress): boolean {
    return !p.final && !p.liveEnded && !p.liveProblem;
  }

  private liveInterval(idle: boolean): number {
    const base = idle ? WAIT_POLICY.liveIdleIntervalMs : WAIT_POLICY.liveIntervalMs;
    const fleet = this.progress.size >= FLEET_CADENCE_MIN_TARGETS ? WAIT_POLICY.liveFleetIntervalMs : 0;
    return Math.max(base, fleet, this.lastLiveListCalls * WAIT_POLICY.livePerListCallMs);
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

  // ---- live channel -----------------------------------------------------------------------

  private onFrames(instanceId: string, frames: Frame[]): void {
    const p = this.instance(instanceId);
    const wasStarted = p.startedAtMs !== undefined;
    for (const chunk of p.applyFrames(frames, this.clock.now())) {
      p.delivered[chunk.stream] += chunk.data.byteLength;
      this.emitOutput({ instanceId, stream: chunk.stream, data: chunk.data });
    }
    if (!wasStarted && p.startedAtMs !== undefined && NOT_STARTED.has(p.status)) this.setStatus(p, 'InProgress', 'InProgress');
  }

  /** One pass over the instances still producing output; returns true when anything new arrived. */
  private async pollLive(all: boolean): Promise<boolean> {
    const reader = this.reader;
    if (!reader || this.liveDisabled) return false;
    const followed = this.counted().filter((p) => (all ? !p.liveProblem : this.wantsLive(p)));
    const discover = this.options.discoverInstances && !this.targetsResolved();
    const pass = await this.guard('live', () => reader.list(followed.map((p) => p.instanceId), { discover }));
    this.lastLiveListCalls = pass?.listCalls ?? 1;
    for (const id of pass?.discovered ?? []) followed.push(this.instance(id));
    const arrived = await mapWithLimit(followed, WAIT_POLICY.liveParallelInstances, (p) => this.drainInstance(p, () => reader.drain(p.instanceId)));
    return arrived.some(Boolean);
  }

  /** Processes an instance's listed objects (`fetch`), skipping a missing one after its grace period. */
  private async drainInstance(p: InstanceProgress, fetch: () => Promise<number>): Promise<boolean> {
    if (this.liveDisabled) return false;
    const reader = this.reader!;
    let processed = 0;
    try {
      processed = (await this.guard('live', fetch)) ?? 0;
      if (reader.gapOf(p.instanceId) === undefined) {
        p.gapSinceMs = undefined;
      } else {
        p.gapSinceMs ??= this.clock.now();
        if (this.clock.now() - p.gapSinceMs >= WAIT_POLICY.gapGraceMs || p.ssmTerminal) {
          const skipped = reader.skipGap(p.instanceId);
          p.notes.push(`${skipped} live output object(s) never arrived; output is incomplete`);
          p.gapSinceMs = undefined;
          processed += (await this.guard('live', () => reader.drain(p.instanceId))) ?? 0;
        }
      }
    } catch (error) {
      // A corrupt object: this instance's live output cannot be trusted any more.
      p.liveProblem = `live output unreadable (${(error as Error).message})`;
      return false;
    }
    return processed > 0;
  }

  // ---- upload policy renewal --------------------------------------------------------------

  private nextRenewalAt(): number {
    const renewal = this.options.renewal;
    if (!renewal || this.liveDisabled) return Infinity;
    return Math.max(renewal.renewAtMs(), this.nextRenewalTryAt);
  }

  /** Before the instances' upload policy expires, sends those still producing output a fresh one. */
  private async renewUploadsIfDue(): Promise<void> {
    const renewal = this.options.renewal;
    if (!renewal || this.liveDisabled || this.clock.now() < this.nextRenewalAt()) return;
    // Only instances SSM named for the command: an id seen only on the live channel may be forged.
    const openProgress = [...this.progress.values()].filter((p) => p.confirmed && !p.final && !p.liveEnded);
    const open = openProgress.map((p) => p.instanceId);
    if (open.length === 0) return;
    const notStarted = new Set(openProgress.filter((p) => p.startInfo === undefined).map((p) => p.instanceId));
    try {
      await renewal.renew(open, { proactive: true, notStarted });
      this.renewalProblem = undefined;
    } catch (error) {
      this.nextRenewalTryAt = this.clock.now() + RENEWAL_RETRY_MS;
      const problem = `the live-output upload could not be renewed (${toRunnerError(error).message}); output is kept on the instance and \`ec2-runner status ${this.commandId}\` fetches it later`;
      if (problem !== this.renewalProblem) for (const id of open) this.progress.get(id)?.notes.push(problem);
      this.renewalProblem = problem;
    }
  }

  /**
   * SSM says the wrapper ended on its own but its end frame never arrived: its output is kept on the
   * instance (the upload policy expired, or uploads failed). Sends that instance a renewal and keeps
   * following the live channel for a bounded time. Returns true while that recovery is going on.
   */
  private async recoverKeptOutput(p: InstanceProgress, invocation: SsmInvocation): Promise<boolean> {
    const renewal = this.options.renewal;
    const reader = this.reader;
    if (!renewal || !reader || this.liveDisabled || p.liveProblem || p.liveEnded) return false;
    if (p.recoverySentAtMs !== undefined) {
      if (this.clock.now() - p.recoverySentAtMs >= RECOVERY_WAIT_SECONDS * 1000) {
        p.notes.push(`the output kept on instance ${p.instanceId} did not arrive within ${RECOVERY_WAIT_SECONDS} s of renewing its upload`);
        return false;
      }
      // The renewal command has ended (it uploads what was kept, or fails): no reason to wait longer.
      const renewalCommand = p.recoveryCommandId;
      const done = renewalCommand ? await this.guard('ssm', () => this.backend.getInvocation(renewalCommand, p.instanceId)) : undefined;
      if (!done || !isTerminalStatus(done.status)) return true;
      await this.drainInstance(p, () => reader.poll(p.instanceId));
      if (!p.liveEnded) p.notes.push(`the output kept on instance ${p.instanceId} could not be uploaded (renewal command ${renewalCommand}: ${done.status})`);
      return false;
    }
    if (!ENDED_ON_ITS_OWN.has(invocation.status) || p.timedOut || p.cancelRequestedAtMs !== undefined) return false;
    await this.drainInstance(p, () => reader.poll(p.instanceId)); // the last objects may just have landed
    if (p.liveEnded || p.startInfo === undefined) return false;
    try {
      p.recoveryCommandId = (await renewal.renew([p.instanceId], { proactive: false })).get(p.instanceId);
    } catch (error) {
      p.notes.push(`could not fetch the output kept on instance ${p.instanceId} (${toRunnerError(error).message})`);
      return false;
    }
    p.recoverySentAtMs = this.clock.now();
    return true;
  }

  // ---- SSM --------------------------------------------------------------------------------

  private readyToConfirm(): boolean {
    const open = this.counted().filter((p) => !p.final);
    // Nothing known yet (tag targets before discovery): the slow checks find the instances.
    if (open.length === 0) return this.progress.size > 0 && !this.targetsResolved();
    return open.every((p) => p.liveEnded);
  }

  private targetsResolved(): boolean {
    if (!this.options.discoverInstances) return true;
    const command = this.command;
    if (!command) return false;
    if (command.targetCount > 0 && this.confirmedCount() >= command.targetCount) return true;
    // A finished command names all its invocations in the next listing (not before: instances seen
    // only on the live channel are not counted until SSM names them).
    return isTerminalStatus(command.status) && (this.listedFinishedCommand || command.targetCount === 0);
  }

  private confirmedCount(): number {
    let count = 0;
    for (const p of this.progress.values()) if (p.confirmed) count++;
    return count;
  }

  /**
   * The instances that make up the run: those SSM confirmed, plus, while SSM has not named every
   * target yet, those only seen on the live channel. Once the targets are resolved, an instance SSM
   * never named (forged keys) is dropped: it neither keeps the run open nor reaches the results.
   */
  private counted(): InstanceProgress[] {
    const all = [...this.progress.values()];
    return this.targetsResolved() ? all.filter((p) => p.confirmed) : all;
  }

  private finished(): boolean {
    return this.targetsResolved() && this.counted().every((p) => p.final);
  }

  /**
   * Asks SSM about the command. Fleets: ListCommands tells whether anything changed, and the
   * invocations are listed only then (or when confirming); with `spread` the listing is its own
   * round, after a short pause, so one round never exceeds the invocation pages.
   */
  private async checkSsm(confirming: boolean, { spread }: { spread: boolean }): Promise<void> {
    if (this.singleTarget) {
      const p = [...this.progress.values()][0];
      if (p.final) return;
      const invocation = await this.guard('ssm', () => this.backend.getInvocation(this.commandId, p.instanceId));
      if (invocation) await this.applyInvocation(invocation);
      else if (invocation === undefined && this.clock.now() - this.startedAtMs > WAIT_POLICY.invocationMissingLimitMs && !p.startedAtMs) {
        await this.finalize(p, 'Failed', 'Failed', 'SSM never reported an invocation for this instance');
      }
      return;
    }
    if (confirming && this.targetsResolved()) return this.listInvocations();
    const command = await this.guard('ssm', () => this.backend.getCommand(this.commandId));
    if (command) this.command = command;
    const changed = command !== undefined && command.completedCount !== this.lastCompletedCount;
    const undiscovered = command !== undefined && command.targetCount > this.confirmedCount();
    if (confirming || changed || undiscovered || (command && isTerminalStatus(command.status)) || this.lastCompletedCount < 0) {
      if (spread) this.queueSsmFollowUp('listInvocations');
      else await this.listInvocations();
    }
  }

  private async listInvocations(): Promise<void> {
    this.ssmFollowUps = this.ssmFollowUps.filter((kind) => kind !== 'listInvocations');
    const invocations = await this.guard('ssm', () => this.backend.listInvocations(this.commandId));
    if (!invocations) return;
    if (this.command) this.lastCompletedCount = this.command.completedCount;
    if (this.command && isTerminalStatus(this.command.status)) this.listedFinishedCommand = true;
    for (const invocation of invocations) await this.applyInvocation(invocation);
  }

  private queueSsmFollowUp(kind: 'listInvocations' | 'pingCheck'): void {
    if (this.ssmFollowUps.includes(kind)) return;
    if (this.ssmFollowUps.length === 0) this.ssmFollowUpAt = this.clock.now() + WAIT_POLICY.ssmRoundGapMs;
    this.ssmFollowUps.push(kind);
  }

  private async runSsmFollowUp(): Promise<void> {
    const kind = this.ssmFollowUps.shift();
    if (kind === 'listInvocations') await this.listInvocations();
    else if (kind === 'pingCheck') await this.checkPendingInstancesAreOnline();
    this.ssmFollowUpAt = this.clock.now() + WAIT_POLICY.ssmRoundGapMs;
  }

  private async applyInvocation(invocation: SsmInvocation): Promise<void> {
    const p = this.instance(invocation.instanceId);
    p.confirmed = true;
    if (p.final) return;
    p.ssm = invocation;
    if (invocation.status === 'InProgress') p.startedAtMs ??= this.clock.now();
    if (isTerminalStatus(invocation.status)) {
      if (await this.recoverKeptOutput(p, invocation)) return;
      const timedOut = p.timedOut && (invocation.status === 'Cancelled' || invocation.status === 'TimedOut');
      await this.finalize(p, timedOut ? 'TimedOut' : invocation.status, timedOut ? 'ExecutionTimedOut' : invocation.statusDetails);
    } else {
      this.setStatus(p, invocation.status, invocation.statusDetails);
    }
  }

  /** One PingStatus look per instance still waiting for delivery: an offline instance fails fast. */
  private async checkPendingInstancesAreOnline(): Promise<void> {
    const waiting = [...this.progress.values()].filter(
      (p) => p.confirmed && !p.final && !p.pingChecked && p.startedAtMs === undefined && (!p.ssm || NOT_STARTED.has(p.ssm.status)),
    );
    if (waiting.length === 0) return;
    const found = await this.guard('ssm', () => this.backend.pingStatus(waiting.map((p) => p.instanceId)));
    if (!found) return;
    const offline: InstanceProgress[] = [];
    for (const p of waiting) {
      p.pingChecked = true;
      const info = found.find((i) => i.instanceId === p.instanceId);
      if (info?.pingStatus === 'Online') continue;
      const since = info?.lastPingDateTime ? ` since ${info.lastPingDateTime.toISOString()}` : '';
      p.offline = info
        ? `instance ${p.instanceId} is not connected to SSM (PingStatus ${info.pingStatus}${since}); the command was cancelled`
        : `instance ${p.instanceId} is not an SSM managed instance any more; the command was cancelled`;
      offline.push(p);
    }
    if (offline.length === 0) return;
    await this.sendCancel(offline.map((p) => p.instanceId));
    for (const p of offline) await this.finalize(p, 'Undeliverable', 'Undeliverable');
  }

  // ---- timeouts and cancellation ----------------------------------------------------------

  private deadlineOf(p: InstanceProgress): number {
    // Only confirmed instances: cancelling an id SSM does not know would fail the whole CancelCommand.
    if (this.options.timeoutSeconds === undefined || !p.confirmed || p.final || p.timedOut || p.startedAtMs === undefined) return Infinity;
    return p.startedAtMs + this.options.timeoutSeconds * 1000;
  }

  private nextDeadline(): number {
    let next = Infinity;
    for (const p of this.progress.values()) next = Math.min(next, this.deadlineOf(p));
    if (this.cancelRequestedAtMs !== undefined) next = Math.min(next, this.cancelRequestedAtMs + WAIT_POLICY.cancelConfirmLimitMs);
    return next;
  }

  private async enforceTimeouts(): Promise<void> {
    const expired = [...this.progress.values()].filter((p) => this.clock.now() >= this.deadlineOf(p));
    if (expired.length === 0) return;
    for (const p of expired) {
      p.timedOut = true;
      p.cancelRequestedAtMs = this.clock.now();
    }
    this.cancelRequestedAtMs ??= this.clock.now();
    await this.sendCancel(this.singleTarget ? undefined : expired.map((p) => p.instanceId));
  }

  private async sendCancel(instanceIds: string[] | undefined): Promise<void> {
    try {
      await this.backend.cancel(this.commandId, instanceIds);
    } catch (error) {
      const mapped = toRunnerError(error);
      // A command that has just finished cannot be cancelled; the next check will tell.
      if (FATAL_ERROR_CODES.has(mapped.code)) throw mapped;
    }
  }

  private async giveUpOnUnconfirmedCancel(): Promise<void> {
    if (this.cancelRequestedAtMs === undefined) return;
    if (this.clock.now() - this.cancelRequestedAtMs < WAIT_POLICY.cancelConfirmLimitMs) return;
    for (const p of this.counted()) {
      if (p.final) continue;
      p.notes.push('SSM did not confirm the cancellation');
      await this.finalize(p, p.timedOut ? 'TimedOut' : 'Cancelled', p.timedOut ? 'ExecutionTimedOut' : 'Cancelled');
    }
    if (!this.targetsResolved() && this.command) {
      this.command = { ...this.command, status: 'Cancelled' };
      this.listedFinishedCommand = true;
    }
  }

  // ---- results ----------------------------------------------------------------------------

  private async finalize(p: InstanceProgress, status: string, statusDetails: string, note?: string): Promise<void> {
    if (p.final) return;
    if (note) p.notes.push(note);
    const reader = this.reader;
    if (reader && !this.liveDisabled && !p.liveEnded && !p.liveProblem) await this.drainInstance(p, () => reader.poll(p.instanceId)); // the last objects
    p.final = true;
    if (!this.usesLive(p, status)) await this.useSsmOutput(p);
    this.setStatus(p, status, statusDetails);
  }

  /** Live output is complete when the wrapper ended it; for a killed run it is all there is. */
  private usesLive(p: InstanceProgress, status: string): boolean {
    if (!this.reader || p.liveProblem || this.liveDisabled) return false;
    if (p.liveEnded) return true;
    return p.startedAtMs !== undefined && p.startInfo !== undefined && ['Cancelled', 'TimedOut', 'Undeliverable', 'Terminated'].includes(status);
  }

  /** Falls back to SSM's own output (at most 24,000 / 8,000 characters) and delivers what was not yet shown. */
  private async useSsmOutput(p: InstanceProgress): Promise<void> {
    let invocation = p.ssm;
    if (invocation?.stdout === undefined && !p.offline) {
      invocation = (await this.guard('ssm', () => this.backend.getInvocation(this.commandId, p.instanceId))) ?? invocation;
    }
    if (invocation && invocation !== p.ssm && !p.ssm) p.ssm = invocation;
    p.fallback = { stdout: invocation?.stdout ?? '', stderr: invocation?.stderr ?? '' };
    const rebootNote = `${REBOOT_CODE_NOTE}\n`;
    if (invocation?.responseCode === REBOOT_EXIT_CODE_REPORTED_AS && p.fallback.stderr.includes(rebootNote)) {
      // The script's own 194, which the wrapper reported to the agent as 195 (see defaults.ts).
      p.exit ??= { exitCode: AGENT_REBOOT_EXIT_CODE };
      p.fallback.stderr = p.fallback.stderr.replace(rebootNote, '');
    }
    const notRun = p.wrapperError === undefined ? wrapperErrorFromStderr(p.fallback.stderr, invocation?.responseCode) : undefined;
    if (notRun !== undefined) {
      // The wrapper's own last word becomes the reason, said once (as with the live channel's error frame).
      p.wrapperError = notRun;
      const line = `ec2-runner: ${notRun}\n`;
      const at = p.fallback.stderr.lastIndexOf(line);
      if (at >= 0) p.fallback.stderr = p.fallback.stderr.slice(0, at) + p.fallback.stderr.slice(at + line.length);
    }
    if (p.startedAtMs !== undefined || (invocation && invocation.responseCode >= 0)) p.notes.push(LIVE_OUTPUT_UNAVAILABLE);
    for (const stream of ['stdout', 'stderr'] as const) {
      const bytes = Buffer.from(p.fallback[stream], 'utf8');
      const shown = p.liveBytes(stream);
      // Deliver only the part that the live channel has not already shown.
      let tail: Buffer | undefined;
      if (shown.byteLength === 0) tail = bytes;
      else if (bytes.subarray(0, shown.byteLength).equals(shown)) tail = bytes.subarray(shown.byteLength);
      if (tail?.byteLength) this.emitOutput({ instanceId: p.instanceId, stream, data: new Uint8Array(tail) });
    }
  }

  private results(): RunResult {
    const invocations: InvocationResult[] = this.counted().map((p) =>
      p.toResult(p.final ? this.usesLive(p, p.status) : Boolean(this.reader), this.options.timeoutSeconds),
    );
    return { commandId: this.commandId, invocations };
  }

  // ---- plumbing ---------------------------------------------------------------------------

  private instance(instanceId: string): InstanceProgress {
    let p = this.progress.get(instanceId);
    if (!p) this.progress.set(instanceId, (p = new InstanceProgress(instanceId)));
    return p;
  }

  private setStatus(p: InstanceProgress, status: string, statusDetails: string): void {
    if (p.status === status && p.statusDetails === statusDetails) return;
    p.status = status;
    p.statusDetails = statusDetails;
    for (const listener of [...this.statusListeners]) {
      try {
        listener({ instanceId: p.instanceId, status, statusDetails });
      } catch {
        // A listener's bug must not break the run.
      }
    }
  }

  private emitOutput(chunk: OutputChunk): void {
    for (const listener of [...this.outputListeners]) {
      try {
        listener(chunk);
      } catch {
        // A listener's bug must not break the run.
      }
    }
  }

  /**
   * Runs one AWS call of the loop. Transient failures are tolerated (the next tick retries);
   * permission and credential problems end the run with the mapped error. A live channel that
   * keeps failing is abandoned in favour of SSM's own output.
   */
  private async guard<T>(kind: 'ssm' | 'live', call: () => Promise<T>): Promise<T | undefined> {
    try {
      const value = await call();
      this.errorsInARow[kind] = 0;
      return value;
    } catch (error) {
      if (error instanceof Error && error.name === 'CorruptFramesError') throw error;
      const mapped = toRunnerError(error);
      // S3's SlowDown on the live channel: the SDK has slowed down already; give up only on real failures.
      if (kind === 'live' && mapped.code === 'Throttled') return undefined;
      const tooMany = ++this.errorsInARow[kind] >= WAIT_POLICY.maxConsecutiveErrors;
      if (kind === 'live') {
        if (tooMany || FATAL_ERROR_CODES.has(mapped.code)) this.liveDisabled = true;
        return undefined;
      }
      if (tooMany || FATAL_ERROR_CODES.has(mapped.code)) throw mapped;
      return undefined;
    }
  }
}
