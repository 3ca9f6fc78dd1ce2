// An interactive run: the staged file runs in an AWS-StartInteractiveCommand session (a pty on
// the instance), so what the user types reaches the script's stdin. The command is the engine's
// plain-sh runner (download, sha256 check, env, working directory; fallbackScript.ts) whose last
// step runs the script on the pty and then reports its exit status in an escape sequence only this
// run knows (a per-run nonce); InteractiveCommands sessions have no exit-code message of their own.
import { randomBytes } from 'node:crypto';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { fallbackScriptLines } from '../remote/fallbackScript';
import { splitShellWords } from '../remote/shellWords';
import type { RemoteRunSpec } from '../remote/types';
import { type CommandSession, startCommandSession } from './commandSession';

const MARKER_START = '\u001b]777;ec2-runner-exit;';
const READY_START = '\u001b]777;ec2-runner-ready;';
const MARKER_END = '\u0007';

export interface InteractiveRunOptions {
  ssm: SSMClient;
  instanceId: string;
  spec: RemoteRunSpec;
  /** Local stdin is not a terminal: turn the remote echo off (typed lines are not printed back). */
  noEcho: boolean;
  /** Local stdout is not a terminal: no "\r\n" line endings from the pty. */
  rawNewlines: boolean;
  onOutput(bytes: Buffer): void;
  onNotice?(text: string): void;
}

export interface InteractiveRun {
  sessionId: string;
  session: CommandSession;
  /** Input for the script; held until the script starts (the pty would echo it before). */
  write(bytes: Buffer): void;
  /** The script's exit status; undefined when the session ended without reporting one. */
  done: Promise<{ exitCode?: number; reason?: string }>;
}

/** The shell command of an interactive run (exported for tests). */
export function interactiveCommand(
  spec: RemoteRunSpec,
  nonce: string,
  options: { noEcho: boolean; rawNewlines: boolean },
): string {
  const interpreter = spec.payload ? splitShellWords(spec.payload.interpreter) : [];
  const stty = [options.noEcho ? '-echo' : '', options.rawNewlines ? '-onlcr' : ''].filter(Boolean).join(' ');
  const runLines = [
    ...(stty ? [`stty ${stty} 2>/dev/null`] : []),
    // Input is held back until now: a pty echoes what arrives before `stty -echo` ran.
    `printf '\\033]777;ec2-runner-ready;${nonce}\\007'`,
    '"$@"',
    'ec2r_rc=$?',
    `printf '\\033]777;ec2-runner-exit;${nonce};%d\\007' "$ec2r_rc"`,
    'exit $ec2r_rc',
  ];
  return fallbackScriptLines(spec, interpreter, { runLines }).join('\n');
}

/** Removes the ready and exit markers from the output stream (they may arrive split across messages). */
export class ExitMarkerFilter {
  private held = '';
  exitCode: number | undefined;

  constructor(
    private readonly nonce: string,
    private readonly onReady: () => void = () => undefined,
  ) {}

  /** Returns the bytes to show. */
  push(bytes: Buffer): Buffer {
    let text = this.held + bytes.toString('latin1');
    this.held = '';
    const ready = `${READY_START}${this.nonce}${MARKER_END}`;
    const readyAt = text.indexOf(ready);
    if (readyAt >= 0) {
      text = text.slice(0, readyAt) + text.slice(readyAt + ready.length);
      this.onReady();
    }
    const marker = `${MARKER_START}${this.nonce};`;
    for (;;) {
      const at = text.indexOf(marker);
      if (at < 0) break;
      const end = text.indexOf(MARKER_END, at + marker.length);
      if (end < 0) {
        this.held = text.slice(at);
        return Buffer.from(text.slice(0, at), 'latin1');
      }
      const code = Number.parseInt(text.slice(at + marker.length, end), 10);
      if (Number.isInteger(code)) this.exitCode = code;
      text = text.slice(0, at) + text.slice(end + MARKER_END.length);
    }
    // Hold back a tail that could be the start of a marker.
    for (let keep = Math.min(ready.length - 1, text.length); keep > 0; keep--) {
      const tail = text.slice(text.length - keep);
      if (marker.startsWith(tail) || ready.startsWith(tail)) {
        this.held = text.slice(text.length - keep);
        text = text.slice(0, text.length - keep);
        break;
      }
    }
    return Buffer.from(text, 'latin1');
  }

  /** What is still held when the stream ends (not a marker after all). */
  flush(): Buffer {
    const rest = Buffer.from(this.held, 'latin1');
    this.held = '';
    return rest;
  }
}

export async function startInteractiveRun(options: InteractiveRunOptions): Promise<InteractiveRun> {
  const nonce = randomBytes(8).toString('hex');
  let pending: Buffer[] | undefined = [];
  let write: (bytes: Buffer) => void = () => undefined;
  const filter = new ExitMarkerFilter(nonce, () => {
    const held = pending ?? [];
    pending = undefined;
    for (const bytes of held) write(bytes);
  });
  const session = await startCommandSession({
    ssm: options.ssm,
    instanceId: options.instanceId,
    command: interactiveCommand(options.spec, nonce, options),
    interactive: true,
    onStdout: (bytes) => {
      const shown = filter.push(bytes);
      if (shown.length) options.onOutput(shown);
    },
    onStderr: (bytes) => options.onOutput(bytes),
    onNotice: options.onNotice,
  });
  write = (bytes) => session.write(bytes);
  const done = session.done.then((result) => {
    const rest = filter.flush();
    if (rest.length) options.onOutput(rest);
    return { exitCode: filter.exitCode, reason: result.reason };
  });
  done.catch(() => undefined);
  return {
    sessionId: session.sessionId,
    session,
    done,
    write: (bytes) => (pending ? pending.push(bytes) : write(bytes)),
  };
}
