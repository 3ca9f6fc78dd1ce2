// Session Manager against the sandbox through the real SDK client and a real WebSocket: command
// sessions (exit codes, stderr apart, a pty), port forwarding in smux and basic mode carrying
// 50 MB both ways byte-identical while the sandbox drops 5% of data messages, and sessions that
// survive their socket being dropped (ResumeSession, sequence numbers kept).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { type AddressInfo, type Socket, connect, createServer } from 'node:net';
import { SSMClient, StartSessionCommand, DescribeSessionsCommand } from '@aws-sdk/client-ssm';
import { startCommandSession } from '../../src/core/session/commandSession';
import { startPortForward } from '../../src/core/session/portForward';
import { CLIENT_VERSION } from '../../src/core/session/dataChannel';
import { pollUntil, withSandbox } from '../support/sandbox';

const MB = 1024 * 1024;

async function runCommand(ssm: SSMClient, instanceId: string, command: string, interactive = false, input?: Buffer) {
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  const session = await startCommandSession({
    ssm,
    instanceId,
    command,
    interactive,
    onStdout: (b) => stdout.push(b),
    onStderr: (b) => stderr.push(b),
  });
  if (input) session.write(input);
  const result = await session.done;
  return {
    ...result,
    stdout: Buffer.concat(stdout).toString('utf8'),
    stderr: Buffer.concat(stderr).toString('utf8'),
    session,
  };
}

/** A TCP server that, per connection, reads `size` bytes (hashing them) while sending `size` bytes of its own. */
async function exchangeServer(size: number) {
  const sent = randomBytes(size);
  const received: string[] = [];
  const server = createServer((socket) => {
    const hash = createHash('sha256');
    let count = 0;
    socket.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      count += chunk.length;
      if (count >= size) {
        received.push(hash.digest('hex'));
        socket.end();
      }
    });
    socket.write(sent);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    sentHash: createHash('sha256').update(sent).digest('hex'),
    received,
  };
}

/**
 * Connects to `port`, sends `size` random bytes while reading `size` bytes; returns both hashes once
 * `size` bytes arrived (basic mode never tells the client that the remote side closed).
 */
function exchangeClient(
  port: number,
  size: number,
): Promise<{ sentHash: string; receivedHash: string; receivedBytes: number }> {
  return new Promise((resolve, reject) => {
    const payload = randomBytes(size);
    const hash = createHash('sha256');
    let receivedBytes = 0;
    const socket: Socket = connect(port, '127.0.0.1', () => socket.write(payload));
    const finish = () =>
      resolve({
        sentHash: createHash('sha256').update(payload).digest('hex'),
        receivedHash: hash.digest('hex'),
        receivedBytes,
      });
    socket.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      receivedBytes += chunk.length;
      if (receivedBytes >= size) {
        socket.end();
        finish();
      }
    });
    socket.on('error', reject);
    socket.on('close', () => {
      if (receivedBytes < size) reject(new Error(`connection closed after ${receivedBytes} of ${size} bytes`));
    });
  });
}

function receivedAll(remote: { received: string[] }, connections: number) {
  return pollUntil(
    `the remote side to receive ${connections} upload(s)`,
    () => (remote.received.length >= connections ? true : undefined),
    60_000,
  );
}

describe('Session Manager on the sandbox', async () => {
  const fx = await withSandbox();
  const ssm = new SSMClient(fx.clientConfig);
  const [instanceId] = fx.onlineInstanceIds;

  test('a non-interactive command: stdout and stderr apart, its exit code, in the instance home as ssm-user', async () => {
    const result = await runCommand(ssm, instanceId, 'echo out; echo err >&2; echo "$USER $PWD"; exit 7');
    assert.equal(result.exitCode, 7);
    assert.match(result.stdout, /^out\nssm-user .*\/home\n$/);
    assert.equal(result.stderr, 'err\n');
  });

  test('output larger than many data messages arrives complete and in order', async () => {
    const result = await runCommand(ssm, instanceId, 'seq 1 50000');
    assert.equal(result.exitCode, 0);
    assert.equal(result.stdout, `${Array.from({ length: 50000 }, (_, i) => i + 1).join('\n')}\n`);
  });

  test('an interactive command gets a pty: typed input reaches it, the size follows', async () => {
    const stdout: Buffer[] = [];
    const session = await startCommandSession({
      ssm,
      instanceId,
      interactive: true,
      command: 'stty -echo; read a; read b; echo "sum=$((a+b))"; stty size',
      onStdout: (b) => stdout.push(b),
      onStderr: () => undefined,
    });
    session.resize(91, 33);
    session.write(Buffer.from('3\n4\n'));
    await session.done;
    const text = Buffer.concat(stdout).toString('utf8');
    assert.match(text, /sum=7\r\n/);
    assert.match(text, /33 91/);
  });

  test('unknown instance, offline instance and a denied StartSession each give one clear error', async () => {
    await assert.rejects(runCommand(ssm, 'i-0000000000000dead', 'true'), /not connected to Session Manager/);
    const offline = fx.info.instances.find((i) => i.pingStatus !== 'Online')!.instanceId;
    await assert.rejects(runCommand(ssm, offline, 'true'), /not connected to Session Manager/);
    fx.sandbox.configure({ deny: ['ssm:StartSession'] });
    try {
      await assert.rejects(
        runCommand(ssm, instanceId, 'true'),
        /Access denied for ssm:StartSession on .* with document AWS-StartNonInteractiveCommand/,
      );
    } finally {
      fx.sandbox.configure({ deny: [] });
    }
  });

  test(
    'a forwarded port carries 50 MB both ways byte-identical while 5% of data messages are dropped (smux)',
    { timeout: 240_000 },
    async () => {
      const remote = await exchangeServer(50 * MB);
      fx.sandbox.configure({ sessionDropRate: 0.05 });
      const forward = await startPortForward({ ssm, instanceId, remotePort: remote.port });
      try {
        assert.equal(forward.mode, 'smux');
        const started = Date.now();
        const result = await exchangeClient(forward.localPort, 50 * MB);
        const seconds = (Date.now() - started) / 1000;
        assert.equal(result.receivedBytes, 50 * MB);
        assert.equal(result.receivedHash, remote.sentHash, 'instance → client bytes differ');
        await receivedAll(remote, 1);
        assert.deepEqual(remote.received, [result.sentHash], 'client → instance bytes differ');
        const stats = fx.sandbox.sessionStats();
        assert.ok(
          stats.droppedIn > 1000 && stats.droppedOut > 1000,
          `the sandbox dropped messages both ways (${JSON.stringify(stats)})`,
        );
        console.log(
          `50 MB each way with 5% loss in ${seconds.toFixed(1)} s; dropped ${stats.droppedIn} in, ` +
            `${stats.droppedOut} out; client resent ${forward.channel.stats.resent}`,
        );
      } finally {
        fx.sandbox.configure({ sessionDropRate: 0 });
        await forward.close();
        remote.server.close();
      }
    },
  );

  test('smux carries several connections at once; a closed remote listener is reported', async () => {
    const remote = await exchangeServer(256 * 1024);
    const forward = await startPortForward({ ssm, instanceId, remotePort: remote.port });
    try {
      const results = await Promise.all([1, 2, 3, 4].map(() => exchangeClient(forward.localPort, 256 * 1024)));
      for (const r of results) assert.equal(r.receivedHash, remote.sentHash);
      await receivedAll(remote, 4);
      assert.deepEqual([...remote.received].sort(), results.map((r) => r.sentHash).sort());
    } finally {
      await forward.close();
      remote.server.close();
    }
  });

  test('basic mode (a client version before smux) forwards one connection', async () => {
    const remote = await exchangeServer(2 * MB);
    // An old client: the agent answers with the basic mode.
    const forward = await startPortForward({ ssm, instanceId, remotePort: remote.port, clientVersion: '1.1.0.0' });
    try {
      assert.equal(forward.mode, 'basic');
      const result = await exchangeClient(forward.localPort, 2 * MB);
      assert.equal(result.receivedHash, remote.sentHash);
      await receivedAll(remote, 1);
      assert.deepEqual(remote.received, [result.sentHash]);
    } finally {
      await forward.close();
      remote.server.close();
    }
  });

  test(
    'a session survives forced reconnects: ResumeSession, sequence numbers and unacknowledged data kept',
    { timeout: 120_000 },
    async () => {
      const remote = await exchangeServer(8 * MB);
      const forward = await startPortForward({ ssm, instanceId, remotePort: remote.port });
      const dropper = setInterval(() => fx.sandbox.dropSessionSockets(forward.sessionId), 300);
      try {
        const result = await exchangeClient(forward.localPort, 8 * MB);
        assert.equal(result.receivedHash, remote.sentHash);
        await receivedAll(remote, 1);
        assert.deepEqual(remote.received, [result.sentHash]);
        assert.ok(forward.channel.reconnects.count >= 2, `reconnected ${forward.channel.reconnects.count} times`);
      } finally {
        clearInterval(dropper);
        await forward.close();
        remote.server.close();
      }
      const stdout: Buffer[] = [];
      const session = await startCommandSession({
        ssm,
        instanceId,
        interactive: false,
        command: 'for i in 1 2 3 4 5 6; do echo $i; sleep 0.2; done; exit 3',
        onStdout: (b) => stdout.push(b),
        onStderr: () => undefined,
      });
      const dropper2 = setInterval(() => fx.sandbox.dropSessionSockets(session.sessionId), 250);
      try {
        const result = await session.done;
        assert.equal(result.exitCode, 3);
        assert.equal(Buffer.concat(stdout).toString(), '1\n2\n3\n4\n5\n6\n');
      } finally {
        clearInterval(dropper2);
      }
    },
  );

  test('the sandbox checks the token: a socket with a wrong token is refused', async () => {
    const started = await ssm.send(
      new StartSessionCommand({
        Target: instanceId,
        DocumentName: 'AWS-StartNonInteractiveCommand',
        Parameters: { command: ['sleep 5'] },
      }),
    );
    const { default: WebSocket } = await import('ws');
    const code = await new Promise<number>((resolve) => {
      const ws = new WebSocket(started.StreamUrl!);
      ws.on('open', () =>
        ws.send(
          JSON.stringify({
            MessageSchemaVersion: '1.0',
            RequestId: 'x',
            TokenValue: 'forged',
            ClientId: 'x',
            ClientVersion: CLIENT_VERSION,
          }),
        ),
      );
      ws.on('close', (c) => resolve(c));
    });
    assert.equal(code, 1008);
    const active = await ssm.send(new DescribeSessionsCommand({ State: 'Active' }));
    assert.ok(active.Sessions?.some((s) => s.SessionId === started.SessionId));
  });
});
