// The live-channel machine of a followed run: reads each instance's output objects from S3
// (liveChannelReader.ts) and hands them to the instances in order, skips an object that never
// arrives, renews the instances' upload policy before it expires, and fetches output kept on an
// instance whose policy expired (renewal.ts). SSM's own output takes over when the channel fails.
import type { RunBackend, SsmInvocation } from './backend';
import { CallGuard } from './callGuard';
import type { Clock } from './clock';
import { mapWithLimit } from './concurrency';
import { FLEET_CADENCE_MIN_TARGETS, LIVE_UPLOAD_GAP_SECONDS, RECOVERY_WAIT_SECONDS } from './defaults';
import { toRunnerError } from './errors';
import { LiveChannelReader, type LiveChannelBackend, type LiveLocation } from './liveChannelReader';
import { isTerminalStatus } from './outcome';
import type { InstanceProgress } from './progress';
import type { Frame } from './remote';
import type { UploadRenewal } from './renewal';
import type { RunInstances } from './runInstances';
import { NOT_STARTED, WAIT_POLICY } from './waitPolicy';

/** Wait this long after a failed proactive renewal before trying again. */
const RENEWAL_RETRY_MS = 30_000;
/** Statuses after which a wrapper has ended on its own (so a missing end frame means kept, not lost, output). */
const ENDED_ON_ITS_OWN = new Set(['Success', 'Failed']);

export interface LiveFollowerOptions {
  commandId: string;
  backend: RunBackend;
  location: LiveLocation;
  /** The instances' least time between live-output uploads (cadence.ts); undefined: a watched run's. */
  uploadGapSeconds?: number;
  clock: Clock;
  instances: RunInstances;
  /** Tag targets: instances are also found by listing the run's prefix until SSM has named them all. */
  discoverInstances: boolean;
  renewal?: UploadRenewal;
  /** The instances that make up the run (FollowedRun.counted) and whether SSM has named them all. */
  counted: () => InstanceProgress[];
  targetsResolved: () => boolean;
  /** For the one SSM call this machine makes (the renewal command's invocation). */
  ssmGuard: CallGuard;
}

export class LiveFollower {
  private readonly reader: LiveChannelReader;
  private readonly guard = new CallGuard(() => (this.disabled = true), {
    toleratesThrottling: true,
    resetsOnAnswerOnly: true,
  });
  /** The channel failed for good (permissions, too many errors): SSM's output is used instead. */
  private disabled = false;
  /** LIST calls of the last pass (prices the next interval). */
  private lastListCalls = 1;
  private nextRenewalTryAt = 0;
  private renewalProblem?: string;

  constructor(private readonly options: LiveFollowerOptions) {
    const gapMs = (options.uploadGapSeconds ?? LIVE_UPLOAD_GAP_SECONDS.watched) * 1000;
    const s3 = answeredBy(options.backend, () => this.guard.answered());
    this.reader = new LiveChannelReader(
      s3,
      options.location,
      (id, frames) => this.onFrames(id, frames),
      gapMs,
      () => options.clock.now(),
    );
  }

  /** False once the channel has failed for good. */
  get usable(): boolean {
    return !this.disabled;
  }

  /** Whether the loop should keep polling: instances may still be found, or some still produce output. */
  follows(): boolean {
    if (this.disabled) return false;
    return !this.options.targetsResolved() || this.options.counted().some((p) => this.wantsLive(p));
  }

  /** Time to the next pass: quick while output flows, slower when idle, for fleets and for costly passes. */
  interval(idle: boolean): number {
    const base = idle ? WAIT_POLICY.liveIdleIntervalMs : WAIT_POLICY.liveIntervalMs;
    const fleet = this.options.instances.size >= FLEET_CADENCE_MIN_TARGETS ? WAIT_POLICY.liveFleetIntervalMs : 0;
    return Math.max(base, fleet, this.lastListCalls * WAIT_POLICY.livePerListCallMs);
  }

  /** One pass over the instances still producing output (`all`: every readable one); true when anything new arrived. */
  async poll(all: boolean): Promise<boolean> {
    if (this.disabled) return false;
    const reader = this.reader;
    const followed = this.options.counted().filter((p) => (all ? !p.liveProblem : this.wantsLive(p)));
    const discover = this.options.discoverInstances && !this.options.targetsResolved();
    const pass = await this.guard.call(() =>
      reader.list(
        followed.map((p) => p.instanceId),
        { discover },
      ),
    );
    this.lastListCalls = pass?.listCalls ?? 1;
    for (const id of pass?.discovered ?? []) followed.push(this.options.instances.instance(id));
    const arrived = await mapWithLimit(followed, WAIT_POLICY.liveParallelInstances, (p) =>
      this.drainInstance(p, () => reader.drain(p.instanceId)),
    );
    return arrived.some(Boolean);
  }

  /** Lists and processes an instance's last objects (before its result is final). */
  async lastLook(p: InstanceProgress): Promise<void> {
    if (this.disabled || p.liveEnded || p.liveProblem) return;
    await this.drainInstance(p, () => this.reader.poll(p.instanceId));
  }

  /** Live output is complete when the wrapper ended it; for a killed run it is all there is. */
  completes(p: InstanceProgress, status: string): boolean {
    if (p.liveProblem || this.disabled) return false;
    if (p.liveEnded) return true;
    // The start frame (startInfo) shows the wrapper ran; SSM's InProgress alone (startedAtMs) does not.
    return p.startInfo !== undefined && ['Cancelled', 'TimedOut', 'Undeliverable', 'Terminated'].includes(status);
  }

  private wantsLive(p: InstanceProgress): boolean {
    return !p.final && !p.liveEnded && !p.liveProblem;
  }

  private onFrames(instanceId: string, frames: Frame[]): void {
    const { instances, clock } = this.options;
    const p = instances.instance(instanceId);
    for (const chunk of p.applyFrames(frames, clock.now()))
      instances.emitOutput({ instanceId, stream: chunk.stream, data: chunk.data });
    // The start frame shows the script runs, though SSM may still say Pending or Delayed.
    if (p.startedAtMs !== undefined && NOT_STARTED.has(p.status)) instances.setStatus(p, 'InProgress', 'InProgress');
  }

  /** Processes an instance's listed objects (`fetch`), skipping a missing one after its grace period. */
  private async drainInstance(p: InstanceProgress, fetch: () => Promise<number>): Promise<boolean> {
    if (this.disabled) return false;
    const reader = this.reader;
    const now = () => this.options.clock.now();
    let processed: number;
    try {
      processed = (await this.guard.call(fetch)) ?? 0;
      if (reader.gapOf(p.instanceId) === undefined) {
        p.gapSinceMs = undefined;
      } else {
        p.gapSinceMs ??= now();
        if (now() - p.gapSinceMs >= WAIT_POLICY.gapGraceMs || p.ssmTerminal) {
          const skipped = reader.skipGap(p.instanceId);
          p.notes.push(`${skipped} live output object(s) never arrived; output is incomplete`);
          p.gapSinceMs = undefined;
          processed += (await this.guard.call(() => reader.drain(p.instanceId))) ?? 0;
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

  nextRenewalAt(): number {
    const renewal = this.options.renewal;
    if (!renewal || this.disabled) return Infinity;
    return Math.max(renewal.renewAtMs(), this.nextRenewalTryAt);
  }

  /** Before the instances' upload policy expires, sends those still producing output a fresh one. */
  async renewIfDue(): Promise<void> {
    const { renewal, instances, clock, commandId } = this.options;
    // nextRenewalAt() is Infinity without a renewal: `!renewal` only narrows the type.
    // Stryker disable next-line ConditionalExpression: equivalent, see above
    if (!renewal || clock.now() < this.nextRenewalAt()) return;
    // Only instances SSM named for the command: an id seen only on the live channel may be forged.
    const openProgress = instances.all().filter((p) => p.confirmed && !p.final && !p.liveEnded);
    const open = openProgress.map((p) => p.instanceId);
    if (open.length === 0) return;
    const notStarted = new Set(openProgress.filter((p) => p.startInfo === undefined).map((p) => p.instanceId));
    try {
      await renewal.renew(open, { proactive: true, notStarted });
      this.renewalProblem = undefined;
    } catch (error) {
      this.nextRenewalTryAt = clock.now() + RENEWAL_RETRY_MS;
      const problem =
        `the live-output upload could not be renewed (${toRunnerError(error).message}); output is kept on the ` +
        `instance and asking for the status of command ${commandId} later fetches it`;
      if (problem !== this.renewalProblem) for (const p of openProgress) p.notes.push(problem);
      this.renewalProblem = problem;
    }
  }

  /**
   * SSM says the wrapper ended on its own but its end frame never arrived: its output is kept on the
   * instance (the upload policy expired, or uploads failed). Sends that instance a renewal and keeps
   * following the live channel for a bounded time. Returns true while that recovery is going on.
   */
  async recoverKeptOutput(p: InstanceProgress, invocation: SsmInvocation): Promise<boolean> {
    const { renewal, clock, backend } = this.options;
    if (!renewal || this.disabled || p.liveProblem || p.liveEnded) return false;
    if (p.recoverySentAtMs !== undefined) {
      if (clock.now() - p.recoverySentAtMs >= RECOVERY_WAIT_SECONDS * 1000) {
        p.notes.push(
          `the output kept on instance ${p.instanceId} did not arrive within ${RECOVERY_WAIT_SECONDS} s of ` +
            `renewing its upload`,
        );
        return false;
      }
      // The renewal command has ended (it uploads what was kept, or fails): no reason to wait longer.
      const renewalCommand = p.recoveryCommandId;
      const done = renewalCommand
        ? await this.options.ssmGuard.call(() => backend.getInvocation(renewalCommand, p.instanceId))
        : undefined;
      if (!done || !isTerminalStatus(done.status)) return true;
      await this.drainInstance(p, () => this.reader.poll(p.instanceId));
      if (!p.liveEnded)
        p.notes.push(
          `the output kept on instance ${p.instanceId} could not be uploaded (renewal command ` +
            `${renewalCommand}: ${done.status})`,
        );
      return false;
    }
    if (!ENDED_ON_ITS_OWN.has(invocation.status) || p.timedOut || p.cancelRequestedAtMs !== undefined) return false;
    await this.drainInstance(p, () => this.reader.poll(p.instanceId)); // the last objects may just have landed
    if (p.liveEnded || p.startInfo === undefined) return false;
    try {
      p.recoveryCommandId = (await renewal.renew([p.instanceId], { proactive: false })).get(p.instanceId);
    } catch (error) {
      p.notes.push(`could not fetch the output kept on instance ${p.instanceId} (${toRunnerError(error).message})`);
      return false;
    }
    p.recoverySentAtMs = clock.now();
    return true;
  }
}

/**
 * The reader's S3 calls, telling `answered` when S3 answered one: only a request proves the channel
 * works, and a pass may send none (nothing due, nothing listed), so its success alone must not
 * forgive the failures before it.
 */
function answeredBy(backend: LiveChannelBackend, answered: () => void): LiveChannelBackend {
  const tell = async <T>(request: Promise<T>): Promise<T> => {
    const value = await request;
    answered();
    return value;
  };
  return {
    listKeys: (bucket, prefix, startAfter) => tell(backend.listKeys(bucket, prefix, startAfter)),
    getObject: (bucket, key) => tell(backend.getObject(bucket, key)),
    getObjectIfExists: (bucket, key) => tell(backend.getObjectIfExists(bucket, key)),
  };
}
