// The engine's library entry (built to dist/engine.js, the package's `main`): everything the CLI,
// the extension and a Lambda handler need, with nothing but the AWS SDK underneath.
export * from './api';
export { createEngine, type EngineDependencies } from './engine';
export { toRunnerError } from './errors';
export { AGENT_CHECK, messageWithAdvice, type AdviceTable } from './advice';
export { defaultInterpreter } from './request';
export { defaultBucketName } from './bucket';
export { configuredEncryption } from './encryption';
export { isTerminalStatus } from './outcome';
export { WAIT_POLICY } from './waitPolicy';
export {
  DEFAULT_KEY_PREFIX,
  DEFAULT_TIMEOUT_SECONDS,
  DEFAULT_DELIVERY_TIMEOUT_SECONDS,
  PROJECT_LIMITS,
  ARTIFACTS_MAX_BYTES,
} from './defaults';
export { listProjectFiles, formatBytes, ALWAYS_EXCLUDED_DIRS } from './project';
export { REQUIREMENTS_FILE, PYPROJECT_FILE, pyprojectDependencies } from './dependencies';
export { selectionFileName } from './languages';
export { listArtifacts, writeArtifacts } from './artifacts';
export { runToCompletion, fileSource } from './helpers';
