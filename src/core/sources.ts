// Turns every RunSource into what the launcher stages: a selection becomes a file (one mechanism:
// `selection.py` is staged and run like any file), a project keeps its folder and a checked entry.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RunnerError, type RunSource } from './api';
import { selectionFileName } from './languages';
import { projectDependencies, PYPROJECT_FILE } from './dependencies';
import { normalizeEntry, packProject } from './project';
import type { RemotePayload } from './remote';

export type StagedSource = Exclude<RunSource, { kind: 'selection' }>;

export function resolveSource(source: RunSource): StagedSource {
  switch (source.kind) {
    case 'selection': {
      if (!source.text.trim())
        throw new RunnerError('The selection is empty: select the code to run.', 'InvalidRequest');
      return {
        kind: 'file',
        fileName: selectionFileName(source.language),
        content: new TextEncoder().encode(source.text),
        interpreter: source.interpreter,
        args: source.args,
      };
    }
    case 'project':
      return { ...source, entry: normalizeEntry(source.entry) };
    default:
      return source;
  }
}

/** The bytes to stage for a file or project source, and how the instance treats them. */
export interface StagedContent {
  fileName: string;
  content: Uint8Array;
  archive?: RemotePayload['archive'];
}

/** Name of a staged project archive (the content-addressed key tells projects apart). */
export const PROJECT_ARCHIVE_NAME = 'project.tar.gz';

export async function stagedContentOf(
  source: Exclude<StagedSource, { kind: 'command' }>,
  options: { installDependencies?: boolean; venvRoot?: string },
): Promise<StagedContent> {
  if (source.kind === 'file') return { fileName: source.fileName, content: source.content };
  const packed = await packProject(source.root, source.entry);
  const pyproject = join(source.root, PYPROJECT_FILE);
  const dependencies =
    options.installDependencies === false
      ? undefined
      : await projectDependencies(
          packed.files.map((f) => f.path),
          () => readFile(pyproject, 'utf8'),
          pyproject,
        );
  return {
    fileName: PROJECT_ARCHIVE_NAME,
    content: packed.archive,
    archive: { entry: source.entry, ...(dependencies ? { ...dependencies, venvRoot: options.venvRoot } : {}) },
  };
}
