// Runs one command's script the way the SSM agent does on Linux: the lines joined with "\n" into
// `_script.sh` (0700), executed with `sh -c <path>` (so a #! line is honoured) as the leader of a
// new process group, with a clean environment (never the sandbox's own, which may hold secrets).
// stdout/stderr go to files like the agent's, and the first bytes stay in memory for the API.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import type { SandboxInstance } from './fleet';

export const DEFAULT_INSTANCE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Scripts run at the lowest CPU priority. Real instances have CPUs of their own; here hundreds of
 * simulated instances share the machine with the endpoint, the client and the user's editor, and
 * at normal priority they would starve all three (a 100-instance run kept the endpoint from
 * answering for seconds), which no real fleet does to AWS or to a developer's laptop.
 */
export const INSTANCE_NICENESS = 19;

export interface ScriptSpec {
  instance: SandboxInstance;
  commandId: string;
  region: string;
  lines: string[];
  cwd: string;
  path: string;
  /** Keep at most this many leading bytes of each stream in memory. */
  keepStdoutBytes: number;
  keepStderrBytes: number;
}

export interface ScriptResult {
  /** Exit code; 128 + signal number when killed (137 for SIGKILL). */
  exitCode: number;
  stdoutHead: Buffer;
  stderrHead: Buffer;
  stdoutBytes: number;
  stderrBytes: number;
  stdoutPath: string;
  stderrPath: string;
}

export interface RunningScript {
  pid: number;
  /** SIGKILLs the whole process group. */
  kill(): void;
  done: Promise<ScriptResult>;
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 };

export function runScript(spec: ScriptSpec): RunningScript {
  const dir = join(spec.instance.orchestrationDir, spec.commandId, 'awsrunShellScript', '0.awsrunShellScript');
  mkdirSync(dir, { recursive: true });
  const scriptPath = join(dir, '_script.sh');
  writeFileSync(scriptPath, spec.lines.join('\n'), { mode: 0o700 });
  const stdoutPath = join(dir, 'stdout');
  const stderrPath = join(dir, 'stderr');
  const env: NodeJS.ProcessEnv = {
    PATH: spec.path,
    LANG: 'C.UTF-8',
    TMPDIR: spec.instance.tmpDir,
    AWS_SSM_INSTANCE_ID: spec.instance.instanceId,
    AWS_SSM_REGION_NAME: spec.region,
    AWS_SSM_PLATFORM_NAME: spec.instance.platformName,
    AWS_SSM_PLATFORM_VERSION: spec.instance.platformVersion,
    SSM_COMMAND_ID: spec.commandId,
  };
  const child = spawn('sh', ['-c', shellQuote(scriptPath)], { cwd: spec.cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid ?? -1;
  lowerSessionPriority(pid);
  const killGroup = () => {
    try {
      if (pid > 0) process.kill(-pid, 'SIGKILL');
    } catch {
      // ESRCH: the group is already gone
    }
  };
  const stdout = capture(child.stdout!, stdoutPath, spec.keepStdoutBytes);
  const stderr = capture(child.stderr!, stderrPath, spec.keepStderrBytes);
  const done = new Promise<ScriptResult>((resolve) => {
    let exitCode = -1;
    // The script is over when its leader exits: kill what it left in its group so nothing
    // outlives the command and the pipes close.
    child.on('exit', (code, signal) => {
      exitCode = code ?? (signal ? 128 + (SIGNAL_NUMBERS[signal] ?? 0) : -1);
      killGroup();
    });
    child.on('error', (error) => {
      stderr.note(`failed to run commands: ${error.message}\n`);
      exitCode = 1;
    });
    child.on('close', async () => {
      const [out, err] = await Promise.all([stdout.finish(), stderr.finish()]);
      resolve({ exitCode, stdoutHead: out.head, stderrHead: err.head, stdoutBytes: out.bytes, stderrBytes: err.bytes, stdoutPath, stderrPath });
    });
  });
  return { pid, kill: killGroup, done };
}

/**
 * `detached` makes the script a session of its own, and with Linux's autogroup scheduling each
 * session shares the CPUs equally with every other, whatever its processes' nice values: 100
 * scripts would get 100 shares to the endpoint's one. Lowering the session's autogroup priority
 * restores the order (no-op where autogroup does not exist).
 */
function lowerSessionPriority(pid: number): void {
  if (pid <= 0) return;
  try {
    setPriority(pid, INSTANCE_NICENESS); // what sh starts from now on inherits it
  } catch {
    // the script already ended
  }
  try {
    writeFileSync(`/proc/${pid}/autogroup`, String(INSTANCE_NICENESS));
  } catch {
    // not Linux, autogroup disabled, or the script already ended
  }
}

function capture(stream: NodeJS.ReadableStream, path: string, keep: number) {
  const file = createWriteStream(path);
  const head: Buffer[] = [];
  let kept = 0;
  let bytes = 0;
  const take = (chunk: Buffer) => {
    bytes += chunk.length;
    if (kept < keep) {
      const part = chunk.subarray(0, keep - kept);
      head.push(part);
      kept += part.length;
    }
    file.write(chunk);
  };
  stream.on('data', take);
  return {
    note: (text: string) => take(Buffer.from(text, 'utf8')),
    finish: () => new Promise<{ head: Buffer; bytes: number }>((resolve) => file.end(() => resolve({ head: Buffer.concat(head), bytes }))),
  };
}

export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
