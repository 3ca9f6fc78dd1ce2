// Terminal styling, only where a terminal shows it: never with NO_COLOR (https://no-color.org),
// TERM=dumb, or output that is not a terminal (CI logs, pipes, files).
export function colorEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(stream.isTTY) && !env.NO_COLOR && env.TERM !== 'dumb';
}

export function styles(color: boolean) {
  const wrap = (code: string) => (text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  return { bold: wrap('1'), dim: wrap('2'), green: wrap('32'), red: wrap('31'), cyan: wrap('36') };
}
