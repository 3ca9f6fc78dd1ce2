// Runs one remote case end to end on this machine: stage the script through a transport (the loopback
// test server or the sandbox's S3), build the command text, run it like the SSM agent, read the live output.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildRemoteCommands,
  type LiveOutputTarget,
  type RemotePayload,
  type RemoteRunSpec,
} from '../../src/core/remote';
import { assembleLiveOutput, type LiveOutput, type LocalRun, runCommandsLocally, scratchDir } from './remoteRun';

/** Where staged files and live output live: S3 (sandbox) or the loopback test server. */
export interface RemoteTransport {
  /** Stages `body`; `broken` asks for a fetch that fails (missing object or refused URL). */
  stage(body: Uint8Array, fileName: string, broken?: 'missing' | 'refused'): Promise<RemotePayload['fetch']>;
  liveOutput(runId: string): Promise<{ target: LiveOutputTarget; outputLocation: string }>;
  objects(keyPrefix: string): Promise<Map<string, Uint8Array>>;
}

export interface RemoteCase {
  script?: string | Uint8Array;
  /** Stage these bytes instead of `script` while announcing the script's checksum (tampering). */
  stagedBytes?: Uint8Array;
  broken?: 'missing' | 'refused';
  fileName?: string;
  interpreter?: string;
  args?: string[];
  shellCommand?: string;
  workingDirectory?: string;
  env?: Record<string, string>;
  /** Replaces PATH for the whole command (e.g. an instance without python). */
  path: string;
  /** No live-output target (what the client sends when it has none). */
  noLiveOutput?: boolean;
  /** The client's upload cadence (RemoteRunSpec.uploadGapSeconds). */
  uploadGapSeconds?: number;
  timeoutMs?: number;
  /** Called while the command runs, with the run's key prefix (e.g. to wait for live output). */
  whileRunning?: (keyPrefix: string, markerDir: string) => Promise<void>;
  /** Called after the command, on the same "instance" (same TMPDIR), e.g. to run a renewal command there. */
  afterRun?: (
    runOnInstance: (commands: string[]) => Promise<LocalRun>,
    runId: string,
    target: LiveOutputTarget,
  ) => Promise<void>;
}

export interface RemoteOutcome {
  local: LocalRun;
  live: LiveOutput;
  /** Whether the script ran: test scripts create $EC2R_TEST_MARKER when they start. */
  ran: boolean;
  /** Files left in the wrapper's TMPDIR (should be none). */
  tmpLeftovers: string[];
  runId: string;
  durationMs: number;
}

export async function runRemote(transport: RemoteTransport, remoteCase: RemoteCase): Promise<RemoteOutcome> {
  const scratch = scratchDir();
  try {
    const runId = randomBytes(8).toString('hex');
    const marker = join(scratch.root, 'ran');
    const { target, outputLocation } = await transport.liveOutput(runId);
    const spec: RemoteRunSpec = {
      runId,
      outputLocation,
      output: remoteCase.noLiveOutput ? undefined : target,
      workingDirectory: remoteCase.workingDirectory,
      env: remoteCase.env,
      uploadGapSeconds: remoteCase.uploadGapSeconds,
    };
    if (remoteCase.shellCommand !== undefined) spec.shellCommand = remoteCase.shellCommand;
    else {
      const script =
        typeof remoteCase.script === 'string' ? Buffer.from(remoteCase.script) : Buffer.from(remoteCase.script ?? '');
      const fileName = remoteCase.fileName ?? 'script.py';
      spec.payload = {
        fileName,
        sha256: createHash('sha256').update(script).digest('hex'),
        interpreter: remoteCase.interpreter ?? 'python3',
        args: remoteCase.args ?? [],
        fetch: await transport.stage(remoteCase.stagedBytes ?? script, fileName, remoteCase.broken),
      };
    }
    const commands = buildRemoteCommands(spec);
    const started = Date.now();
    const env = { ...process.env, PATH: remoteCase.path, TMPDIR: scratch.tmp, EC2R_TEST_MARKER: marker };
    const [local] = await Promise.all([
      runCommandsLocally(commands, { cwd: scratch.agent, env, timeoutMs: remoteCase.timeoutMs }),
      remoteCase.whileRunning?.(target.keyPrefix, scratch.root),
    ]);
    const durationMs = Date.now() - started;
    await remoteCase.afterRun?.((more) => runCommandsLocally(more, { cwd: scratch.agent, env }), runId, target);
    const live = assembleLiveOutput(await transport.objects(target.keyPrefix), target.keyPrefix);
    return { local, live, ran: existsSync(marker), tmpLeftovers: readdirSync(scratch.tmp), runId, durationMs };
  } finally {
    scratch.dispose();
  }
}

/** Arguments a shell would mangle; each must reach the script byte for byte. */
export const HOSTILE_ARGS: string[] = [
  '',
  ' ',
  'two words',
  "it's",
  '"double"',
  '$(touch pwned)',
  '`id`',
  '$HOME',
  '${PATH}',
  'a\nb',
  'tab\there',
  '\r\n',
  '\\',
  '\\n',
  '; exit 9',
  '| cat',
  '&& echo hi',
  '*',
  '~',
  '-n',
  '--',
  '#comment',
  'EC2RUNNER_EOF',
  "'EC2RUNNER_EOF'",
  'é ñ 中文 🎉',
  '\u0001\u0002\u001b[31m\u007f',
  'trailing newlines\n\n',
  '\u00a0nbsp',
  'x'.repeat(1000),
];

/** Python preamble for test scripts: records that the script ran. */
export const MARK_RAN = 'import os\nopen(os.environ["EC2R_TEST_MARKER"], "w").close()\n';

/** Polls `condition` every 20 ms until true or `timeoutMs` passes. */
export async function waitFor(
  condition: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
