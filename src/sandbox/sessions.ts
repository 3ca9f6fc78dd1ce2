// Session Manager in the sandbox: StartSession/ResumeSession/TerminateSession/DescribeSessions
// answer like SSM, with a ws:// stream URL on the sandbox's own port; the WebSocket is
// authenticated by its first text frame (the token), like ssmmessages. Each session's instance side
// runs in sessionAgent.ts. Knobs: sessionDropRate drops that share of data messages in both
// directions (the reliable stream must recover); sessionSocketLifetimeMs closes every socket after
// that long (as the service does about hourly), which the client must survive with ResumeSession.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import { MessageType, encodeMessage } from '../core/session/message';
import { AwsError, validation } from './errors';
import type { SandboxInstance } from './fleet';
import type { Knobs } from './knobs';
import { AgentSession, type SessionKind } from './sessionAgent';

const DOCUMENT_KINDS: Record<string, SessionKind> = {
  'AWS-StartNonInteractiveCommand': 'NonInteractiveCommands',
  'AWS-StartInteractiveCommand': 'InteractiveCommands',
  'AWS-StartPortForwardingSession': 'Port',
};
const STREAM_PATH = '/v1/data-channel/';
/** The service's idle timeout default (20 min) is not modelled; sessions end with their command. */
const MAX_SESSIONS = 200;

interface SessionState {
  sessionId: string;
  target: string;
  documentName: string;
  token: string;
  socket?: WebSocket;
  agent: AgentSession;
  startedAt: number;
  endedAt?: number;
  lifetimeTimer?: NodeJS.Timeout;
}

export interface SessionServiceOptions {
  knobs: Knobs;
  region: string;
  instancePath: string;
  instancesById: Map<string, SandboxInstance>;
  endpoint(): string;
}

export class SessionService {
  private readonly sessions = new Map<string, SessionState>();
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 });
  readonly stats = { droppedIn: 0, droppedOut: 0, socketsDropped: 0 };

  constructor(private readonly options: SessionServiceOptions) {}

  startSession(input: Record<string, unknown>): unknown {
    const target = input.Target;
    if (typeof target !== 'string' || target === '')
      throw validation(
        "1 validation error detected: Value null at 'target' failed to satisfy constraint: Member must not be null",
      );
    const documentName = typeof input.DocumentName === 'string' ? input.DocumentName : 'SSM-SessionManagerRunShell';
    const instance = this.options.instancesById.get(target);
    if (!instance || instance.pingStatus !== 'Online')
      throw new AwsError('TargetNotConnected', `${target} is not connected.`);
    const kind = DOCUMENT_KINDS[documentName];
    if (!kind)
      throw new AwsError(
        'InvalidDocument',
        `Document ${documentName} is not supported by the sandbox (supported: ` +
          `${Object.keys(DOCUMENT_KINDS).join(', ')}).`,
      );
    const parameters = (input.Parameters ?? {}) as Record<string, unknown>;
    const first = (name: string): string | undefined => {
      const value = parameters[name];
      return Array.isArray(value) && typeof value[0] === 'string' ? value[0] : undefined;
    };
    let command: string | undefined;
    let portNumber: number | undefined;
    if (kind === 'Port') {
      portNumber = Number(first('portNumber') ?? '80');
      if (!Number.isInteger(portNumber) || portNumber < 1 || portNumber > 65535)
        throw new AwsError('InvalidParameters', `Invalid portNumber ${first('portNumber')}.`);
    } else {
      command = first('command');
      if (!command) throw new AwsError('InvalidParameters', 'Parameter "command" is required for the document.');
    }
    if ([...this.sessions.values()].filter((s) => !s.endedAt).length >= MAX_SESSIONS)
      throw new AwsError('ThrottlingException', 'Too many active sessions in the sandbox.');
    const sessionId = `sandbox-${randomBytes(9).toString('hex').slice(0, 17)}`;
    const session: SessionState = {
      sessionId,
      target,
      documentName,
      token: newToken(),
      startedAt: Date.now(),
    } as SessionState;
    session.agent = new AgentSession({
      sessionId,
      kind,
      instance,
      region: this.options.region,
      path: this.options.instancePath,
      command,
      portNumber,
      transmit: (frame) => this.toClient(session, frame),
      ended: (output) => this.ended(session, output),
    });
    this.sessions.set(sessionId, session);
    session.agent.start();
    return { SessionId: sessionId, TokenValue: session.token, StreamUrl: this.streamUrl(sessionId) };
  }

  resumeSession(input: Record<string, unknown>): unknown {
    const session = this.find(input.SessionId);
    if (session.endedAt) throw new AwsError('DoesNotExistException', `Session ${session.sessionId} is terminated.`);
    session.token = newToken();
    return { SessionId: session.sessionId, TokenValue: session.token, StreamUrl: this.streamUrl(session.sessionId) };
  }

  terminateSession(input: Record<string, unknown>): unknown {
    const session = this.find(input.SessionId);
    session.agent.terminate('');
    return { SessionId: session.sessionId };
  }

  describeSessions(input: Record<string, unknown>): unknown {
    const state = input.State;
    if (state !== 'Active' && state !== 'History')
      throw validation(
        "1 validation error detected: Value at 'state' failed to satisfy constraint: Member must satisfy " +
          'enum value set: [Active, History]',
      );
    const list = [...this.sessions.values()].filter((s) => (state === 'Active' ? !s.endedAt : Boolean(s.endedAt)));
    return {
      Sessions: list.map((s) => ({
        SessionId: s.sessionId,
        Target: s.target,
        DocumentName: s.documentName,
        Owner: 'arn:aws:iam::sandbox:user/sandbox',
        Status: s.endedAt ? 'Terminated' : 'Connected',
        StartDate: s.startedAt / 1000,
        EndDate: s.endedAt ? s.endedAt / 1000 : undefined,
      })),
    };
  }

  /** HTTP upgrade on the sandbox's port: true when it was a data-channel socket. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = request.url ?? '';
    if (!url.startsWith(STREAM_PATH)) return false;
    const sessionId = decodeURIComponent(url.slice(STREAM_PATH.length).split('?')[0]);
    this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, sessionId));
    return true;
  }

  /** Tests: close every data-channel socket (or one session's), as the service does about hourly. */
  dropSockets(sessionId?: string): number {
    let dropped = 0;
    for (const session of this.sessions.values()) {
      if (sessionId && session.sessionId !== sessionId) continue;
      if (session.socket) {
        session.socket.terminate();
        session.socket = undefined;
        dropped++;
      }
    }
    this.stats.socketsDropped += dropped;
    return dropped;
  }

  activeSessions(): number {
    return [...this.sessions.values()].filter((s) => !s.endedAt).length;
  }

  stop(): void {
    for (const session of this.sessions.values()) session.agent.terminate('The sandbox stopped.');
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
  }

  private find(id: unknown): SessionState {
    if (typeof id !== 'string' || id === '')
      throw validation(
        "1 validation error detected: Value null at 'sessionId' failed to satisfy constraint: Member must not be null",
      );
    const session = this.sessions.get(id);
    if (!session) throw new AwsError('DoesNotExistException', `Session ${id} does not exist.`);
    return session;
  }

  private streamUrl(sessionId: string): string {
    return `${this.options.endpoint().replace(/^http/, 'ws')}${STREAM_PATH}${sessionId}?role=publish_subscribe`;
  }

  private accept(ws: WebSocket, sessionId: string): void {
    let session: SessionState | undefined;
    const authTimer = setTimeout(() => ws.close(1008, 'no token'), 10_000);
    ws.on('message', (data, isBinary) => {
      const bytes = Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]);
      if (!session) {
        clearTimeout(authTimer);
        const candidate = this.sessions.get(sessionId);
        let token: unknown;
        try {
          token = isBinary ? undefined : (JSON.parse(bytes.toString('utf8')) as { TokenValue?: unknown }).TokenValue;
        } catch {
          token = undefined;
        }
        if (!candidate || candidate.endedAt || token !== candidate.token) {
          ws.close(1008, 'invalid token');
          return;
        }
        session = candidate;
        session.socket?.terminate(); // one socket per session: a resumed one replaces the old
        session.socket = ws;
        const lifetime = this.options.knobs.sessionSocketLifetimeMs;
        if (lifetime > 0) session.lifetimeTimer = setTimeout(() => this.dropSockets(session!.sessionId), lifetime);
        return;
      }
      if (!isBinary || session.socket !== ws) return;
      if (this.dropData(bytes, MessageType.Input)) {
        this.stats.droppedIn++;
        return;
      }
      try {
        session.agent.receive(bytes);
      } catch {
        // malformed frame: the agent logs and ignores it
      }
    });
    ws.on('close', () => {
      clearTimeout(authTimer);
      if (session && session.socket === ws) {
        session.socket = undefined;
        if (session.lifetimeTimer) clearTimeout(session.lifetimeTimer);
      }
    });
    ws.on('error', () => ws.terminate());
  }

  private toClient(session: SessionState, frame: Buffer): boolean {
    const ws = session.socket;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    if (this.dropData(frame, MessageType.Output)) {
      this.stats.droppedOut++;
      return true; // lost on the way: the reliable stream resends it
    }
    ws.send(frame, { binary: true });
    return true;
  }

  /** Only data messages are dropped (acknowledgements always arrive), like a lossy relay of data. */
  private dropData(frame: Buffer, dataType: string): boolean {
    const rate = this.options.knobs.sessionDropRate;
    return (
      rate > 0 &&
      frame.length > 36 &&
      frame.toString('utf8', 4, 4 + dataType.length) === dataType &&
      Math.random() < rate
    );
  }

  private ended(session: SessionState, output: string): void {
    if (session.endedAt) return;
    session.endedAt = Date.now();
    if (session.lifetimeTimer) clearTimeout(session.lifetimeTimer);
    const ws = session.socket;
    if (ws && ws.readyState === WebSocket.OPEN) {
      const payload = Buffer.from(
        JSON.stringify({
          MessageId: '',
          CreatedDate: new Date().toISOString(),
          DestinationId: session.target,
          SessionId: session.sessionId,
          MessageType: MessageType.ChannelClosed,
          SchemaVersion: 1,
          Output: output,
        }),
      );
      ws.send(encodeMessage({ messageType: MessageType.ChannelClosed, payload }), { binary: true }, () =>
        ws.close(1000),
      );
    }
  }
}

function newToken(): string {
  return randomBytes(48).toString('base64');
}
