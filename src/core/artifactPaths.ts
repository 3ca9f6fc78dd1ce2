// Which local path an artifact may be written to. Entry names, instance ids and command ids come from
// the instance, the S3 prefix or SSM, so each is checked before it becomes part of a path. Pure
// functions with the path module injected: the Windows rules are tested on every OS (path.win32).
import * as nodePath from 'node:path';
import { RunnerError } from './api';
import { isInstanceId } from './remote/chunkKeys';

type PathModule = typeof nodePath.posix;

/** C0/C1 controls: invalid on Windows, and on a terminal they could rewrite what the CLI prints. */
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
/** Characters Windows refuses or reads as syntax: `\` separator, `:` drive or alternate data stream, wildcards. */
const WINDOWS_SPECIAL = /[<>:"|?*\\]/;
/** Device names Windows opens instead of a file, whatever the extension (`aux.txt`) or trailing dots/spaces. */
const WINDOWS_DEVICE =
  /^(con|prn|aux|nul|conin\$|conout\$|clock\$|com[0-9\u00b9\u00b2\u00b3]|lpt[0-9\u00b9\u00b2\u00b3])$/i;
/** Code points HFS+ ignores in names (so `.g\u200cit` is `.git` there), as git's own check lists them. */
const IGNORABLE = /[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]/g;
/**
 * Folders and files that tools act on when they find them above or inside a working directory:
 * version control (git runs `core.fsmonitor` from `.git/config`), editors and dev containers (tasks,
 * settings), direnv, credentials. Refused at any depth, in any case.
 */
const CONTROL_NAMES = new Set([
  '.git',
  '.hg',
  '.svn',
  '.bzr',
  '.jj',
  '.vscode',
  '.idea',
  '.devcontainer',
  '.envrc',
  '.ssh',
  '.aws',
  '.gnupg',
  '.kube',
  '.docker',
]);
/** NTFS short names of `.git` (GIT~1), which Windows resolves to the same folder. */
const SHORT_GIT = /^git~\d+$/;
/** SSM command ids are UUIDs. */
const COMMAND_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function unsafeArtifactPath(path: string, why: string): RunnerError {
  return new RunnerError(
    `Refusing to save artifact ${JSON.stringify(path)}: ${why}. Nothing was saved; the instance sent a name ` +
      `that cannot be written safely.`,
    'UnsafeArtifactPath',
  );
}

/**
 * The name as the file system will see it: case folded, HFS+ ignorables removed, Windows' trailing dots/spaces dropped.
 */
function comparable(component: string): string {
  return component
    .replace(IGNORABLE, '')
    .replace(/[. ]+$/, '')
    .toLowerCase();
}

function checkComponent(path: string, component: string, previous: string | undefined, windows: boolean): void {
  if (component === '' || component === '.' || component === '..')
    throw unsafeArtifactPath(path, 'its path leaves the target folder or has an empty part');
  if (CONTROL_CHARS.test(component)) throw unsafeArtifactPath(path, 'its name holds control characters');
  const name = comparable(component);
  if (
    CONTROL_NAMES.has(name) ||
    SHORT_GIT.test(name) ||
    (name === '.bin' && previous !== undefined && comparable(previous) === 'node_modules')
  ) {
    throw unsafeArtifactPath(
      path,
      `"${component}" is a control folder that tools act on (version control, editor, shell or credentials)`,
    );
  }
  if (!windows) return;
  if (WINDOWS_SPECIAL.test(component))
    throw unsafeArtifactPath(
      path,
      'its name holds a character Windows reads as a drive, stream, separator or wildcard (< > : " | ? * \\)',
    );
  if (/[. ]$/.test(component))
    throw unsafeArtifactPath(path, 'its name ends with a dot or a space, which Windows drops');
  if (WINDOWS_DEVICE.test(component.split('.')[0].replace(/ +$/, '')))
    throw unsafeArtifactPath(path, `"${component}" is a Windows device name`);
}

/** The components of an artifact's POSIX path, each checked (throws UnsafeArtifactPath). */
export function artifactPathParts(path: string, pathModule: PathModule = nodePath): string[] {
  const windows = pathModule.sep === '\\';
  if (!path) throw unsafeArtifactPath(path, 'its path is empty');
  if (path.startsWith('/')) throw unsafeArtifactPath(path, 'its path is absolute');
  const parts = path.split('/');
  parts.forEach((part, index) => checkComponent(path, part, parts[index - 1], windows));
  return parts;
}

/** Where the artifact `path` goes under `dir` (an absolute folder); throws when it would land anywhere else. */
export function safeTarget(dir: string, path: string, pathModule: PathModule = nodePath): string {
  const parts = artifactPathParts(path, pathModule);
  const target = pathModule.resolve(dir, ...parts);
  const inside = pathModule.relative(dir, target);
  if (!inside || inside === '..' || inside.startsWith(`..${pathModule.sep}`) || pathModule.isAbsolute(inside)) {
    throw unsafeArtifactPath(path, 'its path leaves the target folder');
  }
  return target;
}

/** `<dir>/<commandId>`: a run's own folder; the id is checked before it becomes a path. */
export function runArtifactsDir(dir: string, commandId: string, pathModule: PathModule = nodePath): string {
  if (!COMMAND_ID.test(commandId))
    throw new RunnerError(
      `Refusing to save artifacts of ${JSON.stringify(commandId)}: it is not an SSM command id.`,
      'UnsafeArtifactPath',
    );
  return pathModule.join(pathModule.resolve(dir), commandId);
}

/** `<runDir>/<instanceId>`, for an instance id that matches the real id shape only. */
export function instanceArtifactsDir(runDir: string, instanceId: string, pathModule: PathModule = nodePath): string {
  if (!isInstanceId(instanceId))
    throw new RunnerError(
      `Refusing to save artifacts of ${JSON.stringify(instanceId)}: it is not an instance id.`,
      'UnsafeArtifactPath',
    );
  return pathModule.join(runDir, instanceId);
}
