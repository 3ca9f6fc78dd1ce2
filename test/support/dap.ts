// A small Debug Adapter Protocol client over TCP (Content-Length framing), enough to attach to
// debugpy, set breakpoints, read variables and continue, as VS Code does.
import { type Socket, connect } from 'node:net';

export interface DapMessage {
  seq: number;
  type: 'request' | 'response' | 'event';
  command?: string;
  event?: string;
  success?: boolean;
  message?: string;
  request_seq?: number;
  body?: any;
}

export class DapClient {
  private seq = 1;
  private buffer = Buffer.alloc(0);
  private readonly pending = new Map<number, (message: DapMessage) => void>();
  private readonly events: DapMessage[] = [];
  private readonly waiters: Array<{ event: string; resolve: (message: DapMessage) => void }> = [];
  readonly closed: Promise<void>;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.feed(chunk));
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => undefined);
  }

  static connect(port: number): Promise<DapClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new DapClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends a request; the promise resolves with its response (failed responses included). */
  request(command: string, args?: unknown): Promise<DapMessage> {
    const seq = this.seq++;
    const body = Buffer.from(JSON.stringify({ seq, type: 'request', command, arguments: args }), 'utf8');
    this.socket.write(Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]));
    return new Promise((resolve) => this.pending.set(seq, resolve));
  }

  /** The first `event` not consumed yet (already received or still to come). */
  waitForEvent(event: string, timeoutMs = 60_000): Promise<DapMessage> {
    const index = this.events.findIndex((m) => m.event === event);
    if (index >= 0) return Promise.resolve(this.events.splice(index, 1)[0]);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`no ${event} event within ${timeoutMs} ms (seen: ${this.events.map((e) => e.event).join(', ')})`),
          ),
        timeoutMs,
      );
      this.waiters.push({
        event,
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message);
        },
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private feed(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const headerEnd = this.buffer.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const length = Number(/Content-Length: (\d+)/i.exec(this.buffer.subarray(0, headerEnd).toString('ascii'))?.[1]);
      if (this.buffer.length < headerEnd + 4 + length) return;
      const message = JSON.parse(
        this.buffer.subarray(headerEnd + 4, headerEnd + 4 + length).toString('utf8'),
      ) as DapMessage;
      this.buffer = this.buffer.subarray(headerEnd + 4 + length);
      this.dispatch(message);
    }
  }

  private dispatch(message: DapMessage): void {
    if (message.type === 'response' && message.request_seq !== undefined) {
      this.pending.get(message.request_seq)?.(message);
      this.pending.delete(message.request_seq);
    } else if (message.type === 'event') {
      const index = this.waiters.findIndex((w) => w.event === message.event);
      if (index >= 0) this.waiters.splice(index, 1)[0].resolve(message);
      else this.events.push(message);
    }
  }
}

/** What a debug session in VS Code does up to the first stop: attach, breakpoints, configurationDone. */
export async function attachAndStop(
  client: DapClient,
  options: { localRoot: string; remoteRoot: string; file: string; line: number },
) {
  const init = await client.request('initialize', {
    clientID: 'ec2-runner-tests',
    adapterID: 'ec2-runner',
    pathFormat: 'path',
    linesStartAt1: true,
    columnsStartAt1: true,
  });
  if (!init.success) throw new Error(`initialize failed: ${init.message}`);
  // debugpy answers attach only after configurationDone.
  const attached = client.request('attach', {
    pathMappings: [{ localRoot: options.localRoot, remoteRoot: options.remoteRoot }],
    justMyCode: true,
  });
  await client.waitForEvent('initialized');
  const breakpoints = await client.request('setBreakpoints', {
    source: { path: options.file },
    breakpoints: [{ line: options.line }],
  });
  const done = await client.request('configurationDone');
  const attach = await attached;
  if (!attach.success || !done.success) throw new Error(`attach failed: ${attach.message ?? done.message}`);
  const stopped = await client.waitForEvent('stopped');
  return { breakpoints, stopped };
}

/** Local variables of the top frame of `threadId`, by name, as the Variables view shows them. */
export async function localVariables(
  client: DapClient,
  threadId: number,
): Promise<{ frame: DapMessage; values: Record<string, string> }> {
  const frames = await client.request('stackTrace', { threadId, startFrame: 0, levels: 1 });
  const frame = frames.body.stackFrames[0];
  const scopes = await client.request('scopes', { frameId: frame.id });
  const locals = scopes.body.scopes.find((s: { name: string }) => /local/i.test(s.name)) ?? scopes.body.scopes[0];
  const variables = await client.request('variables', { variablesReference: locals.variablesReference });
  const values: Record<string, string> = {};
  for (const v of variables.body.variables as Array<{ name: string; value: string }>) values[v.name] = v.value;
  return { frame: { ...frames, body: frame }, values };
}
