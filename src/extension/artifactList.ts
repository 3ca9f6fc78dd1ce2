// A run's artifacts as plain text, and saving them (no `vscode`: the run controller and the
// download path are tested without it).
import * as path from 'node:path';
import type { ArtifactFile, Engine, RunResult } from '../core/frontEnd';

export function artifactsOf(result: RunResult): ArtifactFile[] {
  return result.invocations.flatMap((i) => i.artifacts ?? []);
}

/** The output channel's lines about a run's artifacts ('' when there are none). */
export function artifactsText(result: RunResult): string {
  const files = artifactsOf(result);
  if (files.length === 0) return '';
  const list = files.map((f) => `  ${f.path} (${f.size} bytes)`).join('\n');
  return `Artifacts (${files.length}; "EC2 Runner: Download Artifacts" saves them):\n${list}\n`;
}

/**
 * Download Artifacts without the UI: re-attaches to the run (its live output replays the artifacts)
 * and writes them into a fresh `<root>/<commandId>/<instanceId>/` (the engine checks every id and
 * name: nothing lands outside that folder, nothing is overwritten, no link is followed).
 */
export async function saveRunArtifacts(
  engine: Pick<Engine, 'attach'>,
  commandId: string,
  root: string,
): Promise<{ folder: string; written: string[] }> {
  const handle = await engine.attach(commandId);
  await handle.wait();
  const written = (await handle.downloadArtifacts?.(root)) ?? [];
  return { folder: path.join(root, commandId), written };
}
