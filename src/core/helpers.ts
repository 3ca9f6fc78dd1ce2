// Small conveniences for library users (a Lambda handler, CI scripts).
import type { Engine, OutputChunk, RunRequest, RunResult, RunSource } from './api';

/** A file source from a name and its content (string or bytes). */
export function fileSource(
  fileName: string,
  content: string | Uint8Array,
  args: string[] = [],
  interpreter?: string,
): RunSource {
  const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
  return { kind: 'file', fileName, content: bytes, args, interpreter };
}

/** Starts a run and waits for it; `onOutput` sees live output as it arrives. */
export async function runToCompletion(
  engine: Engine,
  request: RunRequest,
  onOutput?: (chunk: OutputChunk) => void,
): Promise<RunResult> {
  const handle = await engine.start(request);
  const subscription = onOutput ? handle.onOutput(onOutput) : undefined;
  try {
    return await handle.wait();
  } finally {
    subscription?.dispose();
  }
}
