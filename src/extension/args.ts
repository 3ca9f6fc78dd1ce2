// Script arguments typed in one line, split exactly as the engine splits an interpreter line
// (Python's shlex, POSIX mode), so `--name "my file.txt" 'a b'` gives three arguments. The engine
// then passes them byte for byte.
import { splitShellWords } from '../core/frontEnd';

export class ArgumentSyntaxError extends Error {}

export function splitArguments(line: string): string[] {
  try {
    return splitShellWords(line);
  } catch (error) {
    throw new ArgumentSyntaxError(
      `Cannot split the arguments (${(error as Error).message}): close the quote, or escape the character with \\.`,
    );
  }
}

/** The inverse for display: quotes an argument only when a shell would need it. */
export function quoteArgument(arg: string): string {
  if (arg !== '' && /^[\w@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function joinArguments(args: readonly string[]): string {
  return args.map(quoteArgument).join(' ');
}
