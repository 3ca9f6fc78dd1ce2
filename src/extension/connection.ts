// Where the engine connects. The settings say it; two overrides sit on top, neither written to
// settings.json (which a repository may commit, or a cloned one may plant):
//   - "Select Profile and Region": the choice for this workspace, kept in workspace state;
//   - "Try It Without AWS": while the built-in sandbox runs, its endpoint, keys, region and bucket (memory only).
// No `vscode` import: unit-tested with a fake Memento.
import type { EngineSettings } from '../core/frontEnd';
import { isValidProfileName } from '../core/frontEnd';
import { engineSettingsOf, type ExtensionSettings } from './settings';

/** The parts of vscode.Memento used here. */
export interface StateStore {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): Thenable<void>;
}

/** '' means "from the environment" (AWS_PROFILE / AWS_REGION, the profile's region). */
export interface ProfileRegionChoice {
  profile: string;
  region: string;
}

export interface SandboxConnection {
  endpointUrl: string;
  region: string;
  bucket: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

export const CHOICE_KEY = 'ec2Runner.profileRegion';

export class Connection {
  private sandboxConnection?: SandboxConnection;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly state: StateStore) {}

  /**
   * The workspace's profile/region choice, if one was made (a stored value that is not a valid profile name is
   * ignored).
   */
  get choice(): ProfileRegionChoice | undefined {
    const stored = this.state.get<ProfileRegionChoice>(CHOICE_KEY);
    if (!stored || typeof stored.profile !== 'string' || typeof stored.region !== 'string') return undefined;
    if (stored.profile && !isValidProfileName(stored.profile)) return undefined;
    return stored;
  }

  async choose(choice: ProfileRegionChoice | undefined): Promise<void> {
    if (choice?.profile && !isValidProfileName(choice.profile))
      throw new Error(`"${choice.profile}" is not a valid AWS profile name.`);
    await this.state.update(CHOICE_KEY, choice);
    this.fire();
  }

  get sandbox(): SandboxConnection | undefined {
    return this.sandboxConnection;
  }

  setSandbox(sandbox: SandboxConnection | undefined): void {
    this.sandboxConnection = sandbox;
    this.fire();
  }

  /** Called after any override changes (the engine is rebuilt, the Instances view lists again). */
  onDidChange(listener: () => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** The settings with the overrides applied (the sandbox wins over the workspace's choice). */
  apply(settings: ExtensionSettings): ExtensionSettings {
    if (this.sandboxConnection) {
      const s = this.sandboxConnection;
      return { ...settings, profile: '', region: s.region, endpointUrl: s.endpointUrl, bucket: s.bucket };
    }
    const choice = this.choice;
    return choice ? { ...settings, profile: choice.profile, region: choice.region } : settings;
  }

  /**
   * What the engine gets: the effective settings, plus the sandbox's own keys while it runs (never the user's profile).
   */
  engineSettings(settings: ExtensionSettings): EngineSettings {
    const effective = engineSettingsOf(this.apply(settings));
    return this.sandboxConnection
      ? { ...effective, profile: undefined, credentials: { ...this.sandboxConnection.credentials } }
      : effective;
  }

  private fire(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
