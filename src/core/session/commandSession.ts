// A command run in a Session Manager session: AWS-StartNonInteractiveCommand (stdout, stderr and
// the exit code apart; input only carries Ctrl-C/Ctrl-\) or AWS-StartInteractiveCommand (a pty on
// the instance: input reaches the command, output is one stream, the pty's size follows ours).
import type { SSMClient } from '@aws-sdk/client-ssm';
import { type DataMessage, PayloadType } from './message';
import { DOCUMENTS, type OpenSession, openSession } from './session';

export interface CommandSessionOptions {
  ssm: SSMClient;
  instanceId: string;
  command: string;
  interactive: boolean;
  onStdout(bytes: Buffer): void;
  onStderr(bytes: Buffer): void;
  /** Notices for the user (a resumed connection, the agent's customer message). */
  onNotice?(text: string): void;
}

export interface CommandSessionResult {
  /** From the agent's ExitCode payload (non-interactive sessions only). */
  exitCode?: number;
  /** Why the service closed the channel, when it said. */
  reason?: string;
}

export interface CommandSession {
  sessionId: string;
  /** Input bytes: keystrokes for an interactive session; Ctrl-C (0x03) interrupts either kind. */
  write(bytes: Buffer): void;
  resize(cols: number, rows: number): void;
  done: Promise<CommandSessionResult>;
  /** Ends the session now (TerminateSession). */
  terminate(): Promise<void>;
  /** @internal tests */
  session: OpenSession;
}

const EXIT_CODE = /^EXIT_CODE: (-?\d+)/;

export async function startCommandSession(options: CommandSessionOptions): Promise<CommandSession> {
  const session = await openSession({
    ssm: options.ssm,
    instanceId: options.instanceId,
    documentName: options.interactive ? DOCUMENTS.interactive : DOCUMENTS.nonInteractive,
    parameters: { command: [options.command] },
  });
  const { channel, handshake } = session;
  if (handshake.customerMessage) options.onNotice?.(handshake.customerMessage);
  channel.on('reconnecting', () => options.onNotice?.('Session connection dropped; resuming…'));
  let exitCode: number | undefined;
  let failure: Error | undefined;
  channel.on('failed', (error: Error) => {
    failure = error;
  });
  channel.receiver = (message: DataMessage) => {
    switch (message.payloadType) {
      case PayloadType.Output:
        options.onStdout(message.payload);
        break;
      case PayloadType.StdErr:
        options.onStderr(message.payload);
        break;
      case PayloadType.ExitCode: {
        const match = EXIT_CODE.exec(message.payload.toString('utf8'));
        if (match) exitCode = Number(match[1]);
        break;
      }
      default:
        break;
    }
    return true;
  };
  const done = new Promise<CommandSessionResult>((resolve, reject) => {
    channel.once('closed', (reason?: string) => (failure ? reject(failure) : resolve({ exitCode, reason })));
  });
  done.catch(() => undefined);
  let lastSize = '';
  return {
    sessionId: session.sessionId,
    session,
    write: (bytes) => channel.send(PayloadType.Output, bytes),
    resize(cols, rows) {
      const size = JSON.stringify({ cols, rows });
      if (size === lastSize || cols <= 0 || rows <= 0) return;
      lastSize = size;
      channel.send(PayloadType.Size, Buffer.from(size));
    },
    done,
    terminate: () => session.terminate(),
  };
}
