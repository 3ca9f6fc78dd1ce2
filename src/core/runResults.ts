// How an instance's result becomes final: the live channel's last objects, or SSM's own output
// (at most 24,000 / 8,000 characters) when the channel did not deliver the end, then the results.
import type { InvocationResult, RunResult } from './api';
import type { RunBackend } from './backend';
import type { CallGuard } from './callGuard';
import { AGENT_REBOOT_EXIT_CODE, REBOOT_EXIT_CODE_REPORTED_AS } from './defaults';
import type { LiveFollower } from './liveFollower';
import { LIVE_OUTPUT_UNAVAILABLE, wrapperErrorFromStderr } from './outcome';
import type { InstanceProgress } from './progress';
import { REBOOT_CODE_NOTE } from './remote';
import type { RunInstances } from './runInstances';

export interface RunResultsOptions {
  commandId: string;
  backend: RunBackend;
  instances: RunInstances;
  /** Undefined when the run has no live channel (SSM's output is all there is). */
  live?: LiveFollower;
  ssmGuard: CallGuard;
  timeoutSeconds?: number;
}

export class RunResults {
  constructor(private readonly options: RunResultsOptions) {}

  async finalize(p: InstanceProgress, status: string, statusDetails: string, note?: string): Promise<void> {
    if (p.final) return;
    if (note) p.notes.push(note);
    await this.options.live?.lastLook(p); // the last objects
    p.final = true;
    p.closeOutput();
    if (!this.usesLive(p, status)) await this.useSsmOutput(p);
    this.options.instances.setStatus(p, status, statusDetails);
  }

  /** `counted`: the instances that make up the run. */
  results(counted: InstanceProgress[]): RunResult {
    const invocations: InvocationResult[] = counted.map((p) =>
      p.toResult(p.final ? this.usesLive(p, p.status) : this.options.live !== undefined, this.options.timeoutSeconds),
    );
    return { commandId: this.options.commandId, invocations };
  }

  private usesLive(p: InstanceProgress, status: string): boolean {
    return this.options.live?.completes(p, status) ?? false;
  }

  /** Falls back to SSM's own output and delivers what was not yet shown. */
  private async useSsmOutput(p: InstanceProgress): Promise<void> {
    const { backend, commandId, ssmGuard, instances } = this.options;
    let invocation = p.ssm;
    if (invocation?.stdout === undefined && !p.offline) {
      invocation = (await ssmGuard.call(() => backend.getInvocation(commandId, p.instanceId))) ?? invocation;
    }
    if (invocation && invocation !== p.ssm && !p.ssm) p.ssm = invocation;
    p.fallback = { stdout: invocation?.stdout ?? '', stderr: invocation?.stderr ?? '' };
    const rebootNote = `${REBOOT_CODE_NOTE}\n`;
    if (invocation?.responseCode === REBOOT_EXIT_CODE_REPORTED_AS && p.fallback.stderr.includes(rebootNote)) {
      // The script's own 194, which the wrapper reported to the agent as 195 (see defaults.ts).
      p.exit ??= { exitCode: AGENT_REBOOT_EXIT_CODE };
      p.fallback.stderr = p.fallback.stderr.replace(rebootNote, '');
    }
    const notRun =
      p.wrapperError === undefined ? wrapperErrorFromStderr(p.fallback.stderr, invocation?.responseCode) : undefined;
    if (notRun !== undefined) {
      // The wrapper's own last word becomes the reason, said once (as with the live channel's error frame).
      p.wrapperError = notRun;
      const line = `ec2-runner: ${notRun}\n`;
      const at = p.fallback.stderr.lastIndexOf(line);
      if (at >= 0) p.fallback.stderr = p.fallback.stderr.slice(0, at) + p.fallback.stderr.slice(at + line.length);
    }
    if (p.startedAtMs !== undefined || (invocation && invocation.responseCode >= 0))
      p.notes.push(LIVE_OUTPUT_UNAVAILABLE);
    for (const stream of ['stdout', 'stderr'] as const) {
      const bytes = Buffer.from(p.fallback[stream], 'utf8');
      // Deliver only the part that the live channel has not already shown (SSM's output is far smaller
      // than what the client keeps in memory, so output that outgrew memory is never a prefix of it).
      const shown = p.output[stream].bytes();
      let tail: Buffer | undefined;
      if (p.output[stream].size === 0) tail = bytes;
      else if (shown && bytes.subarray(0, shown.byteLength).equals(shown)) tail = bytes.subarray(shown.byteLength);
      if (tail?.byteLength) instances.emitOutput({ instanceId: p.instanceId, stream, data: new Uint8Array(tail) });
    }
  }
}
