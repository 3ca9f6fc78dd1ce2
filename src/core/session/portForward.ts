// Local port forwarding over a Session Manager Port session (AWS-StartPortForwardingSession): a
// listener on 127.0.0.1 whose connections reach a port on the instance. With an agent after
// 3.0.196.0 every connection is an smux stream (many at once); older agents get the basic mode,
// one connection at a time, a DisconnectToPort flag when it closes. Followed from
// aws/session-manager-plugin src/sessionmanagerplugin/session/portsession/{portsession,
// basicportforwarding,muxportforwarding}.go (Apache-2.0); own implementation.
import { type Server, type Socket, createServer } from 'node:net';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { RunnerError } from '../api';
import { CLIENT_VERSION, type DataChannel } from './dataChannel';
import { FlagValue, PayloadType, compareVersions } from './message';
import { DOCUMENTS, openSession } from './session';
import { SmuxSession, joinSocket } from './smux';

/** Agents after this version multiplex (TCPMultiplexingSupportedAfterThisAgentVersion). */
export const MUX_AGENT_VERSION = '3.0.196.0';
/** Clients from this version get smux from the agent (port.go muxSupportedClientVersion). */
export const MUX_CLIENT_VERSION = '1.1.70';

export interface PortForwardOptions {
  ssm: SSMClient;
  instanceId: string;
  remotePort: number;
  /** 0 or undefined: any free port. */
  localPort?: number;
  /** Connection problems the user should see (e.g. nothing listens on the remote port). */
  onNotice?(text: string): void;
  /** Tests: report another client version (one before 1.1.70 gets the basic mode). */
  clientVersion?: string;
}

export interface PortForward {
  sessionId: string;
  localPort: number;
  mode: 'smux' | 'basic';
  channel: DataChannel;
  /** Resolves with the reason once the session is over. */
  closed: Promise<string | undefined>;
  close(): Promise<void>;
}

export function checkPort(value: number, what: string, allowZero = false): number {
  if (!Number.isInteger(value) || value < (allowZero ? 0 : 1) || value > 65535) {
    throw new RunnerError(
      `Invalid ${what} ${String(value)}: give a TCP port from ${allowZero ? 0 : 1} to 65535.`,
      'InvalidPort',
    );
  }
  return value;
}

export async function startPortForward(options: PortForwardOptions): Promise<PortForward> {
  const remotePort = checkPort(options.remotePort, 'remote port');
  const requestedLocal = checkPort(options.localPort ?? 0, 'local port', true);
  const server = createServer();
  // Listen first: a busy local port fails before any session is started.
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new RunnerError(
          error.code === 'EADDRINUSE'
            ? `Local port ${requestedLocal} is already in use: choose another one (or 0 for any free port).`
            : `Cannot listen on 127.0.0.1:${requestedLocal}: ${error.message}`,
          'LocalPortUnavailable',
          { cause: error },
        ),
      ),
    );
    server.listen(requestedLocal, '127.0.0.1', () => resolve());
  });
  const localPort = (server.address() as { port: number }).port;
  let session;
  try {
    session = await openSession({
      ssm: options.ssm,
      instanceId: options.instanceId,
      documentName: DOCUMENTS.portForwarding,
      parameters: { portNumber: [String(remotePort)], localPortNumber: [String(localPort)] },
      clientVersion: options.clientVersion,
    });
  } catch (error) {
    server.close();
    throw error;
  }
  const { channel, handshake } = session;
  const properties = (handshake.properties ?? {}) as { type?: string };
  // Both ends must agree: the agent multiplexes when the client reported 1.1.70 or later.
  const muxClient = compareVersions(options.clientVersion ?? CLIENT_VERSION, MUX_CLIENT_VERSION) >= 0;
  const mode =
    muxClient &&
    properties.type === 'LocalPortForwarding' &&
    compareVersions(handshake.agentVersion, MUX_AGENT_VERSION) > 0
      ? 'smux'
      : 'basic';
  const notice = options.onNotice ?? (() => undefined);
  const sockets = new Set<Socket>();
  const closed = new Promise<string | undefined>((resolve) => channel.once('closed', resolve));
  void closed.then(() => {
    server.close();
    for (const socket of sockets) socket.destroy();
  });
  channel.on('failed', (error: Error) => notice(error.message));
  (mode === 'smux' ? serveMultiplexed : serveBasic)(server, channel, sockets, notice);
  return {
    sessionId: session.sessionId,
    localPort,
    mode,
    channel,
    closed,
    async close() {
      channel.sendFlag(FlagValue.TerminateSession);
      await channel.flushed(1000);
      await session.terminate();
      await closed;
    },
  };
}

/** Reads `socket` into the channel as Output, pausing while the agent has too much unacknowledged. */
function pumpToChannel(socket: Socket, send: (chunk: Buffer) => Promise<void>): void {
  socket.on('data', (chunk: Buffer) => {
    socket.pause();
    send(chunk).then(
      () => socket.resume(),
      () => socket.destroy(),
    );
  });
}

function serveMultiplexed(
  server: Server,
  channel: DataChannel,
  sockets: Set<Socket>,
  notice: (text: string) => void,
): void {
  const mux = new SmuxSession(
    {
      write: async (bytes) => {
        channel.send(PayloadType.Output, bytes);
        await channel.whenWritable();
      },
    },
    'client',
  );
  channel.receiver = (message) => {
    if (message.payloadType === PayloadType.Output) {
      try {
        mux.feed(message.payload);
      } catch (error) {
        notice(`port forwarding stopped: ${(error as Error).message}`);
        channel.close((error as Error).message);
      }
    } else if (
      message.payloadType === PayloadType.Flag &&
      message.payload.length >= 4 &&
      message.payload.readUInt32BE(0) === FlagValue.ConnectToPortError
    ) {
      notice('Connection to the destination port failed on the instance: is anything listening there?');
    }
    return true;
  };
  channel.once('closed', () => mux.close());
  server.on('connection', (socket) => joinSocket(socket, mux.openStream(), sockets));
}

function serveBasic(server: Server, channel: DataChannel, sockets: Set<Socket>, notice: (text: string) => void): void {
  let current: Socket | undefined;
  const waiting: Socket[] = [];
  // Output that arrives before a local connection is not acknowledged: the agent resends it.
  channel.receiver = (message) => {
    if (message.payloadType !== PayloadType.Output) return true;
    if (!current) return false;
    current.write(message.payload);
    return true;
  };
  const adopt = (socket: Socket) => {
    current = socket;
    socket.resume();
    pumpToChannel(socket, async (chunk) => {
      channel.send(PayloadType.Output, chunk);
      await channel.whenWritable();
    });
    socket.on('close', () => {
      sockets.delete(socket);
      if (current !== socket) return;
      current = undefined;
      channel.sendFlag(FlagValue.DisconnectToPort); // the agent closes its side and redials on new data
      const next = waiting.shift();
      if (next) adopt(next);
    });
    socket.on('error', () => socket.destroy());
  };
  server.on('connection', (socket) => {
    sockets.add(socket);
    if (current) {
      socket.pause(); // basic mode carries one connection at a time (the plugin accepts the next after)
      waiting.push(socket);
      notice(
        'This agent forwards one connection at a time (basic mode, agent 3.0.196.0 or older): the new ' +
          'connection waits.',
      );
      return;
    }
    adopt(socket);
  });
}
