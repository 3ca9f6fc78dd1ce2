// The instance's side of a Session Manager session, as the SSM agent runs it: the reliable stream
// (output_stream_data out, input_stream_data in, shared with the client in src/core/session), the
// handshake (HandshakeRequest with the session type, HandshakeComplete once the client answered,
// 15 s timeout), then the session's plugin. Followed from aws/amazon-ssm-agent
// agent/session/datachannel/datachannel.go, agent/session/shell/shell.go and shell_unix.go,
// agent/session/plugins/port/{port,port_basic,port_mux}.go (Apache-2.0); own implementation.
import { type ChildProcess, spawn } from 'node:child_process';
import { type Socket, connect } from 'node:net';
import {
  FlagValue,
  PayloadType,
  type DataMessage,
  MessageType,
  compareVersions,
  flagPayload,
  parseJsonPayload,
} from '../core/session/message';
import { ReliableStream, SEND_WINDOW } from '../core/session/reliable';
import { SmuxSession, joinSocket } from '../core/session/smux';
import { PTY_BRIDGE } from './ptyBridge';
import type { SandboxInstance } from './fleet';

export const HANDSHAKE_TIMEOUT_MS = 15_000;
const MUX_CLIENT_VERSION = '1.1.70';
const CLIENT_VERSION_WITHOUT_OUTPUT_SEPARATION = '1.2.295';
/** appconfig.ByteControlSignalsLinux: what NonInteractiveCommands does with input bytes. */
const CONTROL_SIGNALS: Record<number, NodeJS.Signals> = { 0x03: 'SIGINT', 0x1c: 'SIGQUIT', 0x1a: 'SIGTSTP' };

export type SessionKind = 'NonInteractiveCommands' | 'InteractiveCommands' | 'Port';

export interface AgentSessionSpec {
  sessionId: string;
  kind: SessionKind;
  instance: SandboxInstance;
  region: string;
  path: string;
  /** The command (command sessions) or port number (port sessions). */
  command?: string;
  portNumber?: number;
  /** Puts a frame on the client's socket; false when no socket is connected. */
  transmit(frame: Buffer): boolean;
  /** The session is over: the service tells the client with channel_closed (output = why). */
  ended(output: string): void;
}

interface Plugin {
  input(message: DataMessage): boolean;
  stop(): void;
}

export class AgentSession {
  readonly stream: ReliableStream;
  private clientVersion = '';
  private handshakeDone = false;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private plugin: Plugin | undefined;
  private over = false;

  constructor(private readonly spec: AgentSessionSpec) {
    this.stream = new ReliableStream({
      outgoingType: MessageType.Output,
      incomingType: MessageType.Input,
      transmit: (frame) => spec.transmit(frame),
      deliver: (message) => this.deliver(message),
      control: (message) => {
        if (message.messageType === MessageType.ChannelClosed) this.finish('');
      },
      giveUp: () => this.finish('The client stopped acknowledging data.'),
    });
  }

  start(): void {
    const sessionType = this.spec.kind;
    const properties =
      this.spec.kind === 'Port'
        ? { portNumber: String(this.spec.portNumber), type: 'LocalPortForwarding' }
        : {
            commands: this.spec.command,
            runAsElevated: false,
            separateOutputStream: this.spec.kind === 'NonInteractiveCommands',
          };
    this.sendJson(PayloadType.HandshakeRequest, {
      AgentVersion: this.spec.instance.agentVersion,
      RequestedClientActions: [
        { ActionType: 'SessionType', ActionParameters: { SessionType: sessionType, Properties: properties } },
      ],
    });
    this.handshakeTimer = setTimeout(
      () =>
        this.finish(
          'Handshake timed out. Please ensure that you have the latest version of the session manager plugin.',
        ),
      HANDSHAKE_TIMEOUT_MS,
    );
  }

  /** A frame from the client's socket. */
  receive(frame: Buffer): void {
    this.stream.receive(frame);
  }

  /** TerminateSession, or the sandbox stopping. */
  terminate(output = ''): void {
    this.finish(output);
  }

  get isOver(): boolean {
    return this.over;
  }

  private sendJson(payloadType: number, value: unknown): void {
    this.stream.send(payloadType, Buffer.from(JSON.stringify(value)));
  }

  private deliver(message: DataMessage): boolean {
    if (this.over) return true;
    if (message.payloadType === PayloadType.HandshakeResponse) {
      this.handshakeResponse(message);
      return true;
    }
    // Before the handshake completes, data is acknowledged and ignored (processStreamDataMessage).
    if (!this.handshakeDone) return true;
    if (
      message.payloadType === PayloadType.Flag &&
      message.payload.length >= 4 &&
      message.payload.readUInt32BE(0) === FlagValue.TerminateSession
    ) {
      this.finish('');
      return true;
    }
    return this.plugin ? this.plugin.input(message) : false;
  }

  private handshakeResponse(message: DataMessage): void {
    const response = parseJsonPayload<{
      ClientVersion?: string;
      ProcessedClientActions?: Array<{ ActionType: string; ActionStatus: number; Error?: string }>;
    }>(message);
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    const failed = (response.ProcessedClientActions ?? []).find((a) => a.ActionStatus !== 1);
    if (failed) {
      this.finish(
        `${failed.ActionType} failed on client with status ${failed.ActionStatus} error: ${failed.Error ?? ''}`,
      );
      return;
    }
    this.clientVersion = response.ClientVersion ?? '';
    const separated = this.spec.kind === 'NonInteractiveCommands';
    const customerMessage =
      separated && compareVersions(this.clientVersion, CLIENT_VERSION_WITHOUT_OUTPUT_SEPARATION) <= 0
        ? 'Please update session manager plugin version (minimum required version 1.2.312.0) for fully support ' +
          'of separate StdOut/StdErr output.\r\n'
        : '';
    this.sendJson(PayloadType.HandshakeComplete, {
      HandshakeTimeToComplete: 1_000_000,
      CustomerMessage: customerMessage,
    });
    this.handshakeDone = true;
    try {
      this.plugin = this.startPlugin();
    } catch (error) {
      this.finish((error as Error).message);
    }
  }

  private startPlugin(): Plugin {
    switch (this.spec.kind) {
      case 'NonInteractiveCommands':
        return this.commandPlugin(false);
      case 'InteractiveCommands':
        return this.commandPlugin(true);
      case 'Port':
        return compareVersions(this.clientVersion, MUX_CLIENT_VERSION) >= 0
          ? this.muxPortPlugin()
          : this.basicPortPlugin();
    }
  }

  /** Sends a child's stream as `payloadType` messages, pausing it while the client lags. */
  private pump(source: NodeJS.ReadableStream, payloadType: number): Promise<void> {
    return new Promise((resolve) => {
      source.on('data', (chunk: Buffer) => {
        this.stream.write(payloadType, chunk);
        if (this.stream.unacknowledged >= SEND_WINDOW) {
          source.pause();
          void this.stream.whenWritable().then(() => source.resume());
        }
      });
      source.on('end', resolve);
      source.on('error', () => resolve());
      source.on('close', resolve);
    });
  }

  private commandPlugin(interactive: boolean): Plugin {
    const { instance } = this.spec;
    const env: NodeJS.ProcessEnv = {
      PATH: this.spec.path,
      LANG: 'C.UTF-8',
      HOME: instance.homeDir,
      TMPDIR: instance.tmpDir,
      USER: 'ssm-user',
      LOGNAME: 'ssm-user',
      SHELL: '/bin/sh',
      AWS_SSM_INSTANCE_ID: instance.instanceId,
      AWS_SSM_REGION_NAME: this.spec.region,
      TERM: interactive ? 'xterm-256color' : undefined,
    };
    const command = this.spec.command ?? '';
    // A pty needs native code in Node; the sandbox gets one from Python's pty module (ptyBridge.ts).
    const child: ChildProcess = interactive
      ? spawn('python3', ['-c', PTY_BRIDGE, 'sh', '-c', command], {
          cwd: instance.homeDir,
          env,
          detached: true,
          stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
        })
      : spawn('sh', ['-c', command], { cwd: instance.homeDir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const signal = (name: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, name);
      } catch {
        // already gone
      }
    };
    const outputs = [
      this.pump(child.stdout!, PayloadType.Output),
      this.pump(child.stderr!, interactive ? PayloadType.Output : PayloadType.StdErr),
    ];
    let exitCode = 1;
    const exited = new Promise<void>((resolve) => {
      child.on('exit', (code, sig) => {
        exitCode =
          code ??
          (sig
            ? 128 + (sig === 'SIGKILL' ? 9 : sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : sig === 'SIGQUIT' ? 3 : 0)
            : 1);
        resolve();
      });
      child.on('error', (error) => {
        this.stream.write(
          interactive ? PayloadType.Output : PayloadType.StdErr,
          Buffer.from(`Error occurred starting the command: ${error.message}\n`),
        );
        resolve();
      });
    });
    void Promise.all([exited, ...outputs]).then(async () => {
      signal('SIGKILL'); // nothing outlives the session's command
      if (!interactive) this.stream.send(PayloadType.ExitCode, Buffer.from(`EXIT_CODE: ${exitCode}`));
      await this.stream.flushed(2000); // PrepareToCloseChannel
      this.finish('');
    });
    return {
      input: (message) => {
        if (interactive) {
          if (message.payloadType === PayloadType.Output) child.stdin?.write(message.payload);
          else if (message.payloadType === PayloadType.Size)
            (child.stdio[3] as NodeJS.WritableStream | null)?.write(`${message.payload.toString('utf8')}\n`);
          return true;
        }
        if (message.payloadType === PayloadType.Output) {
          for (const byte of message.payload) if (CONTROL_SIGNALS[byte]) signal(CONTROL_SIGNALS[byte]);
        }
        return true; // NonInteractiveCommands has no stdin: other input is dropped
      },
      stop: () => signal('SIGKILL'),
    };
  }

  private dial(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = connect(this.spec.portNumber ?? 0, '127.0.0.1');
      socket.once('connect', () => resolve(socket));
      socket.once('error', reject);
    });
  }

  private muxPortPlugin(): Plugin {
    const sockets = new Set<Socket>();
    const mux = new SmuxSession(
      {
        write: async (bytes) => {
          this.stream.write(PayloadType.Output, bytes);
          await this.stream.whenWritable();
        },
      },
      'server',
      (stream) => {
        this.dial().then(
          (socket) => joinSocket(socket, stream, sockets),
          () => {
            this.stream.send(PayloadType.Flag, flagPayload(FlagValue.ConnectToPortError));
            stream.destroy();
          },
        );
      },
    );
    return {
      input: (message) => {
        if (message.payloadType === PayloadType.Output) {
          try {
            mux.feed(message.payload);
          } catch (error) {
            this.finish(`Unable to process smux data: ${(error as Error).message}`);
          }
        }
        return true;
      },
      stop: () => {
        mux.close();
        for (const socket of sockets) socket.destroy();
      },
    };
  }

  /** One TCP connection, dialled now (the remote listener must be up); redialled after DisconnectToPort. */
  private basicPortPlugin(): Plugin {
    let socket: Socket | undefined;
    let connecting: Promise<Socket> | undefined;
    const attach = (s: Socket) => {
      socket = s;
      void this.pump(s, PayloadType.Output);
      s.on('close', () => {
        if (socket === s) socket = undefined;
      });
    };
    connecting = this.dial();
    connecting.then(attach, (error: Error) => this.finish(`Unable to connect to specified port: ${error.message}`));
    return {
      input: (message) => {
        if (
          message.payloadType === PayloadType.Flag &&
          message.payload.readUInt32BE(0) === FlagValue.DisconnectToPort
        ) {
          socket?.destroy();
          socket = undefined;
          connecting = undefined;
          return true;
        }
        if (message.payloadType !== PayloadType.Output) return true;
        if (!socket) {
          // Not connected (yet, or again after DisconnectToPort): dial, and let the client resend.
          connecting ??= this.dial();
          connecting.then(
            (s) => {
              if (!socket) attach(s);
            },
            (error: Error) => this.finish(`Unable to connect to specified port: ${error.message}`),
          );
          return false;
        }
        socket.write(message.payload);
        return true;
      },
      stop: () => socket?.destroy(),
    };
  }

  private finish(output: string): void {
    if (this.over) return;
    this.over = true;
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.plugin?.stop();
    this.stream.stop();
    this.spec.ended(output);
  }
}
