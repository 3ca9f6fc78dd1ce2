// Packs a local project folder into ONE deterministic .tar.gz: the same tree always gives the same
// bytes, hence the same sha256 and content-addressed key, so an unchanged project is never uploaded
// again.
//
// What goes in: regular files (symlinks to files by content), sorted, honouring every .gitignore in
// the tree, minus the directories that are never wanted on the instance (ALWAYS_EXCLUDED_DIRS).
// .gitignore matching uses the `ignore` package: it implements git's rules exactly (negation,
// anchoring, `**`, directory-only patterns, escapes), is tiny, has no dependencies, and is what
// eslint, prettier and globby use; a home-made subset would get the corner cases wrong.
import { lstat, readdir, readFile, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { RunnerError } from './api';
import { gzipDeterministic, writeTar, type TarEntry } from './archive';
import { PROJECT_LIMITS } from './defaults';

/** Never staged, whatever .gitignore says. */
export const ALWAYS_EXCLUDED_DIRS = ['.git', 'node_modules', '__pycache__', '.venv'];

export interface ProjectFile {
  /** POSIX path relative to the project root. */
  path: string;
  size: number;
  executable: boolean;
  absolute: string;
}

export interface PackedProject {
  archive: Buffer;
  files: Array<{ path: string; size: number }>;
  /** Sum of the files' sizes (before packing). */
  totalBytes: number;
}

interface Matcher {
  /** Directory of the .gitignore, relative to the root ('' for the root itself). */
  base: string;
  rules: Ignore;
}

export function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024
    ? `${(bytes / 1024 / 1024).toFixed(1)} MB`
    : bytes >= 1024
      ? `${(bytes / 1024).toFixed(1)} KB`
      : `${bytes} B`;
}

/** Git semantics: the deepest .gitignore with an opinion about the path wins. */
function isIgnored(matchers: Matcher[], path: string, isDir: boolean): boolean {
  for (let i = matchers.length - 1; i >= 0; i--) {
    const { base, rules } = matchers[i];
    const relative = (base ? path.slice(base.length + 1) : path) + (isDir ? '/' : '');
    const verdict = rules.test(relative);
    if (verdict.ignored) return true;
    if (verdict.unignored) return false;
  }
  return false;
}

function tooBig(root: string, what: string, offenders: string[]): never {
  throw new RunnerError(
    `The project ${root} is too large to stage: ${what}. Biggest: ${offenders.join(', ')}. ` +
      'Add what the run does not need to .gitignore (data, build output, virtual environments), or run from ' +
      'a smaller folder.',
    'ProjectTooLarge',
  );
}

/** The files that would be staged, sorted by path; throws ProjectTooLarge past PROJECT_LIMITS. */
export async function listProjectFiles(root: string): Promise<ProjectFile[]> {
  const rootInfo = await stat(root).catch(() => undefined);
  if (!rootInfo?.isDirectory())
    throw new RunnerError(
      `The project folder ${root} does not exist or is not a folder: pass an existing directory.`,
      'ProjectNotFound',
    );
  const files: ProjectFile[] = [];
  const filesPerTopDir = new Map<string, number>();
  let totalBytes = 0;

  async function walk(relativeDir: string, inherited: Matcher[]): Promise<void> {
    const absoluteDir = join(root, relativeDir);
    let matchers = inherited;
    const gitignore = await readFile(join(absoluteDir, '.gitignore'), 'utf8').catch(() => undefined);
    if (gitignore !== undefined) matchers = [...inherited, { base: relativeDir, rules: ignore().add(gitignore) }];
    const names = (await readdir(absoluteDir)).sort();
    for (const name of names) {
      const path = relativeDir ? `${relativeDir}/${name}` : name;
      const absolute = join(absoluteDir, name);
      const link = await lstat(absolute);
      const info = link.isSymbolicLink() ? await stat(absolute).catch(() => undefined) : link;
      if (!info) continue; // a dangling link
      if (info.isDirectory()) {
        // Linked directories are skipped: they can loop or point outside the project.
        if (link.isSymbolicLink() || ALWAYS_EXCLUDED_DIRS.includes(name) || isIgnored(matchers, path, true)) continue;
        await walk(path, matchers);
      } else if (info.isFile() && !isIgnored(matchers, path, false)) {
        files.push({ path, size: info.size, executable: (info.mode & 0o100) !== 0, absolute });
        totalBytes += info.size;
        const top = path.includes('/') ? `${path.split('/')[0]}/` : '(top level)';
        filesPerTopDir.set(top, (filesPerTopDir.get(top) ?? 0) + 1);
        if (files.length > PROJECT_LIMITS.maxFiles) {
          const offenders = [...filesPerTopDir]
            .sort((a, b) => b[1] - a[1])
            .slice(0, 3)
            .map(([dir, n]) => `${dir} (${n.toLocaleString('en-US')}+ files)`);
          tooBig(root, `more than ${PROJECT_LIMITS.maxFiles.toLocaleString('en-US')} files (the limit)`, offenders);
        }
      }
    }
  }

  await walk('', []);
  if (totalBytes > PROJECT_LIMITS.maxBytes) {
    const offenders = [...files]
      .sort((a, b) => b.size - a.size)
      .slice(0, 3)
      .map((f) => `${f.path} (${formatBytes(f.size)})`);
    tooBig(
      root,
      `${formatBytes(totalBytes)} of files, over the ${formatBytes(PROJECT_LIMITS.maxBytes)} limit`,
      offenders,
    );
  }
  return files;
}

/** Checks an entry path: relative, inside the project, POSIX separators. */
export function normalizeEntry(entry: string): string {
  const normalized = posix.normalize(entry.replace(/\\/g, '/')).replace(/^\.\//, '');
  if (
    !normalized ||
    normalized === '.' ||
    normalized.startsWith('/') ||
    normalized === '..' ||
    normalized.startsWith('../') ||
    normalized.includes('\0')
  ) {
    throw new RunnerError(
      `The entry file ${JSON.stringify(entry)} is not a relative path inside the project: give it relative ` +
        `to the project folder, e.g. main.py.`,
      'InvalidEntry',
    );
  }
  return normalized;
}

/** Packs the project; the entry must be one of the staged files. */
export async function packProject(root: string, entry: string): Promise<PackedProject> {
  const files = await listProjectFiles(root);
  if (!files.some((f) => f.path === entry)) {
    throw new RunnerError(
      `The entry file ${entry} is not in the project ${root} (or .gitignore excludes it): give a file inside ` +
        `the folder, relative to it.`,
      'InvalidEntry',
    );
  }
  const entries: TarEntry[] = await Promise.all(
    files.map(async (f) => ({ path: f.path, content: await readFile(f.absolute), mode: f.executable ? 0o755 : 0o644 })),
  );
  return {
    archive: gzipDeterministic(writeTar(entries)),
    files: files.map((f) => ({ path: f.path, size: f.size })),
    totalBytes: files.reduce((sum, f) => sum + f.size, 0),
  };
}
