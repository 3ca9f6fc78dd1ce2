// Child process that hosts one sandbox, so its event loop and its commands' processes do not share
// the bench client's event loop. Talks to the bench over IPC (see sandboxProcess.ts).
//
// Besides the sandbox's own stats() it keeps, without touching the sandbox, a timestamped log of
// SSM calls (to find poll rounds) and the bytes of S3 PutObject bodies (staging uploads): it wraps
// the request handler that the sandbox passes to http.createServer.
import http, { type IncomingMessage, type RequestListener } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startSandbox, type Sandbox, type SandboxOptions } from '../src/sandbox';

export interface CallRecord {
  /** Client-visible arrival time, ms since epoch. */
  atMs: number;
  /** e.g. `ssm:ListCommands`, `s3:PUT`. */
  operation: string;
  bodyBytes: number;
}

export type HostRequest = { id: number; type: 'stats' | 'reset' | 'log' | 'stop' };

const calls: CallRecord[] = [];

function record(message: IncomingMessage): void {
  const target = message.headers['x-amz-target'];
  const declared = message.headers['x-amz-decoded-content-length'] ?? message.headers['content-length'];
  const bodyBytes = Number(Array.isArray(declared) ? declared[0] : declared) || 0;
  const operation = typeof target === 'string' ? `ssm:${target.split('.')[1] ?? target}` : `s3:${message.method}`;
  calls.push({ atMs: Date.now(), operation, bodyBytes });
}

function recordRequests(): void {
  const original = http.createServer.bind(http) as (...args: unknown[]) => http.Server;
  (http as { createServer: unknown }).createServer = (...args: unknown[]) => {
    const index = args.findIndex((a) => typeof a === 'function');
    if (index >= 0) {
      const handler = args[index] as RequestListener;
      args[index] = ((req, res) => {
        record(req);
        handler(req, res);
      }) as RequestListener;
    }
    return original(...args);
  };
}

/** Bytes of PutObject bodies (S3 PUT without x-amz-copy-source; the sandbox has no multipart uploads). */
function putBytes(): number {
  return calls.filter((c) => c.operation === 's3:PUT').reduce((sum, c) => sum + c.bodyBytes, 0);
}

/** CPU time (user + system) of the sandbox's own process since `since`; its commands' processes are not in it. */
function cpuMsSince(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

async function main(): Promise<void> {
  recordRequests();
  const options = JSON.parse(process.argv[2] ?? '{}') as SandboxOptions;
  const sandbox: Sandbox = await startSandbox(options);
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= sandbox.stop().finally(() => process.exit(0));
    return stopping;
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  process.on('disconnect', () => void stop());
  // A stalled sandbox event loop delays every answer (and so every client's detection).
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  let cpuAtReset = process.cpuUsage();
  loopDelay.enable();
  process.on('message', (request: HostRequest) => {
    const reply = (value: unknown) => process.send?.({ id: request.id, value });
    switch (request.type) {
      case 'stats':
        return reply({
          counts: sandbox.stats(),
          putObjectBytes: putBytes(),
          eventLoopDelayMaxMs: loopDelay.max / 1e6,
          eventLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
          cpuMs: cpuMsSince(cpuAtReset),
        });
      case 'reset':
        cpuAtReset = process.cpuUsage();
        sandbox.resetStats();
        calls.length = 0;
        loopDelay.reset();
        return reply(null);
      case 'log':
        return reply(calls);
      case 'stop':
        reply(null);
        return void stop();
    }
  });
  process.send?.({ id: 0, value: sandbox.info });
}

main().catch((error: unknown) => {
  process.stderr.write(`sandbox host failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
