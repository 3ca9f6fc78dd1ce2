// Artifacts on the client: the tar the wrapper shipped from $EC2_RUNNER_ARTIFACTS, listed and written
// to a local folder. Paths come from the instance, so they are checked like any untrusted archive:
// nothing absolute, no `..`, nothing that resolves outside the target folder.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { RunnerError, type ArtifactFile } from './api';
import { readTar } from './archive';

export function listArtifacts(tar: Uint8Array | undefined): ArtifactFile[] {
  if (!tar) return [];
  return readTar(tar).map((entry) => ({ path: entry.path, size: entry.content.byteLength }));
}

function safeTarget(dir: string, path: string): string {
  const target = resolve(dir, path);
  const inside = relative(dir, target);
  if (!path || path.startsWith('/') || path.split('/').includes('..') || inside.startsWith(`..${sep}`) || inside === '..' || inside === '') {
    throw new RunnerError(`Refusing to write artifact ${JSON.stringify(path)}: its path leaves the target folder.`, 'UnsafeArtifactPath');
  }
  return target;
}

/** Writes every artifact under `dir` (created as needed); returns the written paths. */
export async function writeArtifacts(tar: Uint8Array, dir: string): Promise<string[]> {
  const root = resolve(dir);
  const entries = readTar(tar);
  const targets = entries.map((entry) => safeTarget(root, entry.path));
  const written: string[] = [];
  for (const [index, entry] of entries.entries()) {
    await mkdir(dirname(targets[index]), { recursive: true });
    await writeFile(targets[index], entry.content);
    written.push(targets[index]);
  }
  return written;
}

export function artifactsDirFor(dir: string, instanceId: string, several: boolean): string {
  return several ? join(dir, instanceId) : dir;
}
