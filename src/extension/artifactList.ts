// A run's artifacts as plain text (no `vscode`: the run controller is unit-tested without it).
import type { ArtifactFile, RunResult } from '../core/api';

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
