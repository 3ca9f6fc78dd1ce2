// REMOTE[:LOCAL], as `ec2-runner forward --port` and the extension's "Forward a Port…" take it.

/** The ports of "8888" or "8888:9999" (LOCAL 0 or absent: any free port); undefined when it is not that. */
export function portSpecOf(text: string): { remotePort: number; localPort: number } | undefined {
  const match = /^(\d{1,5})(?::(\d{1,5}))?$/.exec(text.trim());
  if (!match) return undefined;
  const remotePort = Number(match[1]);
  const localPort = match[2] === undefined ? 0 : Number(match[2]);
  return remotePort >= 1 && remotePort <= 65535 && localPort <= 65535 ? { remotePort, localPort } : undefined;
}
