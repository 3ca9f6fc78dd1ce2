// Artifacts on the client: the tar the wrapper shipped from $EC2_RUNNER_ARTIFACTS, listed and written
// to a local folder. Everything about them comes from the instance (names, sizes, the tar itself), so
// they are written like an untrusted archive is unpacked:
// - into a fresh folder of their own (`<dir>/<commandId>/<instanceId>/`), never over an existing file
//   (O_EXCL) and never through a link (O_NOFOLLOW; every parent is one this download created, and the
//   real path of each file's folder is checked before the file is opened);
// - names checked by artifactPaths.ts (no `..`, nothing absolute, no control folders like `.git`,
//   nothing Windows reads as a drive, stream or device).
import { constants, realpathSync } from 'node:fs';
import { lstat, mkdir, open } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { RunnerError, type ArtifactFile } from './api';
import { readTar, TarFormatError, type TarEntry, type TarLimits } from './archive';
import { ARTIFACTS_MAX_BYTES, ARTIFACTS_MAX_FILES } from './defaults';
import { instanceArtifactsDir, runArtifactsDir, safeTarget, unsafeArtifactPath } from './artifactPaths';

/** What a client accepts from an instance: the wrapper's own limits. */
const ARTIFACT_TAR_LIMITS: TarLimits = { maxBytes: ARTIFACTS_MAX_BYTES, maxEntries: ARTIFACTS_MAX_FILES };

export function listArtifacts(tar: Uint8Array | undefined): ArtifactFile[] {
  if (!tar) return [];
  return readTar(tar, ARTIFACT_TAR_LIMITS).map((entry) => ({ path: entry.path, size: entry.content.byteLength }));
}

function readArtifacts(tar: Uint8Array): TarEntry[] {
  try {
    return readTar(tar, ARTIFACT_TAR_LIMITS);
  } catch (error) {
    if (error instanceof TarFormatError)
      throw new RunnerError(`Cannot save the artifacts: ${error.message}. Nothing was saved.`, 'UnreadableArtifacts');
    throw error;
  }
}

function writeFailure(what: string, error: unknown): RunnerError {
  const code = (error as NodeJS.ErrnoException).code;
  const why =
    code === 'EEXIST'
      ? 'it already exists (artifacts never overwrite a file or folder)'
      : code === 'ELOOP'
        ? 'it is a symbolic link (links are not followed)'
        : (code ?? (error as Error).message);
  return new RunnerError(`Cannot save artifact ${what}: ${why}.`, 'ArtifactWriteFailed', { cause: error });
}

/** Creates `dir` itself (its parents as needed); refuses a folder that already exists. */
async function freshFolder(dir: string): Promise<string> {
  await mkdir(dirname(dir), { recursive: true });
  try {
    await mkdir(dir, { mode: 0o755 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new RunnerError(
        `Cannot save artifacts to ${dir}: the folder already exists (artifacts go to a fresh folder, never ` +
          `over files). Remove it or choose another folder.`,
        'ArtifactsFolderExists',
        { cause: error },
      );
    }
    throw writeFailure(dir, error);
  }
  return realpathSync.native(dir);
}

/** Creates the folders between `root` (fresh, real) and `target`, each one new; returns the real folder. */
async function parentsOf(root: string, target: string, created: Set<string>, path: string): Promise<void> {
  const folder = dirname(target);
  let current = root;
  for (const part of folder.slice(root.length).split(sep).filter(Boolean)) {
    current = join(current, part);
    if (created.has(current)) continue;
    try {
      await mkdir(current, { mode: 0o755 });
    } catch (error) {
      throw writeFailure(JSON.stringify(path), error);
    }
    created.add(current);
  }
  const info = await lstat(folder);
  if (!info.isDirectory() || info.isSymbolicLink() || realpathSync.native(folder) !== folder) {
    throw unsafeArtifactPath(path, 'a folder on its path is not one this download created');
  }
}

const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;

/** The entries of `tar`, every name checked against `dir` (throws before anything is written). */
function checkedEntries(tar: Uint8Array, dir: string): TarEntry[] {
  const entries = readArtifacts(tar);
  for (const entry of entries) safeTarget(dir, entry.path);
  return entries;
}

async function writeEntries(entries: TarEntry[], dir: string): Promise<string[]> {
  const root = await freshFolder(dir);
  const created = new Set<string>([root]);
  const written: string[] = [];
  for (const entry of entries) {
    const target = safeTarget(root, entry.path);
    await parentsOf(root, target, created, entry.path);
    let handle;
    try {
      handle = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NO_FOLLOW, 0o644);
    } catch (error) {
      throw writeFailure(`${JSON.stringify(entry.path)} to ${target}`, error);
    }
    try {
      await handle.writeFile(entry.content);
    } finally {
      await handle.close();
    }
    written.push(target);
  }
  return written;
}

/**
 * Writes every artifact into the new folder `dir` (which must not exist; its parents are created);
 * returns the written paths. Nothing is written when any name is unsafe or the tar is unreadable.
 */
export async function writeArtifacts(tar: Uint8Array, dir: string): Promise<string[]> {
  const folder = resolve(dir);
  return writeEntries(checkedEntries(tar, folder), folder);
}

/**
 * Writes the artifacts of several instances of one run into the fresh folder `<dir>/<commandId>/`
 * (refused when it exists), one subfolder per instance; returns the written paths.
 */
export async function writeRunArtifacts(
  dir: string,
  commandId: string,
  tars: Array<{ instanceId: string; tar: Uint8Array }>,
): Promise<string[]> {
  if (tars.length === 0) return [];
  const runDir = runArtifactsDir(dir, commandId);
  const plans = tars.map(({ instanceId, tar }) => {
    const folder = instanceArtifactsDir(runDir, instanceId);
    return { folder, entries: checkedEntries(tar, folder) };
  });
  await freshFolder(runDir);
  const written: string[] = [];
  for (const { folder, entries } of plans) written.push(...(await writeEntries(entries, folder)));
  return written;
}
