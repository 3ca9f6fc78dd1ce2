// Splits an interpreter command line exactly like Python's shlex.split (POSIX mode, no comments), on the
// client, so bad quoting fails before anything is sent and the Python and sh paths run the same argv.

export function splitShellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quote === "'") {
      if (ch === "'") quote = undefined;
      else word += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = undefined;
      else if (ch === '\\' && i + 1 < line.length && (line[i + 1] === '"' || line[i + 1] === '\\')) word += line[++i];
      else word += ch;
    } else if (' \t\r\n'.includes(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      inWord = true;
      if (ch === "'" || ch === '"') quote = ch;
      else if (ch === '\\') {
        if (i + 1 >= line.length) throw new Error('no escaped character after a trailing backslash');
        word += line[++i];
      } else word += ch;
    }
  }
  if (quote) throw new Error(`no closing ${quote === '"' ? 'double' : 'single'} quotation`);
  if (inWord) words.push(word);
  return words;
}
