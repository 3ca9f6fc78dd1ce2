// Small fakes shared by the unit tests of the extension's run logic: an in-memory Memento and a
// complete set of settings (each test overrides what it is about).
import type { ExtensionSettings } from '../../src/extension/settings';

export { MemoryStore } from './memoryStore';

export const BASE_SETTINGS: ExtensionSettings = {
  profile: '',
  region: '',
  endpointUrl: '',
  bucket: '',
  kmsKeyId: '',
  keyPrefix: '',
  interpreter: '',
  workingDirectory: '',
  env: {},
  timeoutSeconds: 3600,
  saveBeforeRun: true,
  transferMode: 'presigned',
  clearPreviousOutput: false,
  preserveFocus: true,
  promptForArguments: false,
  feedback: 'exitCode',
  installDependencies: false,
  venvRoot: '',
  debugpyPath: '',
  runIn: 'outputChannel',
};
