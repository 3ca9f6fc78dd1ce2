// The bench's handle on a sandbox running in its own process (sandboxHost.ts).
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { SandboxInfo, SandboxOptions } from '../src/sandbox';
import type { EngineSettings } from '../src/core/api';
import type { CallRecord, HostRequest } from './sandboxHost';

export interface SandboxStats {
  /** The sandbox's own counts by `service:Operation`. */
  counts: Record<string, number>;
  /** Bytes of S3 PutObject request bodies since the last reset. */
  putObjectBytes: number;
  /** The sandbox process's longest event-loop stall and its 99th percentile since the last reset. */
  eventLoopDelayMaxMs: number;
  eventLoopDelayP99Ms: number;
  /** CPU time of the sandbox's own process (not its commands') since the last reset. */
  cpuMs: number;
}

export class SandboxProcess {
  private nextId = 1;
  private readonly pending = new Map<number, (value: unknown) => void>();

  private constructor(
    private readonly child: ChildProcess,
    readonly info: SandboxInfo,
  ) {
    child.on('message', (message: { id: number; value: unknown }) => {
      this.pending.get(message.id)?.(message.value);
      this.pending.delete(message.id);
    });
  }

  static start(options: SandboxOptions): Promise<SandboxProcess> {
    // The sandbox's own stdout goes to our stderr: with --json our stdout is reserved.
    const child = fork(join(__dirname, 'sandboxHost.js'), [JSON.stringify(options)], {
      stdio: ['ignore', 2, 2, 'ipc'],
    });
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) =>
        reject(new Error(`the sandbox process exited (code ${code}) before it was ready`));
      child.once('exit', onExit);
      child.once('message', (message: { id: number; value: SandboxInfo }) => {
        child.off('exit', onExit);
        resolve(new SandboxProcess(child, message.value));
      });
    });
  }

  /** Engine settings that point at this sandbox. */
  get engineSettings(): EngineSettings {
    const { endpoint, region, accessKeyId, secretAccessKey, bucket } = this.info;
    return { endpointUrl: endpoint, region, credentials: { accessKeyId, secretAccessKey }, bucket };
  }

  /** Instance ids that are Online, in the sandbox's order. */
  get onlineInstanceIds(): string[] {
    return this.info.instances.filter((i) => i.pingStatus === 'Online').map((i) => i.instanceId);
  }

  private request<T>(type: HostRequest['type']): Promise<T> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (value) => resolve(value as T));
      this.child.send({ id, type } satisfies HostRequest, (error) => error && reject(error));
    });
  }

  stats(): Promise<SandboxStats> {
    return this.request('stats');
  }

  resetStats(): Promise<void> {
    return this.request('reset');
  }

  /** Timestamped API calls since the last reset. */
  callLog(): Promise<CallRecord[]> {
    return this.request('log');
  }

  async ssmCallLog(): Promise<CallRecord[]> {
    return (await this.callLog()).filter((c) => c.operation.startsWith('ssm:'));
  }

  /** Stops the sandbox (which kills its commands' process groups) and waits for the process to exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    await this.request('stop').catch(() => undefined);
    const timer = setTimeout(() => this.child.kill('SIGTERM'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

/** Sum of the `ssm:*` counts. */
export function ssmCalls(counts: Record<string, number>, except: string[] = []): number {
  return Object.entries(counts)
    .filter(([key]) => key.startsWith('ssm:') && !except.includes(key))
    .reduce((sum, [, n]) => sum + n, 0);
}
