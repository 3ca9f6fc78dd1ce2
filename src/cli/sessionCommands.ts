// Session Manager commands: `ec2-runner forward --instance ID --port REMOTE[:LOCAL]` and
// `ec2-runner run FILE --interactive --instance ID` (the terminal's input reaches the script).
import type { Engine } from '../core';
import { portSpecOf } from '../core/session/portSpec';
import type { ParsedArgs } from './args';
import { EXIT } from './exitCodes';
import type { Streams } from './printer';
import { runSourceFrom } from './runSource';
import { parsePairs } from './args';
import { UsageError } from './usageError';

function singleInstance(values: ParsedArgs['values'], command: string): string {
  const ids = values.instance ?? [];
  if (ids.length !== 1)
    throw new UsageError(`\`${command}\` needs exactly one --instance ID (see \`ec2-runner instances\`).`);
  return ids[0];
}

export function parsePortSpec(text: string | undefined): { remotePort: number; localPort: number } {
  if (!text)
    throw new UsageError(
      'No port: ec2-runner forward --instance ID --port REMOTE[:LOCAL] (e.g. --port 8888 or --port 8888:9999).',
    );
  const ports = portSpecOf(text);
  if (!ports)
    throw new UsageError(`Port "${text}" is not REMOTE[:LOCAL] with ports from 1 to 65535 (LOCAL 0 = any free port).`);
  return ports;
}

/** Resolves on the first SIGINT/SIGTERM (and stops listening for them). */
function untilSignal(): { promise: Promise<NodeJS.Signals>; cancel(): void } {
  let onSignal!: (s: NodeJS.Signals) => void;
  const promise = new Promise<NodeJS.Signals>((resolve) => {
    onSignal = (s) => {
      cancel();
      resolve(s);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  const cancel = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  return { promise, cancel };
}

export async function forwardCommand(args: ParsedArgs, engine: Engine, streams: Streams): Promise<number> {
  if (args.positionals.length)
    throw new UsageError(
      `Unexpected "${args.positionals[0]}": ec2-runner forward --instance ID --port REMOTE[:LOCAL].`,
    );
  const instanceId = singleInstance(args.values, 'forward');
  const { remotePort, localPort } = parsePortSpec(args.values.port);
  const forward = await engine.forwardPort({
    instanceId,
    remotePort,
    localPort,
    onNotice: (text) => streams.stderr.write(`ec2-runner: ${text}\n`),
  });
  streams.stderr.write(
    `Forwarding 127.0.0.1:${forward.localPort} → ${instanceId} port ${remotePort} (session ` +
      `${forward.sessionId}, ${forward.mode} mode). Ctrl+C stops.\n`,
  );
  // The local port on stdout alone, for scripts (LOCAL 0 picks a free one).
  streams.stdout.write(`${forward.localPort}\n`);
  const signal = untilSignal();
  const outcome = await Promise.race([
    signal.promise.then(() => 'stopped' as const),
    forward.closed.then((reason) => ({ reason })),
  ]);
  signal.cancel();
  if (outcome === 'stopped') {
    await forward.close();
    return EXIT.ok;
  }
  streams.stderr.write(`ec2-runner: the forwarding session ended${outcome.reason ? `: ${outcome.reason}` : ''}.\n`);
  return EXIT.notRun;
}

const UNSUPPORTED_WITH_INTERACTIVE = [
  'tag',
  'json',
  'no-wait',
  'entry',
  'project',
  'artifacts',
  'max-concurrency',
  'max-errors',
  'delivery-timeout',
  'timeout',
] as const;

export async function interactiveRunCommand(
  args: ParsedArgs,
  engine: Engine,
  streams: Streams,
  stdin: NodeJS.ReadStream = process.stdin,
): Promise<number> {
  for (const name of UNSUPPORTED_WITH_INTERACTIVE) {
    if (args.values[name] !== undefined)
      throw new UsageError(
        `--${name} does not apply to an interactive run (one instance, output streamed, input from this terminal).`,
      );
  }
  const instanceId = singleInstance(args.values, 'run --interactive');
  const source = await runSourceFrom(args);
  if (source.kind === 'selection')
    throw new UsageError(
      'An interactive run reads its input from stdin, so the script cannot come from stdin too: give a FILE.',
    );
  const env = Object.fromEntries(parsePairs(args.values.env, 'Environment variable').map((p) => [p.key, p.value]));
  const stdout = streams.stdout as NodeJS.WriteStream;
  const terminalIn = Boolean(stdin.isTTY);
  const run = await engine.startInteractiveRun({
    source,
    instanceId,
    workingDirectory: args.values.cwd,
    env: Object.keys(env).length ? env : undefined,
    noEcho: !terminalIn,
    rawNewlines: !stdout.isTTY,
    onOutput: (bytes) => stdout.write(bytes),
    onNotice: (text) => streams.stderr.write(`ec2-runner: ${text}\n`),
  });
  const resize = () => {
    if (stdout.isTTY && stdout.columns && stdout.rows) run.resize(stdout.columns, stdout.rows);
  };
  resize();
  if (stdout.isTTY) stdout.on('resize', resize);
  // A terminal goes raw so every key (Ctrl-C included) reaches the instance's pty, as with ssh.
  if (terminalIn) stdin.setRawMode(true);
  let lastByte = 10;
  const onData = (chunk: Buffer) => {
    lastByte = chunk[chunk.length - 1] ?? lastByte;
    run.write(chunk);
  };
  // End of piped input: Ctrl-D on the pty (twice after a partial line: once to flush it, once for EOF).
  const onEnd = () => run.write(Buffer.from(lastByte === 10 ? '\u0004' : '\u0004\u0004'));
  stdin.on('data', onData);
  stdin.on('end', onEnd);
  // Not a terminal: Ctrl-C here still interrupts the script there.
  const onSigint = () => run.write(Buffer.from('\u0003'));
  if (!terminalIn) process.on('SIGINT', onSigint);
  try {
    const result = await run.done;
    if (result.exitCode === undefined) {
      streams.stderr.write(
        `ec2-runner: the session ended before the script reported its exit ` +
          `status${result.reason ? ` (${result.reason})` : ''}.\n`,
      );
      return EXIT.notRun;
    }
    return result.exitCode;
  } finally {
    stdin.off('data', onData);
    stdin.off('end', onEnd);
    process.off('SIGINT', onSigint);
    if (terminalIn) stdin.setRawMode(false);
    stdin.pause();
    if (stdout.isTTY) stdout.off('resize', resize);
  }
}
