// What `ec2-runner run` stages: a FILE, a project folder (`run DIR --entry FILE` or
// `run DIR/FILE --project DIR`), or a script read from stdin (`run - --language python`).
import { readFile, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { formatBytes, RunnerError, type RunHandle, type RunSource } from '../core';
import type { ParsedArgs } from './args';
import type { Streams } from './printer';
import { UsageError } from './usageError';

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

function insideProject(root: string, file: string): string {
  const entry = relative(resolve(root), resolve(file));
  if (!entry || entry.startsWith(`..${sep}`) || entry === '..' || isAbsolute(entry)) {
    throw new UsageError(`${file} is not inside the project folder ${root}: give a file under --project DIR.`);
  }
  return entry.split(sep).join('/');
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

export async function runSourceFrom(
  args: ParsedArgs,
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<RunSource> {
  const v = args.values;
  if (args.positionals.length !== 1) {
    throw new UsageError(
      args.positionals.length
        ? `One FILE only (got ${args.positionals.length}); script arguments go after --.`
        : 'No FILE: ec2-runner run FILE --instance ID [-- ARGS...]',
    );
  }
  const path = args.positionals[0];
  const common = { interpreter: v.interpreter, args: args.rest };
  if (path === '-') {
    if (!v.language)
      throw new UsageError(
        'Reading the script from stdin needs its language: ec2-runner run - --language python (or sh).',
      );
    if (v.entry || v.project) throw new UsageError('--entry and --project do not apply to a script read from stdin.');
    return { kind: 'selection', text: await readAll(stdin), language: v.language, ...common };
  }
  if (v.language)
    throw new UsageError('--language applies only to a script read from stdin (run - --language python).');
  if (v.entry && v.project) throw new UsageError('Give either DIR --entry FILE or FILE --project DIR, not both.');
  if (v.entry) {
    if (!(await isDirectory(path)))
      throw new UsageError(
        `${path} is not a folder: with --entry, pass the project folder first (run DIR --entry FILE).`,
      );
    return { kind: 'project', root: path, entry: v.entry, ...common };
  }
  if (v.project) return { kind: 'project', root: v.project, entry: insideProject(v.project, path), ...common };
  if (await isDirectory(path))
    throw new UsageError(`${path} is a folder: name the file to run with --entry FILE (relative to the folder).`);
  let content: Buffer;
  try {
    content = await readFile(path);
  } catch (error) {
    throw new RunnerError(unreadableFileMessage(path, error as NodeJS.ErrnoException), 'FileUnreadable');
  }
  return { kind: 'file', fileName: basename(path), content, ...common };
}

/** Words for the usual reasons a file cannot be read (the errno code as the last resort). */
function unreadableFileMessage(path: string, error: NodeJS.ErrnoException): string {
  if (error.code === 'ENOENT') return `No such file: ${path}. Check the path (relative to ${process.cwd()}).`;
  if (error.code === 'EACCES' || error.code === 'EPERM') return `Cannot read ${path}: permission denied.`;
  return `Cannot read ${path}: ${error.code ?? error.message}.`;
}

/** After the run: saves artifacts to --artifacts DIR, or says that there are some to save. */
export async function reportArtifacts(handle: RunHandle, dir: string | undefined, streams: Streams): Promise<void> {
  const result = await handle.wait();
  const files = result.invocations.flatMap((i) => i.artifacts ?? []);
  if (files.length === 0) {
    if (dir)
      streams.stderr.write(
        'ec2-runner: the run left no artifacts (files written to $EC2_RUNNER_ARTIFACTS come back)\n',
      );
    return;
  }
  const listing =
    files
      .slice(0, 5)
      .map((f) => `${f.path} (${formatBytes(f.size)})`)
      .join(', ') + (files.length > 5 ? `, … ${files.length - 5} more` : '');
  if (!dir) {
    streams.stderr.write(`ec2-runner: ${files.length} artifact(s): ${listing}; pass --artifacts DIR to save them\n`);
    return;
  }
  // A fresh folder per run and instance (DIR/<commandId>/<instanceId>/): nothing already in DIR is touched.
  const written = await handle.downloadArtifacts!(dir);
  const withArtifacts = result.invocations.filter((i) => i.artifacts?.length).map((i) => i.instanceId);
  const folder = join(dir, handle.commandId, withArtifacts.length === 1 ? withArtifacts[0] : '');
  streams.stderr.write(
    `ec2-runner: saved ${written.length} artifact(s) to ${folder}${folder.endsWith(sep) ? '' : sep}: ${listing}\n`,
  );
}
