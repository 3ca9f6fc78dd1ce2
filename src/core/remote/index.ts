// Instance-side half of the engine: the command text SSM runs, and the live-output frame format.
export type { LiveOutputTarget, RemotePayload, RemoteRunSpec } from './types';
export { buildRemoteCommands, buildRenewalCommands, COMMAND_TEXT_BUDGET_BYTES } from './commandText';
export { parseRemoteHeader } from './header';
export { REBOOT_CODE_NOTE } from './fallbackScript';
export { CorruptFramesError, decodeFrames, encodeFrames, type Frame } from './frames';
export { chunkKey, INSTANCE_ID_PATTERN, isInstanceId, parseChunkKey } from './chunkKeys';
