// Helpers for engine and CLI integration tests against the sandbox: the CLI as a child process,
// bounded polling, and proof that a run left no process behind.
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * Process ids whose environment carries SSM_COMMAND_ID=<commandId> (the sandbox agent sets it, as the real one does).
 */
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
  await eventually(
    `no process left for command ${commandId}`,
    () => (processesOfCommand(commandId).length === 0 ? true : undefined),
    timeoutMs,
  );
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
  const child = spawn(process.execPath, [join(__dirname, '..', '..', '..', 'dist', 'cli.js'), ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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

/**
 * A Python script that alternates stdout and stderr lines. After each write it waits until the
 * reader (the wrapper) has drained the pipe (FIONREAD = 0), so the wrapper reads them in that
 * order however loaded the machine is; short pauses put several into one upload, so a client that
 * reorders the streams within a batch is caught. `ALTERNATING_LINES` is what every client must show.
 */
export const ALTERNATING_SCRIPT = [
  'import array, fcntl, sys, termios, time',
  'def drained(stream):',
  '    stream.flush()',
  '    unread = array.array("i", [0])',
  '    deadline = time.time() + 20',
  '    while time.time() < deadline:',
  '        fcntl.ioctl(stream.fileno(), termios.FIONREAD, unread)',
  '        if unread[0] == 0:',
  '            return',
  '        time.sleep(0.005)',
  'for i in range(8):',
  '    sys.stdout.write("out%d\\n" % i); drained(sys.stdout); time.sleep(0.05)',
  '    sys.stderr.write("err%d\\n" % i); drained(sys.stderr); time.sleep(0.05)',
  '',
].join('\n');
export const ALTERNATING_LINES = Array.from({ length: 8 }, (_, i) => [`stdout out${i}`, `stderr err${i}`]).flat();

/** Output chunks as "stream line" entries, in delivery order (a line split over chunks is joined). */
export function linesInOrder(chunks: Array<{ stream: string; data: Uint8Array }>): string[] {
  const partial: Record<string, string> = {};
  const lines: string[] = [];
  for (const { stream, data } of chunks) {
    const parts = ((partial[stream] ?? '') + Buffer.from(data).toString('utf8')).split('\n');
    partial[stream] = parts.pop()!;
    for (const line of parts) lines.push(`${stream} ${line}`);
  }
  return lines;
}

/** The CLI with its stdout and stderr on ONE pipe (as a terminal shows them), so their order is observable. */
export function runCliMerged(
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 60_000,
): Promise<{ code: number | null; output: string }> {
  const cli = join(__dirname, '..', '..', '..', 'dist', 'cli.js');
  const child = spawn('/bin/sh', ['-c', 'exec "$@" 2>&1', 'sh', process.execPath, cli, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const out: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => out.push(d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output: Buffer.concat(out).toString('utf8') });
    });
  });
}

/**
 * A comment line of random (incompressible) base64: appended to a script, it makes the file too large
 * to travel inline in the command text, so the run stages it in S3 (for tests of staging itself).
 */
export function tooLargeToInline(): string {
  return `# ${randomBytes(40 * 1024).toString('base64')} (too large to inline: staged in S3)\n`;
}
