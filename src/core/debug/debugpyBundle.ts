// Where the client gets the debugpy it stages for instances without one (the VSIX cannot carry it):
// a folder the user names, the Python Debugger extension's bundled copy, or a local Python's
// installed package. The copy is packed as a deterministic tar.gz of `debugpy/…` (so the same copy
// always has the same sha256 and uploads once), following symlinks: Debian's python3-debugpy keeps
// pydevd outside the package and links it in from debugpy/_vendored/pydevd. Compiled files are left
// out (they belong to the local platform; pydevd runs without its speedups).
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { RunnerError } from '../api';
import { gzipDeterministic, type TarEntry, writeTar } from '../archive';
import { DEBUGPY_MAX_BYTES } from '../defaults';
import { sha256Hex } from '../staging';

export interface DebugpyBundle {
  /** The local `debugpy` package folder it was packed from. */
  folder: string;
  archive: Buffer;
  sha256: string;
  files: number;
}

/** Left out: bytecode caches and binaries built for the local machine. */
const SKIPPED = /(^__pycache__$|\.(pyc|pyo|so|pyd|dylib|dll|exe|lib|a|o)$)/i;

const LOCAL_PYTHONS =
  process.platform === 'win32' ? ['py', 'python', 'python3'] : ['python3', 'python', '/usr/bin/python3'];
const FIND_DEBUGPY = 'import debugpy, os, sys; sys.stdout.write(os.path.dirname(os.path.abspath(debugpy.__file__)))';

/** `dir` itself when it is the debugpy package, or its `debugpy` child (a site-packages or `bundled/libs`). */
export async function debugpyFolderIn(dir: string): Promise<string | undefined> {
  for (const candidate of [dir, path.join(dir, 'debugpy')]) {
    const init = await fs.stat(path.join(candidate, '__init__.py')).catch(() => undefined);
    const main = await fs.stat(path.join(candidate, '__main__.py')).catch(() => undefined);
    if (init?.isFile() && main?.isFile() && path.basename(path.resolve(candidate)) === 'debugpy')
      return path.resolve(candidate);
  }
  return undefined;
}

function pythonDebugpy(python: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(python, ['-c', FIND_DEBUGPY], { timeout: 10_000, windowsHide: true }, (error, stdout) =>
      resolve(error ? undefined : stdout.trim() || undefined),
    );
  });
}

export interface LocateOptions {
  /** A folder the user named (setting, flag): used or refused, never skipped. */
  explicit?: string;
  /** Further folders to look in, in order (e.g. the Python Debugger extension's bundled/libs). */
  candidates?: string[];
  /** Local interpreters asked for their debugpy; default python3, python, /usr/bin/python3. */
  pythons?: string[];
}

export async function locateDebugpy(options: LocateOptions = {}): Promise<string> {
  if (options.explicit) {
    const found = await debugpyFolderIn(options.explicit);
    if (!found) {
      throw new RunnerError(
        `No debugpy in ${options.explicit}: name the debugpy package folder or the folder that contains it ` +
          `(e.g. a site-packages).`,
        'DebugpyNotFound',
      );
    }
    return found;
  }
  for (const dir of options.candidates ?? []) {
    const found = await debugpyFolderIn(dir);
    if (found) return found;
  }
  for (const python of options.pythons ?? LOCAL_PYTHONS) {
    const reported = await pythonDebugpy(python);
    const found = reported && (await debugpyFolderIn(reported));
    if (found) return found;
  }
  throw new RunnerError(
    'No local copy of debugpy to stage for the instance (it is used only when the instance has none)',
    'DebugpyNotFound',
    { advice: 'install it locally (pip install debugpy, or apt install python3-debugpy).' },
  );
}

/** Packs `folder` (a debugpy package) as `debugpy/…`, links followed, cycles and oversize refused. */
export async function packDebugpy(folder: string): Promise<DebugpyBundle> {
  const entries: TarEntry[] = [];
  let total = 0;
  const walk = async (dir: string, relative: string, seen: Set<string>): Promise<void> => {
    const real = await fs.realpath(dir);
    if (seen.has(real)) return; // a link back up the tree
    const inside = new Set(seen).add(real);
    for (const name of (await fs.readdir(dir)).sort()) {
      if (SKIPPED.test(name)) continue;
      const full = path.join(dir, name);
      const stat = await fs.stat(full).catch(() => undefined); // follows links; a dangling one is skipped
      if (!stat) continue;
      const rel = `${relative}/${name}`;
      if (stat.isDirectory()) await walk(full, rel, inside);
      else if (stat.isFile()) {
        total += stat.size;
        if (total > DEBUGPY_MAX_BYTES)
          throw new RunnerError(
            `The debugpy copy in ${folder} is larger than ${DEBUGPY_MAX_BYTES / 1024 / 1024} MB: name another one.`,
            'DebugpyTooLarge',
          );
        entries.push({ path: rel, content: await fs.readFile(full), mode: stat.mode & 0o111 ? 0o755 : 0o644 });
      }
    }
  };
  await walk(folder, 'debugpy', new Set());
  // Debian's pydevd imports `bytecode` from the system (python3-bytecode) instead of its vendored copy.
  if (!entries.some((e) => e.path.startsWith('debugpy/_vendored/pydevd/_pydevd_frame_eval/vendored/bytecode/'))) {
    const bytecode = await unvendoredBytecode(folder);
    if (bytecode) await walk(bytecode, 'bytecode', new Set());
  }
  const archive = gzipDeterministic(writeTar(entries));
  return { folder, archive, sha256: sha256Hex(archive), files: entries.length };
}

/** The `bytecode` package next to pydevd (Debian: dist-packages) or next to debugpy, if there is one. */
async function unvendoredBytecode(folder: string): Promise<string | undefined> {
  const bundle = await fs.realpath(path.join(folder, '_vendored', 'pydevd', '_pydevd_bundle')).catch(() => undefined);
  for (const dir of [bundle && path.dirname(bundle), path.dirname(folder)]) {
    if (!dir) continue;
    const candidate = path.join(dir, 'bytecode');
    if (
      await fs.stat(path.join(candidate, '__init__.py')).then(
        (s) => s.isFile(),
        () => false,
      )
    )
      return candidate;
  }
  return undefined;
}

const packed = new Map<string, Promise<DebugpyBundle>>();

/** Locates and packs once per folder for this process (a debug run should not re-read megabytes each time). */
export async function debugpyBundle(options: LocateOptions = {}): Promise<DebugpyBundle> {
  const folder = await locateDebugpy(options);
  let bundle = packed.get(folder);
  if (!bundle) {
    bundle = packDebugpy(folder);
    packed.set(folder, bundle);
    bundle.catch(() => packed.delete(folder));
  }
  return bundle;
}
