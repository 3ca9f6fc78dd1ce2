// Core as the VS Code extension takes it when it loads: the engine's contract (types, RunnerError) and
// small pure helpers. Nothing here pulls in the AWS SDK: dist/extension.js stays small and the engine
// itself comes from dist/engine.js on first use (src/extension/engineProvider.ts). The extension
// imports core only through this file (eslint.config.mjs); the library's entry is index.ts.
export * from './api';
export { AGENT_CHECK, messageWithAdvice, type AdviceTable } from './advice';
export { REGION_PATTERN } from './awsLimits';
export { isTerminalStatus } from './outcome';
export { isValidProfileName, listProfiles, profileNamesIn } from './profiles';
export { languageExtension } from './languages';
export { splitShellWords } from './remote/shellWords';
export { portSpecOf } from './session/portSpec';
