// Languages a selection can be run as. Dependency-free so the extension bundle can use it without
// loading the engine.
import { RunnerError } from './api';

/** File extension by language id (VS Code's ids, plus the extensions themselves for the CLI). */
const EXTENSION_BY_LANGUAGE: Record<string, string> = {
  python: '.py',
  py: '.py',
  shellscript: '.sh',
  sh: '.sh',
  shell: '.sh',
  bash: '.sh',
};

export const SELECTION_BASENAME = 'selection';

/** The file extension (".py", ".sh") for a language id or extension, or undefined when unsupported. */
export function languageExtension(language: string): string | undefined {
  return EXTENSION_BY_LANGUAGE[language.trim().toLowerCase().replace(/^\./, '')];
}

export function selectionFileName(language: string): string {
  const extension = languageExtension(language);
  if (!extension) {
    throw new RunnerError(
      `Cannot run a selection of language "${language}": supported are ` +
        `${Object.keys(EXTENSION_BY_LANGUAGE).join(', ')}`,
      'UnsupportedLanguage',
      { advice: 'for anything else run a file with an interpreter.', data: { language } },
    );
  }
  return `${SELECTION_BASENAME}${extension}`;
}

/** Interpreter by file extension. */
const INTERPRETER_BY_EXTENSION: Record<string, string> = { '.py': 'python3', '.sh': 'bash', '.bash': 'bash' };

/** The command of a `#!` first line (`/usr/bin/env python3`, `/bin/bash -e`), or undefined without one. */
export function shebangInterpreter(head: Uint8Array | string | undefined): string | undefined {
  if (head === undefined) return undefined;
  const text = typeof head === 'string' ? head.slice(0, 512) : new TextDecoder().decode(head.subarray(0, 512));
  const match = /^#!([^\r\n]*)/.exec(text);
  const command = match?.[1].trim();
  return command ? command : undefined;
}

/**
 * How a file runs: by its extension (.py python3, .sh/.bash bash), else by its `#!` line; undefined
 * when neither says (README.md): such a file is refused, never guessed to be a shell script.
 */
export function interpreterFor(fileName: string, head?: Uint8Array | string): string | undefined {
  const extension = /\.[^./]+$/.exec(fileName)?.[0].toLowerCase();
  return (extension && INTERPRETER_BY_EXTENSION[extension]) || shebangInterpreter(head);
}

/** The one error for a file nothing says how to run. */
export function unrunnableFileError(fileName: string): RunnerError {
  return new RunnerError(
    `Cannot tell how to run ${fileName}: it is not a .py, .sh or .bash file and has no #! line.`,
    'UnsupportedFileType',
    {
      advice: 'Add one (e.g. #!/usr/bin/env python3), or give an interpreter.',
      data: { fileName },
    },
  );
}
