// `ec2-runner`: the command-line entry (bundled to dist/cli.js).
import { version } from '../../package.json';
import { parseCommandLine, type ParsedArgs } from './args';
import { demoCommand } from './demo';
import { cliMessage } from './advice';
import { EXIT, exitCodeForError } from './exitCodes';
import { COMMAND_HELP, MAIN_HELP } from './help';
import { attachCommand, bucketCommand, cancelCommand, instancesCommand, statusCommand } from './inspectCommands';
import type { Streams } from './printer';
import { runOrExec } from './runCommand';
import { forwardCommand, interactiveRunCommand } from './sessionCommands';
import { withEngine } from './settings';
import { UsageError } from './usageError';
import { runSandboxCommand } from '../sandbox/cli';

type Handler = (args: ParsedArgs, streams: Streams) => Promise<number>;

const engineCommand =
  (
    use: (
      args: ParsedArgs,
      engine: Parameters<Parameters<typeof withEngine>[1]>[0],
      streams: Streams,
    ) => Promise<number>,
  ): Handler =>
  (args, streams) =>
    withEngine(args.values, (engine) => use(args, engine, streams));

const HANDLERS: Record<string, Handler> = {
  instances: engineCommand(instancesCommand),
  run: engineCommand((args, engine, streams) =>
    args.values.interactive ? interactiveRunCommand(args, engine, streams) : runOrExec('run', args, engine, streams),
  ),
  forward: engineCommand(forwardCommand),
  exec: engineCommand((args, engine, streams) => runOrExec('exec', args, engine, streams)),
  status: engineCommand(statusCommand),
  attach: engineCommand(attachCommand),
  cancel: engineCommand(cancelCommand),
  bucket: engineCommand(bucketCommand),
  demo: (_args, streams) => demoCommand(streams),
};

export async function main(
  argv: string[],
  streams: Streams = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  // The sandbox has its own options; hand it everything after the word.
  if (argv[0] === 'sandbox') return runSandboxCommand(argv.slice(1));
  let args: ParsedArgs;
  try {
    args = parseCommandLine(argv);
    if (args.values.version) {
      streams.stdout.write(`${version}\n`);
      return EXIT.ok;
    }
    if (!args.command || args.command === 'help') {
      const topic = args.command === 'help' ? args.positionals[0] : undefined;
      streams.stdout.write(`${(topic && COMMAND_HELP[topic]) || MAIN_HELP}\n`);
      return args.command || args.values.help ? EXIT.ok : EXIT.usage;
    }
    const handler = HANDLERS[args.command];
    if (!handler) throw new UsageError(`Unknown command "${args.command}"; see \`ec2-runner --help\`.`);
    if (args.values.help) {
      streams.stdout.write(`${COMMAND_HELP[args.command]}\n`);
      return EXIT.ok;
    }
    return await handler(args, streams);
  } catch (error) {
    return reportError(error, streams);
  }
}

function reportError(error: unknown, streams: Streams): number {
  const code = exitCodeForError(error);
  if (code !== EXIT.unexpected) {
    streams.stderr.write(`ec2-runner: ${cliMessage(error)}\n`);
    return code;
  }
  // Unexpected: still one line, no stack trace (EC2_RUNNER_DEBUG=1 shows it).
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  streams.stderr.write(`ec2-runner: unexpected error: ${message}\n`);
  if (process.env.EC2_RUNNER_DEBUG) streams.stderr.write(`${(error as Error)?.stack ?? ''}\n`);
  return code;
}

/** Waits until everything written has left the process, then exits (the SDK's sockets are closed already). */
async function exitWhenFlushed(code: number): Promise<never> {
  await Promise.all(
    [process.stdout, process.stderr].map((s) => new Promise<void>((resolve) => s.write('', () => resolve()))),
  );
  process.exit(code);
}

if (require.main === module) {
  // An end-user tool: the SDK's notice about future Node versions is for developers, not for every run.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  main(process.argv.slice(2)).then(exitWhenFlushed, (error: unknown) =>
    exitWhenFlushed(reportError(error, { stdout: process.stdout, stderr: process.stderr })),
  );
}
