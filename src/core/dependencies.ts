// Which Python dependencies a project run installs on the instance: a root requirements.txt as it is,
// else the `[project] dependencies` of a root pyproject.toml (PEP 621). The TOML is read here, on the
// client, not on the instance: instance Pythons may be older than 3.11 (no tomllib) and the wrapper
// uses the standard library only. smol-toml is a small, dependency-free, TOML 1.0-compliant parser;
// it is bundled into the engine and CLI only (dist/extension.js loads the engine lazily).
import { parse, TomlError } from 'smol-toml';
import { RunnerError } from './api';

/** File name of the dependency list the instance installs from (at the project root). */
export const REQUIREMENTS_FILE = 'requirements.txt';
/** Read for `[project] dependencies` when the project has no requirements.txt. */
export const PYPROJECT_FILE = 'pyproject.toml';

/** What to install: the project's requirements file, or requirement strings from pyproject.toml. */
export type DependencySpec = { requirementsFile: string } | { pyprojectDependencies: string[] };

/** `fix` says how to mend the file; each front end adds how to run without installing (src/cli/advice.ts). */
function invalid(file: string, problem: string, fix: string): never {
  throw new RunnerError(`${file}: ${problem}`, 'InvalidPyproject', {
    advice: `${fix}, or run without installing dependencies.`,
    data: { file, fileFix: fix },
  });
}

/** A requirement pip can take as one argument: not empty, no leading '-' (an option to pip), no line break or NUL. */
export function isRequirementArgument(requirement: string): boolean {
  return requirement.trim() !== '' && !requirement.startsWith('-') && !/[\r\n\0]/.test(requirement);
}

/**
 * The `[project] dependencies` of a pyproject.toml's text; `file` names it in errors. Empty when the
 * table or the key is absent (also when they are `dynamic`: a build backend computes them, nothing to
 * read here). Each entry is a PEP 508 requirement that pip gets as one argument.
 */
export function pyprojectDependencies(text: string, file: string): string[] {
  let document: Record<string, unknown>;
  try {
    document = parse(text);
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    const reason = error.message.split('\n')[0].replace(/^Invalid TOML document: /, '');
    invalid(file, `not valid TOML (line ${error.line}, column ${error.column}: ${reason})`, 'fix the file');
  }
  const project = document.project;
  if (project === undefined) return [];
  if (typeof project !== 'object' || project === null || Array.isArray(project))
    invalid(file, '[project] is not a table', 'make it a [project] table');
  const dependencies = (project as Record<string, unknown>).dependencies;
  if (dependencies === undefined) return [];
  const example = 'e.g. dependencies = ["requests>=2.31"]';
  if (!Array.isArray(dependencies))
    invalid(file, '[project] dependencies is not a list', `write it as a list of requirement strings, ${example}`);
  return dependencies.map((entry, index) => {
    if (typeof entry !== 'string')
      invalid(
        file,
        `[project] dependencies[${index}] is not a string`,
        `write each dependency as a requirement string, ${example}`,
      );
    const requirement = entry.trim();
    if (!isRequirementArgument(requirement)) {
      invalid(
        file,
        `[project] dependencies[${index}] ${JSON.stringify(entry)} is not a requirement`,
        `give a PEP 508 requirement, ${example}`,
      );
    }
    return requirement;
  });
}

/**
 * What a project with these files (POSIX paths relative to its root) installs: its requirements.txt; else, with a
 * pyproject.toml,
 * its `[project] dependencies` (`readPyproject` gives the text; `file` names it in errors); else nothing.
 */
export async function projectDependencies(
  projectFiles: readonly string[],
  readPyproject: () => Promise<string>,
  pyprojectPath: string,
): Promise<DependencySpec | undefined> {
  if (projectFiles.includes(REQUIREMENTS_FILE)) return { requirementsFile: REQUIREMENTS_FILE };
  if (!projectFiles.includes(PYPROJECT_FILE)) return undefined;
  const dependencies = pyprojectDependencies(await readPyproject(), pyprojectPath);
  return dependencies.length ? { pyprojectDependencies: dependencies } : undefined;
}
