// Pure rules that turn what was observed about one invocation into its InvocationResult fields.

/** Statuses after which an invocation changes no more. */
const TERMINAL = new Set([
  'Success',
  'Cancelled',
  'TimedOut',
  'Failed',
  'Undeliverable',
  'Terminated',
  'DeliveryTimedOut',
  'ExecutionTimedOut',
  'InvalidPlatform',
  'AccessDenied',
]);

export function isTerminalStatus(status: string): boolean {
  return TERMINAL.has(status);
}

export const LIVE_OUTPUT_UNAVAILABLE = 'live output unavailable; SSM output may be truncated';

const utf8 = new TextDecoder('utf-8', { fatal: false });

export function decodeText(parts: Uint8Array[] | Uint8Array): string {
  if (parts instanceof Uint8Array) return utf8.decode(parts);
  return utf8.decode(Buffer.concat(parts));
}

/**
 * The structured result: the `$EC2_RUNNER_RESULT` file (JSON when it parses, else its text);
 * else, for compatibility, the last non-empty stdout line when it is a JSON object or array.
 */
export function extractResult(resultFile: Uint8Array | undefined, stdout: string): unknown {
  if (resultFile) {
    const text = decodeText(resultFile);
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  const lines = stdout.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i].trim();
    if (!line) continue;
    if (!/^[[{]/.test(line)) return null;
    try {
      return JSON.parse(line);
    } catch {
      return null;
    }
  }
  return null;
}

/** Exit codes with which the wrapper (or its sh fallback) says it could not run the script at all. */
const NOT_RUN_CODES = new Set([125, 126, 127]);

/**
 * The wrapper's reason when only SSM's output is known (no live channel, e.g. S3 unreachable): its last
 * `ec2-runner: ` line on stderr, for the exit codes that mean "not run".
 */
export function wrapperErrorFromStderr(stderr: string, exitCode: number | undefined): string | undefined {
  if (exitCode === undefined || !NOT_RUN_CODES.has(exitCode)) return undefined;
  const lines = stderr.split('\n').filter((line) => line.startsWith('ec2-runner: '));
  return lines.length ? lines[lines.length - 1].slice('ec2-runner: '.length) : undefined;
}

/** The exit code the wrapper reported: a signal N becomes 128+N, as a shell reports it. */
export function wrapperExitCode(exit: { exitCode: number; signal?: number }): number {
  return exit.signal !== undefined && exit.signal > 0 ? 128 + exit.signal : exit.exitCode;
}

export interface OutcomeFacts {
  status: string;
  statusDetails: string;
  exitCode: number | null;
  wrapperError?: string;
  timeoutSeconds?: number;
  /** Set when the client cancelled because the instance stopped talking to SSM. */
  offline?: string;
}

/** A one-line human reason for a non-success (undefined for a plain success). */
export function reasonFor(facts: OutcomeFacts): string | undefined {
  if (facts.offline) return facts.offline;
  if (facts.wrapperError) return facts.wrapperError;
  switch (facts.status) {
    case 'Success':
      return undefined;
    case 'Failed':
      return facts.exitCode !== null
        ? `exited with code ${facts.exitCode}`
        : `failed (${facts.statusDetails || 'no exit code'})`;
    case 'TimedOut':
      if (facts.statusDetails === 'DeliveryTimedOut')
        return 'not delivered in time: the instance did not pick the command up (agent offline or busy)';
      return facts.timeoutSeconds !== undefined
        ? `timed out after ${facts.timeoutSeconds} s; the command was cancelled`
        : 'timed out on the instance (execution timeout)';
    case 'Cancelled':
      return 'cancelled';
    case 'Undeliverable':
      return 'undeliverable: the instance is not reachable through SSM (stopped, terminated or agent not running)';
    case 'Terminated':
      return 'the instance was terminated while the command ran';
    default:
      return facts.statusDetails && facts.statusDetails !== facts.status
        ? `${facts.status} (${facts.statusDetails})`
        : facts.status;
  }
}
