// "Try It Without AWS": the sandbox (a local SSM + S3 endpoint whose "instances" run commands on
// this machine) started inside the extension host, and the extension pointed at it in memory only
// (Connection), never through settings. dist/sandbox.js is loaded on first use, like the engine.
import * as vscode from 'vscode';
import type { Sandbox, SandboxOptions } from '../sandbox/index';
import type { Connection } from './connection';

/** The part of dist/sandbox.js used here. */
export interface SandboxModule {
  startSandbox(options?: SandboxOptions): Promise<Sandbox>;
}

export const SANDBOX_CONTEXT_KEY = 'ec2Runner.sandboxRunning';

export class BuiltInSandbox implements vscode.Disposable {
  private running?: Sandbox;
  private busy?: Promise<void>;

  constructor(
    private readonly load: () => SandboxModule,
    private readonly connection: Connection,
    /** Kept between sessions so instance ids (and a default target picked among them) stay the same. */
    private readonly dataDir: () => string | undefined,
  ) {}

  get isRunning(): boolean {
    return this.running !== undefined;
  }

  /** The first click starts it, the next one stops it. */
  toggle(): Promise<void> {
    return this.isRunning ? this.stop() : this.start();
  }

  start(): Promise<void> {
    return this.serialized(async () => {
      if (this.running) return;
      const sandbox = await this.load().startSandbox({ dataDir: this.dataDir() });
      this.running = sandbox;
      const { info } = sandbox;
      this.connection.setSandbox({
        endpointUrl: info.endpoint,
        region: info.region,
        bucket: info.bucket,
        credentials: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey },
      });
      await vscode.commands.executeCommand('setContext', SANDBOX_CONTEXT_KEY, true);
      const online = info.instances.filter((i) => i.pingStatus === 'Online').length;
      void vscode.window.showInformationMessage(
        `The EC2 Runner sandbox is running: ${online} Online "instances" that run commands on this machine, ` +
          `as you. Your AWS settings are untouched; "Stop Sandbox" returns to them.`,
      );
    });
  }

  stop(): Promise<void> {
    return this.serialized(async () => {
      const sandbox = this.running;
      if (!sandbox) return;
      this.running = undefined;
      this.connection.setSandbox(undefined);
      await vscode.commands.executeCommand('setContext', SANDBOX_CONTEXT_KEY, false);
      await sandbox.stop();
    });
  }

  dispose(): void {
    void this.stop();
  }

  /** One start or stop at a time: a double click never starts two sandboxes. */
  private serialized(step: () => Promise<void>): Promise<void> {
    const next = (this.busy ?? Promise.resolve()).then(step);
    this.busy = next.catch(() => undefined);
    return next;
  }
}
