// Runs one command's script the way the SSM agent does on Linux: the lines joined with "\n" into
// `_script.sh` (0700), executed with `sh -c <path>` (so a #! line is honoured) as the leader of a
// new process group, with the agent's bare environment (never the sandbox's own, which may hold
// secrets): PATH, the AWS_SSM_* variables and SSM_COMMAND_ID; no HOME, no LANG, no TMPDIR.
// stdout/stderr go straight to files like the agent's (appended, so a rerun after a reboot adds to
// them); the script is over when its shell exits: background children it leaves are neither waited
// for nor killed, as with the real agent (timeout and cancel kill the whole group).
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
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
  /** An agent too old to set AWS_SSM_INSTANCE_ID. */
  withoutInstanceId?: boolean;
  /** Added to the agent's environment (the sandbox's model of an instance without a route to S3). */
  extraEnv?: Record<string, string>;
  /** CPU priority of the script; default INSTANCE_NICENESS. */
  niceness?: number;
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

const SIGNAL_NUMBERS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGABRT: 6,
  SIGKILL: 9,
  SIGSEGV: 11,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};

export function runScript(spec: ScriptSpec): RunningScript {
  const dir = join(spec.instance.orchestrationDir, spec.commandId, 'awsrunShellScript', '0.awsrunShellScript');
  mkdirSync(dir, { recursive: true });
  const scriptPath = join(dir, '_script.sh');
  writeFileSync(scriptPath, spec.lines.join('\n'), { mode: 0o700 });
  const stdoutPath = join(dir, 'stdout');
  const stderrPath = join(dir, 'stderr');
  const env: NodeJS.ProcessEnv = {
    PATH: spec.path,
    ...(spec.withoutInstanceId ? {} : { AWS_SSM_INSTANCE_ID: spec.instance.instanceId }),
    AWS_SSM_REGION_NAME: spec.region,
    AWS_SSM_PLATFORM_NAME: spec.instance.platformName,
    AWS_SSM_PLATFORM_VERSION: spec.instance.platformVersion,
    SSM_COMMAND_ID: spec.commandId,
    ...spec.extraEnv,
  };
  const [outFd, errFd] = [openSync(stdoutPath, 'a'), openSync(stderrPath, 'a')];
  let child;
  try {
    child = spawn('sh', ['-c', shellQuote(scriptPath)], {
      cwd: spec.cwd,
      env,
      detached: true,
      stdio: ['ignore', outFd, errFd],
    });
  } finally {
    closeSync(outFd);
    closeSync(errFd);
  }
  const pid = child.pid ?? -1;
  lowerSessionPriority(pid, spec.niceness ?? INSTANCE_NICENESS);
  const killGroup = () => {
    try {
      if (pid > 0) process.kill(-pid, 'SIGKILL');
    } catch {
      // ESRCH: the group is already gone
    }
  };
  const done = new Promise<ScriptResult>((resolve) => {
    const finish = (exitCode: number) => {
      const [out, err] = [readHead(stdoutPath, spec.keepStdoutBytes), readHead(stderrPath, spec.keepStderrBytes)];
      resolve({
        exitCode,
        stdoutHead: out.head,
        stderrHead: err.head,
        stdoutBytes: out.bytes,
        stderrBytes: err.bytes,
        stdoutPath,
        stderrPath,
      });
    };
    // The script is over when its shell exits, whatever it left running (the agent does not wait).
    child.on('exit', (code, signal) => finish(code ?? (signal ? 128 + (SIGNAL_NUMBERS[signal] ?? 0) : -1)));
    child.on('error', (error) => {
      writeFileSync(stderrPath, `failed to run commands: ${error.message}\n`, { flag: 'a' });
      finish(1);
    });
  });
  return { pid, kill: killGroup, done };
}

/** The first `keep` bytes of a file and its size. */
function readHead(path: string, keep: number): { head: Buffer; bytes: number } {
  const bytes = statSync(path).size;
  const head = Buffer.alloc(Math.min(keep, bytes));
  const fd = openSync(path, 'r');
  try {
    const read = readSync(fd, head, 0, head.length, 0);
    return { head: head.subarray(0, read), bytes };
  } finally {
    closeSync(fd);
  }
}

/**
 * `detached` makes the script a session of its own, and with Linux's autogroup scheduling each
 * session shares the CPUs equally with every other, whatever its processes' nice values: 100
 * scripts would get 100 shares to the endpoint's one. Lowering the session's autogroup priority
 * restores the order (no-op where autogroup does not exist).
 */
function lowerSessionPriority(pid: number, niceness: number): void {
  if (pid <= 0) return;
  try {
    setPriority(pid, niceness); // what sh starts from now on inherits it
  } catch {
    // the script already ended
  }
  try {
    writeFileSync(`/proc/${pid}/autogroup`, String(niceness));
  } catch {
    // not Linux, autogroup disabled, or the script already ended
  }
}

export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
