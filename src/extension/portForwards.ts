// "Forward a Port…" on an instance: asks REMOTE[:LOCAL], forwards it over Session Manager, offers
// "Open in Browser", and keeps the forwards this window holds so they can be listed and stopped
// (status bar, "Stop Port Forwarding…"). No vscode import: the UI comes in as a narrow interface,
// so the logic is unit-tested with fakes.
import type { Engine, PortForwardHandle } from '../core/frontEnd';
import { portSpecOf } from '../core/frontEnd';
import type { TargetLabel } from './format';

export interface ActiveForward {
  target: TargetLabel;
  remotePort: number;
  localPort: number;
  url: string;
  handle: PortForwardHandle;
}

export interface ForwardUi {
  /** Input box with validation; undefined when dismissed. */
  askPort(title: string, validate: (text: string) => string | undefined): Promise<string | undefined>;
  /** An information message with buttons; resolves with the button pressed. */
  inform(text: string, ...actions: string[]): Promise<string | undefined>;
  warn(text: string): void;
  pick(
    items: Array<{ label: string; description: string; forward: ActiveForward }>,
    title: string,
  ): Promise<ActiveForward | undefined>;
  openExternal(url: string): Promise<void>;
  /** The set of forwards changed (status bar, `ec2Runner.forwarding` context). */
  changed(forwards: readonly ActiveForward[]): void;
}

export const OPEN_IN_BROWSER = 'Open in Browser';
export const STOP_FORWARDING = 'Stop Forwarding';

export function checkPortSpec(text: string): string | undefined {
  return portSpecOf(text)
    ? undefined
    : 'REMOTE[:LOCAL]: a port on the instance, optionally the local port (1-65535), e.g. 8888 or 8888:9999';
}

function describe(forward: ActiveForward): string {
  return `${forward.url} → ${forward.target.name ?? forward.target.instanceId} port ${forward.remotePort}`;
}

export class PortForwards {
  private readonly forwards: ActiveForward[] = [];

  constructor(
    private readonly engine: () => Pick<Engine, 'forwardPort'>,
    private readonly ui: ForwardUi,
  ) {}

  list(): readonly ActiveForward[] {
    return this.forwards;
  }

  /** Asks for the ports (unless given), forwards, and offers to open the URL or stop. */
  async forward(target: TargetLabel, spec?: string): Promise<ActiveForward | undefined> {
    const text =
      spec ??
      (await this.ui.askPort(`Forward a port of ${target.name ?? target.instanceId} (REMOTE[:LOCAL])`, checkPortSpec));
    if (text === undefined) return undefined;
    const ports = portSpecOf(text);
    if (!ports) throw new Error(`"${text}" is not REMOTE[:LOCAL]: ${checkPortSpec(text)}.`);
    const handle = await this.engine().forwardPort({
      instanceId: target.instanceId,
      remotePort: ports.remotePort,
      localPort: ports.localPort,
      onNotice: (notice) => this.ui.warn(`Port forwarding to ${target.instanceId}: ${notice}`),
    });
    const forward: ActiveForward = {
      target,
      remotePort: ports.remotePort,
      localPort: handle.localPort,
      url: `http://localhost:${handle.localPort}/`,
      handle,
    };
    this.forwards.push(forward);
    this.ui.changed(this.forwards);
    void handle.closed.then((reason) => {
      if (!this.remove(forward)) return; // stopped here
      this.ui.warn(`Port forwarding ${describe(forward)} ended${reason ? `: ${reason}` : ''}.`);
    });
    void this.ui
      .inform(
        `Forwarding ` +
          `${describe(forward)}${handle.mode === 'basic' ? ' (one connection at a time: old SSM agent)' : ''}.`,
        OPEN_IN_BROWSER,
        STOP_FORWARDING,
      )
      .then(async (action) => {
        if (action === OPEN_IN_BROWSER) await this.ui.openExternal(forward.url);
        else if (action === STOP_FORWARDING) await this.stop(forward);
      });
    return forward;
  }

  /** Stops `forward`, or the one the user picks (the only one without asking). */
  async stop(forward?: ActiveForward): Promise<boolean> {
    const chosen =
      forward ??
      (this.forwards.length === 1
        ? this.forwards[0]
        : await this.ui.pick(
            this.forwards.map((f) => ({
              label: f.url,
              description: `${f.target.name ?? f.target.instanceId} port ${f.remotePort}`,
              forward: f,
            })),
            'Stop which port forwarding?',
          ));
    if (!chosen || !this.remove(chosen)) return false;
    await chosen.handle.close();
    return true;
  }

  async dispose(): Promise<void> {
    const all = this.forwards.splice(0);
    this.ui.changed(this.forwards);
    await Promise.all(all.map((f) => f.handle.close().catch(() => undefined)));
  }

  private remove(forward: ActiveForward): boolean {
    const index = this.forwards.indexOf(forward);
    if (index < 0) return false;
    this.forwards.splice(index, 1);
    this.ui.changed(this.forwards);
    return true;
  }
}
