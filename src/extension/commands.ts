// Every command as a factory `(services) => handler` (runCommands.ts, instanceCommands.ts,
// setupCommands.ts), registered in one place.
import * as vscode from 'vscode';
import type { Handler, Services } from './commandServices';
import {
  clearInstanceFilter,
  copyInstanceId,
  filterInstances,
  forwardPort,
  refreshInstances,
  selectTarget,
  setDefaultTarget,
  stopPortForwarding,
} from './instanceCommands';
import {
  cancelRun,
  clearRunHistory,
  copyAsAwsCli,
  debugActiveFile,
  downloadArtifacts,
  rerunLast,
  rerunRun,
  runActiveFile,
  runActiveFileHere,
  runActiveFileInteractively,
  runCommand,
  runCommandHere,
  runProjectFile,
  runSelection,
  showOutput,
  showRunOutput,
} from './runCommands';
import { createBucket, selectProfileRegion, ssoLogin, stopSandbox, trySandbox } from './setupCommands';

export type { Services } from './commandServices';

/** Command id → factory. package.json contributes exactly these (a test checks both directions). */
export const COMMANDS: Record<string, (s: Services) => Handler> = {
  'ec2Runner.runActiveFile': runActiveFile,
  'ec2Runner.runActiveFileHere': runActiveFileHere,
  'ec2Runner.runCommand': runCommand,
  'ec2Runner.runCommandHere': runCommandHere,
  'ec2Runner.rerunLast': rerunLast,
  'ec2Runner.rerunRun': rerunRun,
  'ec2Runner.cancelRun': cancelRun,
  'ec2Runner.showOutput': showOutput,
  'ec2Runner.showRunOutput': showRunOutput,
  'ec2Runner.clearRunHistory': clearRunHistory,
  'ec2Runner.refreshInstances': refreshInstances,
  'ec2Runner.filterInstances': filterInstances,
  'ec2Runner.clearInstanceFilter': clearInstanceFilter,
  'ec2Runner.copyInstanceId': copyInstanceId,
  'ec2Runner.setDefaultTarget': setDefaultTarget,
  'ec2Runner.selectTarget': selectTarget,
  'ec2Runner.selectProfileRegion': selectProfileRegion,
  'ec2Runner.ssoLogin': ssoLogin,
  'ec2Runner.createBucket': createBucket,
  'ec2Runner.runSelection': runSelection,
  'ec2Runner.runProjectFile': runProjectFile,
  'ec2Runner.downloadArtifacts': downloadArtifacts,
  'ec2Runner.trySandbox': trySandbox,
  'ec2Runner.stopSandbox': stopSandbox,
  'ec2Runner.debugActiveFile': debugActiveFile,
  'ec2Runner.forwardPort': forwardPort,
  'ec2Runner.stopPortForwarding': stopPortForwarding,
  'ec2Runner.runActiveFileInteractively': runActiveFileInteractively,
  'ec2Runner.copyAsAwsCli': copyAsAwsCli,
};

export function registerCommands(services: Services): vscode.Disposable[] {
  return Object.entries(COMMANDS).map(([id, factory]) => vscode.commands.registerCommand(id, factory(services)));
}
