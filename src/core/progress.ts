// What is known about one instance's invocation while a run is followed.
import type { InvocationResult, OutputStream } from './api';
import type { SsmInvocation } from './backend';
import type { Frame } from './remote';
import { listArtifacts } from './artifacts';
import { extractResult, isTerminalStatus, reasonFor, wrapperExitCode } from './outcome';
import { AGENT_REBOOT_EXIT_CODE, REBOOT_EXIT_CODE_REPORTED_AS } from './defaults';
import { RunOutputStores, type StreamStore } from './outputStore';

export class InstanceProgress {
  status = 'Pending';
  statusDetails = 'Pending';
  /** The live channel's output, bounded in memory (outputStore.ts). */
  readonly output: Record<OutputStream, StreamStore>;
  resultFile?: Uint8Array;
  /** The tar of $EC2_RUNNER_ARTIFACTS, when the script left any. */
  artifactsTar?: Uint8Array;
  exit?: { exitCode: number; signal?: number };
  wrapperError?: string;
  /** Clock time the instance was seen to start (start frame or SSM InProgress). */
  startedAtMs?: number;
  startInfo?: Record<string, unknown>;
  /** Latest SSM view of the invocation. */
  ssm?: SsmInvocation;
  /** Output from SSM's own channel when the live one did not deliver the end (may be truncated). */
  fallback?: { stdout: string; stderr: string };
  final = false;
  /** Why the live channel cannot be trusted for this instance (corrupt object, lost chunks). */
  liveProblem?: string;
  gapSinceMs?: number;
  pingChecked = false;
  offline?: string;
  cancelRequestedAtMs?: number;
  timedOut = false;
  /** When a renewal was sent to fetch output kept on the instance after its run ended. */
  recoverySentAtMs?: number;
  recoveryCommandId?: string;
  notes: string[] = [];
  /**
   * SSM named this instance for the command (or the caller targeted it). Tag targets also learn of
   * instances from live-output keys, which anyone holding the run's POST policy can forge: such an
   * instance is shown early but only counted, reported and written to disk once SSM confirms it.
   */
  confirmed: boolean;

  constructor(
    readonly instanceId: string,
    confirmed = false,
    output?: Record<OutputStream, StreamStore>,
  ) {
    this.confirmed = confirmed;
    this.output = output ?? new RunOutputStores('unknown-command').create(instanceId);
  }

  /** The wrapper said its last word: exit frame or a wrapper error. */
  get liveEnded(): boolean {
    return this.exit !== undefined || this.wrapperError !== undefined;
  }

  get ssmTerminal(): boolean {
    return this.ssm !== undefined && isTerminalStatus(this.ssm.status);
  }

  /** Applies decoded frames; returns the output chunks to deliver, in order. */
  applyFrames(frames: Frame[], nowMs: number): Array<{ stream: OutputStream; data: Uint8Array }> {
    const chunks: Array<{ stream: OutputStream; data: Uint8Array }> = [];
    for (const frame of frames) {
      switch (frame.type) {
        case 'start':
          this.startInfo = frame.info;
          this.startedAtMs ??= nowMs;
          break;
        case 'stdout':
        case 'stderr':
          this.output[frame.type].append(frame.data);
          chunks.push({ stream: frame.type, data: frame.data });
          break;
        case 'result':
          this.resultFile = frame.data;
          break;
        case 'artifacts':
          this.artifactsTar = frame.data;
          break;
        case 'exit':
          this.exit = { exitCode: frame.exitCode, signal: frame.signal };
          break;
        case 'error':
          this.wrapperError = frame.message;
          break;
      }
    }
    return chunks;
  }

  /** No more live output will be kept (the result is final or nobody follows any more). */
  closeOutput(): void {
    this.output.stdout.close();
    this.output.stderr.close();
  }

  private artifactsList(notes: string[]): InvocationResult['artifacts'] {
    try {
      return listArtifacts(this.artifactsTar);
    } catch (error) {
      notes.push(`artifacts unreadable (${(error as Error).message})`);
      return [];
    }
  }

  toResult(usesLive: boolean, timeoutSeconds: number | undefined): InvocationResult {
    const ssm = this.ssm;
    let exitCode: number | null = null;
    const wrapperCode = this.exit ? wrapperExitCode(this.exit) : undefined;
    const notes = [...this.notes];
    if (ssm && ssm.responseCode >= 0) {
      exitCode = ssm.responseCode;
      if (wrapperCode === AGENT_REBOOT_EXIT_CODE && ssm.responseCode === REBOOT_EXIT_CODE_REPORTED_AS) {
        exitCode = wrapperCode; // the wrapper's own mapping, so the agent does not reboot the instance
      } else if (wrapperCode !== undefined && wrapperCode !== ssm.responseCode) {
        notes.push(`the wrapper reported exit code ${wrapperCode} but SSM ${ssm.responseCode}; using SSM's`);
      }
    } else if (wrapperCode !== undefined) {
      exitCode = wrapperCode;
    }
    const fromLive = usesLive && !this.fallback;
    const stdout = fromLive ? this.output.stdout.text() : (this.fallback?.stdout ?? '');
    const stderr = fromLive ? this.output.stderr.text() : (this.fallback?.stderr ?? '');
    const files = this.outputFiles(fromLive, notes);
    const artifacts = this.artifactsList(notes);
    const reason = reasonFor({
      status: this.status,
      statusDetails: this.statusDetails,
      exitCode,
      wrapperError: this.wrapperError,
      timeoutSeconds: this.timedOut ? timeoutSeconds : undefined,
      offline: this.offline,
    });
    const allNotes = [reason, ...notes].filter((n): n is string => Boolean(n));
    return {
      instanceId: this.instanceId,
      status: this.status,
      statusDetails: this.statusDetails,
      exitCode,
      stdout,
      stderr,
      result: extractResult(this.resultFile, stdout),
      outputSource: fromLive ? 'live' : 'ssm',
      reason: allNotes.length ? allNotes.join('; ') : undefined,
      startedAt: ssm?.startedAt,
      endedAt: ssm?.endedAt,
      artifacts,
      ...files,
    };
  }

  /** Where the whole output went when it outgrew memory; a note when it could not be saved (or is partial). */
  private outputFiles(fromLive: boolean, notes: string[]): Pick<InvocationResult, 'stdoutFile' | 'stderrFile'> {
    const files: Pick<InvocationResult, 'stdoutFile' | 'stderrFile'> = {};
    for (const stream of ['stdout', 'stderr'] as const) {
      const store = this.output[stream];
      if (store.problem) notes.push(`${stream}: ${store.problem}`);
      if (!store.file) continue;
      if (fromLive) files[stream === 'stdout' ? 'stdoutFile' : 'stderrFile'] = store.file;
      else notes.push(`the live ${stream} received before the channel failed is in ${store.file}`);
    }
    return files;
  }
}
