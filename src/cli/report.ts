// Following a run in the terminal: stream output, handle Ctrl-C, print the outcome, pick the exit code.
import type { InvocationResult, RunHandle, RunResult } from '../core';
import { cliMessage } from './advice';
import { EXIT, exitCodeFor } from './exitCodes';
import { OutputPrinter, type Streams } from './printer';

export interface FollowInTerminal {
  json: boolean;
  /** What Ctrl-C does: cancel the remote command (run/exec) or only stop following (attach). */
  onInterrupt: 'cancel' | 'detach';
  /** Display names by instance id (best effort). */
  names?: Map<string, string>;
}

/** The `--json` document: exactly these keys (the file keys only for output that outgrew memory). */
export function jsonDocument(result: RunResult): string {
  return JSON.stringify(
    {
      commandId: result.commandId,
      invocations: result.invocations.map((i) => ({
        instanceId: i.instanceId,
        status: i.status,
        statusDetails: i.statusDetails,
        exitCode: i.exitCode,
        stdout: i.stdout,
        stderr: i.stderr,
        result: i.result ?? null,
        // Only when the output outgrew memory: stdout/stderr then hold its two ends, the file all of it.
        ...(i.stdoutFile ? { stdoutFile: i.stdoutFile } : {}),
        ...(i.stderrFile ? { stderrFile: i.stderrFile } : {}),
      })),
    },
    null,
    2,
  );
}

export function labelFor(names: Map<string, string> | undefined, instanceId: string): string {
  const name = names?.get(instanceId);
  return name ? `${name} ${instanceId}` : instanceId;
}

function isPlainOutcome(invocation: InvocationResult): boolean {
  return invocation.reason === undefined || invocation.reason === `exited with code ${invocation.exitCode}`;
}

/** One line per problem (single target) or a summary line (several). */
export function outcomeLines(result: RunResult, names?: Map<string, string>): string[] {
  const invocations = result.invocations;
  if (invocations.length === 0) return ['ec2-runner: no instance ran the command (no target matched)'];
  if (invocations.length === 1) {
    const only = invocations[0];
    return isPlainOutcome(only) ? [] : [`ec2-runner: ${only.status}: ${only.reason}`];
  }
  const succeeded = invocations.filter((i) => i.status === 'Success').length;
  const lines = invocations
    .filter((i) => i.status !== 'Success' || !isPlainOutcome(i))
    .map((i) => `ec2-runner: [${labelFor(names, i.instanceId)}] ${i.status}${i.reason ? `: ${i.reason}` : ''}`);
  lines.push(`ec2-runner: ${succeeded} of ${invocations.length} instances succeeded (command ${result.commandId})`);
  return lines;
}

export async function followInTerminal(
  handle: RunHandle,
  streams: Streams,
  options: FollowInTerminal,
): Promise<number> {
  const printer = new OutputPrinter(
    streams,
    () => handle.instanceIds.length > 1,
    (id) => labelFor(options.names, id),
  );
  const subscription = options.json ? undefined : handle.onOutput((chunk) => printer.write(chunk));
  let interrupted = false;
  let detached = false;
  const onSigint = () => {
    if (interrupted || options.onInterrupt === 'detach') {
      streams.stderr.write(
        `\nec2-runner: stopped following; command ${handle.commandId} may still be running (ec2-runner ` +
          `status ${handle.commandId})\n`,
      );
      handle.detach();
      interrupted = detached = true;
      return;
    }
    interrupted = true;
    streams.stderr.write(`\nec2-runner: cancelling command ${handle.commandId}... (Ctrl-C again to stop waiting)\n`);
    handle.cancel().catch((error: Error) => streams.stderr.write(`ec2-runner: cancel failed: ${cliMessage(error)}\n`));
  };
  process.on('SIGINT', onSigint);
  try {
    const result = await handle.wait();
    printer.flush();
    if (detached) return EXIT.cancelled;
    if (options.json) streams.stdout.write(`${jsonDocument(result)}\n`);
    for (const line of outcomeLines(result, options.names)) streams.stderr.write(`${line}\n`);
    if (interrupted && result.invocations.some((i) => !['Success', 'Failed', 'TimedOut'].includes(String(i.status))))
      return EXIT.cancelled;
    return exitCodeFor(result);
  } finally {
    subscription?.dispose();
    process.off('SIGINT', onSigint);
  }
}
