// The client end of a Session Manager data channel over WebSocket (`ws`): the token message that
// authenticates the socket, the reliable stream (reliable.ts), the handshake (session type, client
// version), `channel_closed`, pings, and reconnection through ResumeSession when the socket drops
// (sequence numbers and unacknowledged messages carry over). Followed from aws/session-manager-plugin
// src/datachannel/streaming.go, src/communicator/websocketchannel.go and
// src/sessionmanagerplugin/session/sessionhandler.go (Apache-2.0); own implementation.
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { RunnerError } from '../api';
import { type DataMessage, MessageType, PayloadType, flagPayload, parseJsonPayload } from './message';
import { ReliableStream } from './reliable';

/**
 * The version this client reports. Agents pick behaviour from it: ≥ 1.1.70 multiplexes port
 * forwarding with smux, > 1.2.331.0 turns smux keep-alive off (this client sends none), ≥ 1.2.312.0
 * gets stdout and stderr apart.
 */
export const CLIENT_VERSION = '1.2.694.0';
export const PING_INTERVAL_MS = 5 * 60_000;
/** The agent gives up on a handshake after 15 s; wait a little longer for its first message. */
export const HANDSHAKE_TIMEOUT_MS = 20_000;
const RECONNECT_ATTEMPTS = 5;
const RECONNECT_BASE_DELAY_MS = 100;
const RECONNECT_MAX_DELAY_MS = 5_000;
const CONNECT_TIMEOUT_MS = 15_000;

export interface SessionEndpoint {
  sessionId: string;
  streamUrl: string;
  tokenValue: string;
}

export interface HandshakeInfo {
  agentVersion: string;
  /** Standard_Stream (also for InteractiveCommands/NonInteractiveCommands), Port. */
  sessionType: string;
  properties: unknown;
  customerMessage?: string;
}

interface HandshakeRequest {
  AgentVersion?: string;
  RequestedClientActions?: Array<{
    ActionType: string;
    ActionParameters?: { SessionType?: string; Properties?: unknown };
  }>;
}

export interface DataChannelOptions {
  endpoint: SessionEndpoint;
  /** ResumeSession: a new token for the same session, or undefined when the session is over. */
  resume(): Promise<string | undefined>;
  clientVersion?: string;
}

/**
 * Events: 'data' (message) for Output/StdErr/ExitCode/Flag payloads in order; 'closed'
 * (reason?: string) once the channel ends (channel_closed or close()); 'failed' (RunnerError) when
 * it cannot go on; 'reconnecting' and 'reconnected' around a resumed socket.
 */
export class DataChannel extends EventEmitter {
  readonly sessionId: string;
  private readonly clientId = randomUUID();
  private socket: WebSocket | undefined;
  private token: string;
  private readonly stream: ReliableStream;
  private ended = false;
  private reconnecting = false;
  private pingTimer: NodeJS.Timeout | undefined;
  private handshake: {
    info?: HandshakeInfo;
    done: Promise<HandshakeInfo>;
    resolve(info: HandshakeInfo): void;
    reject(e: Error): void;
  };
  /** Takes data payloads; returns false while not ready (the message is then resent by the agent). */
  receiver: ((message: DataMessage) => boolean) | undefined;
  readonly reconnects = { count: 0 };

  constructor(private readonly options: DataChannelOptions) {
    super();
    this.sessionId = options.endpoint.sessionId;
    this.token = options.endpoint.tokenValue;
    this.stream = new ReliableStream({
      outgoingType: MessageType.Input,
      incomingType: MessageType.Output,
      transmit: (frame) => this.transmit(frame),
      deliver: (message) => this.deliver(message),
      control: (message) => this.control(message),
      giveUp: (error) =>
        this.fail(
          new RunnerError(
            `Session ${this.sessionId} stalled: ${error.message}. The instance's agent stopped answering.`,
            'SessionStalled',
          ),
        ),
    });
    let resolve!: (info: HandshakeInfo) => void;
    let reject!: (e: Error) => void;
    const done = new Promise<HandshakeInfo>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    done.catch(() => undefined);
    this.handshake = { done, resolve, reject };
  }

  get stats() {
    return this.stream.stats;
  }

  /** Opens the socket and authenticates it; resolves once the token message is sent. */
  async open(): Promise<void> {
    await this.connect();
    this.pingTimer = setInterval(
      () => this.socket?.readyState === WebSocket.OPEN && this.socket.ping(),
      PING_INTERVAL_MS,
    );
    this.pingTimer.unref();
  }

  /** Resolves with the agent's handshake once complete (HandshakeComplete received). */
  waitForHandshake(timeoutMs = HANDSHAKE_TIMEOUT_MS): Promise<HandshakeInfo> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new RunnerError(
              `Session ${this.sessionId}: the instance's SSM agent did not complete the Session Manager ` +
                `handshake within ${Math.round(timeoutMs / 1000)} s. Update the agent (3.0.222.0 or later for ` +
                `port forwarding) and retry.`,
              'SessionHandshakeTimeout',
            ),
          ),
        timeoutMs,
      );
    });
    return Promise.race([this.handshake.done, timeout]).finally(() => clearTimeout(timer));
  }

  /** Sends input (keystrokes, port bytes, a size change) in order and reliably. */
  send(payloadType: number, payload: Buffer): void {
    if (payloadType === PayloadType.Output) this.stream.write(payloadType, payload);
    else this.stream.send(payloadType, payload);
  }

  sendFlag(flag: number): void {
    this.stream.send(PayloadType.Flag, flagPayload(flag));
  }

  /** Resolves when the agent can take more (backpressure for bulk senders). */
  whenWritable(): Promise<void> {
    return this.stream.whenWritable();
  }

  /** Resolves when all input is acknowledged (or after timeoutMs). */
  flushed(timeoutMs: number): Promise<boolean> {
    return this.stream.flushed(timeoutMs);
  }

  /** Closes the socket for good (TerminateSession is the caller's business). */
  close(reason?: string): void {
    this.end(reason);
  }

  /** Tests: drop the socket as the service does about hourly; the channel resumes. */
  dropSocketForTest(): void {
    this.socket?.terminate();
  }

  private connect(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const socket = new WebSocket(this.options.endpoint.streamUrl, {
        handshakeTimeout: CONNECT_TIMEOUT_MS,
        perMessageDeflate: false,
      });
      this.socket = socket;
      let opened = false;
      socket.on('open', () => {
        opened = true;
        // The first frame is text and authenticates the socket (FinalizeDataChannelHandshake).
        socket.send(
          JSON.stringify({
            MessageSchemaVersion: '1.0',
            RequestId: randomUUID(),
            TokenValue: this.token,
            ClientId: this.clientId,
            ClientVersion: this.options.clientVersion ?? CLIENT_VERSION,
          }),
        );
        resolve();
      });
      socket.on('message', (data, isBinary) => {
        if (!isBinary || this.ended || socket !== this.socket) return;
        try {
          this.stream.receive(Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]));
        } catch (error) {
          this.emit('warning', `ignored a malformed data-channel message: ${(error as Error).message}`);
        }
      });
      socket.on('unexpected-response', (_req, res) => {
        socket.terminate();
        const error = new RunnerError(
          `Session ${this.sessionId}: the data channel refused the connection (HTTP ${res.statusCode}). The ` +
            `session token may have expired: start a new session.`,
          'SessionRefused',
        );
        if (!opened) reject(error);
      });
      socket.on('error', (error) => {
        if (!opened)
          reject(
            new RunnerError(
              `Session ${this.sessionId}: cannot open the data channel at ` +
                `${redactUrl(this.options.endpoint.streamUrl)}: ${error.message}. The caller needs a network ` +
                `route to ssmmessages.<region>.amazonaws.com (port 443).`,
              'SessionConnectFailed',
              { cause: error },
            ),
          );
      });
      socket.on('close', () => {
        if (socket !== this.socket || this.ended) return;
        if (opened) void this.reconnect();
      });
    });
  }

  private async reconnect(): Promise<void> {
    if (this.reconnecting || this.ended) return;
    this.reconnecting = true;
    this.emit('reconnecting');
    let lastError: unknown;
    for (let attempt = 0; attempt < RECONNECT_ATTEMPTS && !this.ended; attempt++) {
      const delay = Math.min(RECONNECT_MAX_DELAY_MS, RECONNECT_BASE_DELAY_MS * 2 ** attempt) * (1 + Math.random());
      await new Promise((r) => setTimeout(r, attempt === 0 ? 0 : delay));
      try {
        const token = await this.options.resume();
        if (token === undefined) {
          this.reconnecting = false;
          this.end('the session timed out or was terminated');
          return;
        }
        this.token = token;
        await this.connect();
        this.reconnecting = false;
        this.reconnects.count++;
        this.stream.resendAll();
        this.emit('reconnected');
        return;
      } catch (error) {
        lastError = error;
      }
    }
    this.reconnecting = false;
    if (!this.ended) {
      const why = lastError instanceof Error ? lastError.message : String(lastError);
      this.fail(
        new RunnerError(
          `Session ${this.sessionId}: the data channel dropped and could not be resumed after ` +
            `${RECONNECT_ATTEMPTS} attempts (${why}).`,
          'SessionLost',
          { cause: lastError },
        ),
      );
    }
  }

  private transmit(frame: Buffer): boolean {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(frame, { binary: true });
    return true;
  }

  private deliver(message: DataMessage): boolean {
    switch (message.payloadType) {
      case PayloadType.HandshakeRequest:
        this.answerHandshake(parseJsonPayload<HandshakeRequest>(message));
        return true;
      case PayloadType.HandshakeComplete: {
        const complete = parseJsonPayload<{ CustomerMessage?: string }>(message);
        const info = this.handshake.info ?? { agentVersion: '', sessionType: 'Standard_Stream', properties: undefined };
        info.customerMessage = complete.CustomerMessage || undefined;
        this.handshake.info = info;
        this.handshake.resolve(info);
        return true;
      }
      case PayloadType.EncChallengeRequest:
        return true; // never reached: KMS encryption is declined in the handshake
      default:
        if (!this.handshake.info && message.payloadType === PayloadType.Output) {
          // Agents older than the handshake start with output (ProcessFirstMessage).
          this.handshake.info = { agentVersion: '', sessionType: 'Standard_Stream', properties: undefined };
          this.handshake.resolve(this.handshake.info);
        }
        return this.receiver ? this.receiver(message) : false;
    }
  }

  private answerHandshake(request: HandshakeRequest): void {
    const info: HandshakeInfo = { agentVersion: request.AgentVersion ?? '', sessionType: '', properties: undefined };
    const processed: unknown[] = [];
    const errors: string[] = [];
    for (const action of request.RequestedClientActions ?? []) {
      if (action.ActionType === 'SessionType') {
        const type = action.ActionParameters?.SessionType ?? '';
        // Shell-like types all behave as Standard_Stream (ProcessSessionTypeHandshakeAction).
        info.sessionType = type === 'Port' ? 'Port' : 'Standard_Stream';
        info.properties = action.ActionParameters?.Properties;
        processed.push({ ActionType: 'SessionType', ActionStatus: 1, ActionResult: null, Error: '' });
      } else {
        const error =
          action.ActionType === 'KMSEncryption'
            ? 'KMSEncryption is not supported by EC2 Runner: turn off KMS encryption in the Session Manager ' +
              'preferences, or use the AWS CLI with the Session Manager plugin'
            : `Unsupported action ${action.ActionType}`;
        errors.push(error);
        processed.push({
          ActionType: action.ActionType,
          ActionStatus: action.ActionType === 'KMSEncryption' ? 2 : 3,
          ActionResult: null,
          Error: error,
        });
      }
    }
    this.handshake.info = info;
    this.stream.send(
      PayloadType.HandshakeResponse,
      Buffer.from(
        JSON.stringify({
          ClientVersion: this.options.clientVersion ?? CLIENT_VERSION,
          ProcessedClientActions: processed,
          Errors: errors,
        }),
      ),
    );
    if (errors.some((e) => e.startsWith('KMSEncryption'))) {
      this.handshake.reject(
        new RunnerError(
          `Session ${this.sessionId}: the account's Session Manager preferences require KMS encryption, ` +
            `which EC2 Runner does not support. Turn it off for these sessions, or use the AWS CLI with the ` +
            `Session Manager plugin.`,
          'SessionKmsUnsupported',
        ),
      );
    }
  }

  private control(message: DataMessage): void {
    if (message.messageType !== MessageType.ChannelClosed) return;
    let output: string | undefined;
    try {
      output = parseJsonPayload<{ Output?: string }>(message).Output || undefined;
    } catch {
      output = undefined;
    }
    this.end(output);
  }

  private fail(error: RunnerError): void {
    if (this.ended) return;
    this.handshake.reject(error);
    this.emit('failed', error);
    this.end(error.message);
  }

  private end(reason?: string): void {
    if (this.ended) return;
    this.ended = true;
    this.stream.stop();
    if (this.pingTimer) clearInterval(this.pingTimer);
    const socket = this.socket;
    this.socket = undefined;
    if (socket) {
      if (socket.readyState === WebSocket.OPEN) socket.close(1000);
      else socket.terminate();
    }
    this.handshake.reject(
      new RunnerError(
        `Session ${this.sessionId} ended before its handshake${reason ? `: ${reason.replace(/\.+$/, '')}` : ''}.`,
        'SessionClosed',
      ),
    );
    this.emit('closed', reason);
  }
}

/** The stream URL without its query (never print tokens or signatures). */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}
