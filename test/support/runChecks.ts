// Helpers for engine and CLI integration tests against the sandbox: the CLI as a child process,
// bounded polling, and proof that a run left no process behind.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Process ids whose environment carries SSM_COMMAND_ID=<commandId> (the sandbox agent sets it, as the real one does). */
export function processesOfCommand(commandId: string): number[] {
  const marker = Buffer.from(`SSM_COMMAND_ID=${commandId}\u0000`);
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(join('/proc', entry, 'environ')).includes(marker)) found.push(Number(entry));
    } catch {
      // The process ended while we looked, or is not ours to read.
    }
  }
  return found;
}

/** Waits (bounded) until no process of the command is left. */
export async function nothingLeftRunning(commandId: string, timeoutMs = 10_000): Promise<void> {
  await eventually(`no process left for command ${commandId}`, () => (processesOfCommand(commandId).length === 0 ? true : undefined), timeoutMs);
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

export interface CliProcess {
  result: Promise<CliResult>;
  /** Resolves when stdout or stderr has shown `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  kill(signal: NodeJS.Signals): void;
}

/** The built CLI (dist/cli.js) as a child process; killed if it outlives `timeoutMs`. */
export function startCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): CliProcess {
  const child = spawn(process.execPath, [join(__dirname, '..', '..', '..', 'dist', 'cli.js'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const watchers: Array<() => void> = [];
  const notify = () => watchers.forEach((w) => w());
  child.stdout.on('data', (d: Buffer) => (out.push(d), notify()));
  child.stderr.on('data', (d: Buffer) => (err.push(d), notify()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const result = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
  return {
    result,
    kill: (signal) => child.kill(signal),
    waitFor: (pattern, waitMs = 30_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pattern.test(Buffer.concat(out).toString('utf8')) || pattern.test(Buffer.concat(err).toString('utf8'))) {
            clearTimeout(giveUp);
            resolve();
          }
        };
        const giveUp = setTimeout(() => reject(new Error(`CLI did not print ${pattern} within ${waitMs} ms`)), waitMs);
        watchers.push(check);
        check();
      }),
  };
}

export function runCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs?: number): Promise<CliResult> {
  return startCli(args, env, timeoutMs).result;
}
