// What activate() returns: read-only views of the extension's state for the extension-host tests
// (VS Code cannot read an output channel or a status bar item back). Not a public API.
import type { ProfileRegionChoice, SandboxConnection } from './connection';
import type { RunRecord } from './history';
import type { InstancesState } from './instanceModel';
import type { InstancesView } from './instancesView';
import type { RunsView } from './runsView';
import type { ExtensionSettings } from './settings';
import type { StatusView } from './statusText';

export interface Ec2RunnerTestApi {
  outputText(): string;
  clearOutput(): void;
  history(): readonly RunRecord[];
  statusBar(): StatusView & { cancelVisible: boolean };
  instancesState(): InstancesState;
  instancesProvider: InstancesView;
  runsProvider: RunsView;
  /** True once dist/engine.js (with the AWS SDK) has been loaded. */
  engineLoaded(): boolean;
  /** Resolves when no run is being followed. */
  waitForIdle(): Promise<void>;
  /** What a closing window does: stop following runs without cancelling them. */
  detachAll(): void;
  /** What activation does after a reload: re-attach to runs the history says are still going. */
  reattachPending(): Promise<void>;
  runTranscript(id: string): string | undefined;
  /** What the run terminal named `name` ("EC2: hello.py") was sent, escape sequences included. */
  terminalText(name: string): string | undefined;
  /** The settings in effect, the built-in sandbox (while it runs) and the workspace's profile/region choice. */
  /** The settings as Restricted Mode would read them (workspace values of restricted settings ignored). */
  settingsIfUntrusted(): ExtensionSettings;
  /** "Select Profile and Region" without its quick picks. */
  connectionChoose(choice: ProfileRegionChoice | undefined): Promise<void>;
  connection(): { effective: ExtensionSettings; sandbox?: SandboxConnection; choice?: ProfileRegionChoice };
  /** The ports this window forwards ("Forward a Port…"). */
  portForwards(): Array<{ instanceId: string; remotePort: number; localPort: number; url: string }>;
}
