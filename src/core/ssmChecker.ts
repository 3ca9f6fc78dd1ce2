// The SSM machine of a followed run: asks SSM about the command and its invocations as cheaply as
// the loop allows, and applies what it says to the instances.
// - One instance: GetCommandInvocation. A fleet: ListCommands tells whether anything changed, and
//   the invocations are listed only then (or when confirming), as a round of their own. A fleet of
//   more than one page confirms by ListCommands' CompletedCount too, and lists once all have ended.
// - A listing that ends many instances whose live end has not been seen reads the live channel once
//   for all of them, then makes their results final side by side (never one instance after another).
// - A round of SSM calls is one of: ListCommands, the pages of ListCommandInvocations, the
//   PingStatus look; a follow-up round waits ssmRoundGapMs (a fleet never bursts more than its pages).
// - A still-Pending invocation gets one look at its instance's PingStatus: an offline instance fails fast.
// - A silent live channel (nothing from an instance 2 s after sending) gets one early look; while SSM
//   says such an instance runs, it is asked again once the wrapper would have reached S3, then with
//   gaps doubling from a second (for the first minute).
import { LIST_COMMAND_INVOCATIONS_MAX_RESULTS } from './awsLimits';
import type { RunBackend, SsmCommand, SsmInvocation } from './backend';
import { CallGuard } from './callGuard';
import type { Clock } from './clock';
import { mapWithLimit } from './concurrency';
import { isTerminalStatus } from './outcome';
import type { InstanceProgress } from './progress';
import type { RunInstances } from './runInstances';
import { NOT_STARTED, WAIT_POLICY } from './waitPolicy';

type FollowUp = 'listInvocations' | 'pingCheck';

/** What the checker asks of the run when SSM has spoken. */
export interface SsmCheckerHost {
  /** SSM says the invocation ended: the instance's result becomes final. */
  finalize(p: InstanceProgress, status: string, statusDetails: string, note?: string): Promise<void>;
  /** True while output kept on the instance is being fetched (the result waits for it). */
  recoverKeptOutput(p: InstanceProgress, invocation: SsmInvocation): Promise<boolean>;
  cancel(instanceIds: string[]): Promise<void>;
  /**
   * SSM says several instances ended whose live channel has not shown their end yet: one live pass
   * for all of them before their results are made final (instead of one listing per instance).
   */
  catchUpLive(): Promise<void>;
}

export interface SsmCheckerOptions {
  commandId: string;
  backend: RunBackend;
  clock: Clock;
  instances: RunInstances;
  /** Tag targets: SSM names the instances; they are counted once it has. */
  discoverInstances: boolean;
  /** One targeted instance: its checks are GetCommandInvocation. */
  singleTarget: boolean;
  startedAtMs: number;
  host: SsmCheckerHost;
}

export class SsmChecker {
  /** Throws what cannot be mended (permissions, credentials, too many failures): following ends. */
  readonly guard = new CallGuard((error) => {
    throw error;
  });
  private command?: SsmCommand;
  private lastCompletedCount = -1;
  /** SSM's invocations were listed after the command had finished: every target is known. */
  private listedFinishedCommand = false;
  /** SSM rounds that a check still owes, sent one per `ssmRoundGapMs`. */
  private followUps: FollowUp[] = [];
  private followUpAt = Infinity;

  constructor(private readonly options: SsmCheckerOptions) {}

  /** When the next owed round is due (Infinity: none). */
  followUpDueAt(): number {
    return this.followUps.length > 0 ? this.followUpAt : Infinity;
  }

  /** Every instance of the run is known: targeted, or named by SSM for a finished command. */
  targetsResolved(): boolean {
    if (!this.options.discoverInstances) return true;
    const command = this.command;
    if (!command) return false;
    if (command.targetCount > 0 && this.options.instances.confirmedCount() >= command.targetCount) return true;
    // A finished command names all its invocations in the next listing (not before: instances seen
    // only on the live channel are not counted until SSM names them).
    return isTerminalStatus(command.status) && (this.listedFinishedCommand || command.targetCount === 0);
  }

  /** SSM never confirmed a cancellation: the command counts as cancelled with what is known of it. */
  assumeCancelled(): void {
    if (this.targetsResolved() || !this.command) return;
    this.command = { ...this.command, status: 'Cancelled' };
    this.listedFinishedCommand = true;
  }

  /**
   * Asks SSM about the command (`confirming`: the live channel says everything ended). With
   * `spread` a fleet's invocation listing is its own round, after a short pause.
   */
  async check(confirming: boolean, { spread }: { spread: boolean }): Promise<void> {
    const { backend, commandId, clock, instances, startedAtMs } = this.options;
    if (this.options.singleTarget) {
      const p = instances.all()[0];
      if (p.final) return;
      const invocation = await this.guard.call(() => backend.getInvocation(commandId, p.instanceId));
      if (invocation) await this.apply(invocation);
      else if (clock.now() - startedAtMs > WAIT_POLICY.invocationMissingLimitMs && !p.startedAtMs) {
        await this.options.host.finalize(p, 'Failed', 'Failed', 'SSM never reported an invocation for this instance');
      }
      return;
    }
    if (confirming && this.targetsResolved() && !this.confirmsByCount()) return this.listInvocations();
    const command = await this.guard.call(() => backend.getCommand(commandId));
    this.roundSent();
    if (command) this.command = command;
    if (confirming && this.targetsResolved() && command && !this.everyInvocationEnded(command)) return;
    const changed = command !== undefined && command.completedCount !== this.lastCompletedCount;
    const undiscovered = command !== undefined && command.targetCount > instances.confirmedCount();
    if (
      confirming ||
      changed ||
      undiscovered ||
      (command && isTerminalStatus(command.status)) ||
      this.lastCompletedCount < 0
    ) {
      if (spread) this.queueFollowUp('listInvocations');
      else await this.listInvocations();
    }
  }

  /**
   * A fleet whose listing takes more than one page confirms with one ListCommands (CompletedCount) and
   * lists its pages only once every invocation has ended: the confirmation can then come often.
   */
  confirmsByCount(): boolean {
    return this.options.instances.confirmedCount() > LIST_COMMAND_INVOCATIONS_MAX_RESULTS;
  }

  /** The longest pause between two confirmations (the loop backs off up to it). */
  confirmBackoffMaxMs(): number {
    return this.confirmsByCount() ? WAIT_POLICY.fleetConfirmBackoffMaxMs : WAIT_POLICY.confirmBackoffMaxMs;
  }

  private everyInvocationEnded(command: SsmCommand): boolean {
    return (
      isTerminalStatus(command.status) || (command.targetCount > 0 && command.completedCount >= command.targetCount)
    );
  }

  /** A regular (slow) check, followed by the PingStatus look for instances still waiting for delivery. */
  async regularCheck(): Promise<void> {
    await this.check(false, { spread: true });
    this.queueFollowUp('pingCheck');
  }

  /** Sends the next owed round. */
  async runFollowUp(): Promise<void> {
    const kind = this.followUps.shift();
    if (kind === 'listInvocations') await this.listInvocations();
    else if (kind === 'pingCheck') await this.checkPendingInstancesAreOnline();
    this.followUpAt = this.options.clock.now() + WAIT_POLICY.ssmRoundGapMs;
  }

  /**
   * When a silent channel calls for an early SSM look: once at silentLiveAfterMs for an instance not
   * heard from; while SSM says it runs, again at silentBrokenAfterMs (a wrapper merely slow to start
   * on a busy instance speaks by then: no SSM call is spent on it), then with gaps doubling from
   * silentStatusCheckMs (for the first minute).
   */
  silentCheckAt(lastCheckAt: number): number {
    const { clock, startedAtMs } = this.options;
    const firstLookAt = startedAtMs + WAIT_POLICY.silentLiveAfterMs;
    if (clock.now() - startedAtMs > WAIT_POLICY.silentChecksForMs) return Infinity;
    if (lastCheckAt < firstLookAt && this.liveSilent(false)) return firstLookAt;
    if (!this.liveSilent(true)) return Infinity;
    // The channel is known broken from here on: looks at +0, +1, +2, +4 ... s, at most statusCheckIntervalMs apart.
    const brokenFrom = startedAtMs + WAIT_POLICY.silentBrokenAfterMs;
    if (lastCheckAt < brokenFrom) return brokenFrom;
    const gap = Math.min(
      WAIT_POLICY.statusCheckIntervalMs,
      Math.max(WAIT_POLICY.silentStatusCheckMs, lastCheckAt - brokenFrom),
    );
    return lastCheckAt + gap;
  }

  /** An open instance the live channel has shown nothing of (`onlyRunning`: one that SSM says is running). */
  private liveSilent(onlyRunning: boolean): boolean {
    return this.options.instances
      .all()
      .some(
        (p) =>
          !p.final && p.startInfo === undefined && !p.liveEnded && (!onlyRunning || p.ssm?.status === 'InProgress'),
      );
  }

  /**
   * A round was just sent: a round still owed waits ssmRoundGapMs after it too (never two in one burst). The clock
   * only moves forward, so this is never earlier than a due time set before.
   */
  private roundSent(): void {
    this.followUpAt = this.options.clock.now() + WAIT_POLICY.ssmRoundGapMs;
  }

  private queueFollowUp(kind: FollowUp): void {
    if (this.followUps.includes(kind)) return;
    // Every check sends a round (roundSent) before it queues one, except a single target's: setting the due time
    // only when nothing is owed and always are the same.
    // Stryker disable next-line ConditionalExpression: equivalent, see above
    if (this.followUps.length === 0) this.followUpAt = this.options.clock.now() + WAIT_POLICY.ssmRoundGapMs;
    this.followUps.push(kind);
  }

  private async listInvocations(): Promise<void> {
    this.followUps = this.followUps.filter((kind) => kind !== 'listInvocations');
    const invocations = await this.guard.call(() => this.options.backend.listInvocations(this.options.commandId));
    this.roundSent();
    if (!invocations) return;
    if (this.command) this.lastCompletedCount = this.command.completedCount;
    if (this.command && isTerminalStatus(this.command.status)) this.listedFinishedCommand = true;
    const { instances, host } = this.options;
    const endedUnseen = invocations.filter((i) => {
      const p = instances.get(i.instanceId);
      return isTerminalStatus(i.status) && (p === undefined || (!p.final && !p.liveEnded));
    });
    if (endedUnseen.length > 1) await host.catchUpLive();
    // A fleet's results are made final side by side: each may still read its last live objects.
    await mapWithLimit(invocations, WAIT_POLICY.finalizeParallelInstances, (invocation) => this.apply(invocation));
  }

  private async apply(invocation: SsmInvocation): Promise<void> {
    const { instances, clock, host } = this.options;
    const p = instances.instance(invocation.instanceId);
    p.confirmed = true;
    if (p.final) return;
    p.ssm = invocation;
    if (invocation.status === 'InProgress') p.startedAtMs ??= clock.now();
    if (isTerminalStatus(invocation.status)) {
      if (await host.recoverKeptOutput(p, invocation)) return;
      const timedOut = p.timedOut && (invocation.status === 'Cancelled' || invocation.status === 'TimedOut');
      await host.finalize(
        p,
        timedOut ? 'TimedOut' : invocation.status,
        timedOut ? 'ExecutionTimedOut' : invocation.statusDetails,
      );
    } else {
      instances.setStatus(p, invocation.status, invocation.statusDetails);
    }
  }

  /** One PingStatus look per instance still waiting for delivery: an offline instance fails fast. */
  private async checkPendingInstancesAreOnline(): Promise<void> {
    const { instances, backend, host } = this.options;
    const waiting = instances
      .all()
      .filter(
        (p) =>
          p.confirmed &&
          !p.final &&
          !p.pingChecked &&
          p.startedAtMs === undefined &&
          (!p.ssm || NOT_STARTED.has(p.ssm.status)),
      );
    if (waiting.length === 0) return;
    const found = await this.guard.call(() => backend.pingStatus(waiting.map((p) => p.instanceId)));
    if (!found) return;
    const offline: InstanceProgress[] = [];
    for (const p of waiting) {
      p.pingChecked = true;
      const info = found.find((i) => i.instanceId === p.instanceId);
      if (info?.pingStatus === 'Online') continue;
      const since = info?.lastPingDateTime ? ` since ${info.lastPingDateTime.toISOString()}` : '';
      p.offline = info
        ? `instance ${p.instanceId} is not connected to SSM (PingStatus ${info.pingStatus}${since}); the ` +
          `command was cancelled`
        : `instance ${p.instanceId} is not an SSM managed instance any more; the command was cancelled`;
      offline.push(p);
    }
    if (offline.length === 0) return;
    await host.cancel(offline.map((p) => p.instanceId));
    for (const p of offline) await host.finalize(p, 'Undeliverable', 'Undeliverable');
  }
}
