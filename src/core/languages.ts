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
      `Cannot run a selection of language "${language}": supported are ${Object.keys(EXTENSION_BY_LANGUAGE).join(', ')}; for anything else pass --interpreter and a file.`,
      'UnsupportedLanguage',
    );
  }
  return `${SELECTION_BASENAME}${extension}`;
}
