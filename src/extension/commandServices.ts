// What every command factory takes: the extension's services, and the handler it returns.
import type { BuiltInSandbox } from './builtinSandbox';
import type { Connection } from './connection';
import type { Ec2DebugProvider } from './debugProvider';
import type { EngineProvider } from './engineProvider';
import type { RunHistory, RunRecord } from './history';
import type { InstancesView } from './instancesView';
import type { RunOutput } from './output';
import type { PortForwards } from './portForwards';
import type { RunController } from './runController';
import type { Runner } from './runner';
import type { ExtensionSettings } from './settings';
import type { DefaultTarget } from './targets';

export interface Services {
  runner: Runner;
  controller: RunController;
  history: RunHistory;
  output: RunOutput;
  instances: InstancesView;
  defaultTarget: DefaultTarget;
  engines: EngineProvider;
  /** The effective settings (workspace choice and sandbox applied). */
  settings: () => ExtensionSettings;
  connection: Connection;
  sandbox: BuiltInSandbox;
  showError: (error: unknown) => void;
  showRunOutput: (record: RunRecord) => Promise<void>;
  debug: Ec2DebugProvider;
  forwards: PortForwards;
}

export type Handler = (...args: any[]) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any
