// Runs a generated AWS-RunShellScript command text locally the way the SSM agent does (lines joined
// with "\n" into a 0700 script run by sh, in its own process group), and reassembles live output.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeFrames, type Frame, parseChunkKey } from '../../src/core/remote';

export const LOCAL_INSTANCE_ID = 'i-0123456789abcdef0';

export interface LocalRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The wrapper's own stdout/stderr: what SSM would report as StandardOutputContent/StandardErrorContent. */
  stdout: Buffer;
  stderr: Buffer;
}

export interface RunOptions {
  /** Working directory of the sh process (the agent's). */
  cwd: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Called once the process started, e.g. to interact with a running script. */
  onSpawn?: (pid: number) => void;
}

export interface Scratch {
  root: string;
  /** The TMPDIR the wrapper sees (so tests can check it is left empty). */
  tmp: string;
  /** The agent's working directory, where _script.sh is written. */
  agent: string;
  dispose(): void;
}

export function scratchDir(): Scratch {
  const root = mkdtempSync(join(tmpdir(), 'ec2r-remote-test-'));
  const [tmp, agent] = [join(root, 'tmp'), join(root, 'agent')];
  mkdirSync(tmp);
  mkdirSync(agent);
  return { root, tmp, agent, dispose: () => rmSync(root, { recursive: true, force: true }) };
}

export async function runCommandsLocally(commands: string[], options: RunOptions): Promise<LocalRun> {
  const scriptPath = join(options.cwd, '_script.sh');
  writeFileSync(scriptPath, commands.join('\n'));
  chmodSync(scriptPath, 0o700);
  const child = spawn('sh', [scriptPath], {
    cwd: options.cwd,
    env: { AWS_SSM_INSTANCE_ID: LOCAL_INSTANCE_ID, ...(options.env ?? process.env) },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  options.onSpawn?.(child.pid!);
  const killGroup = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const timer = setTimeout(killGroup, options.timeoutMs ?? 30_000);
  try {
    const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, sig) => resolve([code, sig]));
    });
    return { exitCode, signal, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr) };
  } finally {
    clearTimeout(timer);
    killGroup(); // anything the script left in the background
  }
}

export interface LiveOutput {
  frames: Frame[];
  /** stdout/stderr frames in the order the wrapper read them. */
  streams: Array<{ stream: 'stdout' | 'stderr'; data: Buffer }>;
  stdout: Buffer;
  stderr: Buffer;
  result?: Buffer;
  exit?: { exitCode: number; signal?: number };
  errors: string[];
  start?: Record<string, unknown>;
  objectCount: number;
}

/** Decodes one instance's objects in sequence order, insisting on 0..n-1 with no gap. */
export function assembleLiveOutput(
  objects: Map<string, Uint8Array>,
  keyPrefix: string,
  instanceId = LOCAL_INSTANCE_ID,
): LiveOutput {
  const chunks = [...objects.entries()]
    .map(([key, body]) => ({ parsed: parseChunkKey(keyPrefix, key), body }))
    .filter((chunk) => chunk.parsed?.instanceId === instanceId)
    .sort((a, b) => a.parsed!.seq - b.parsed!.seq);
  chunks.forEach((chunk, index) => {
    if (chunk.parsed!.seq !== index) throw new Error(`live output has a gap: object ${index} missing`);
  });
  const frames = chunks.flatMap((chunk) => decodeFrames(chunk.body));
  const output: LiveOutput = {
    frames,
    streams: [],
    stdout: Buffer.alloc(0),
    stderr: Buffer.alloc(0),
    errors: [],
    objectCount: chunks.length,
  };
  for (const frame of frames) {
    switch (frame.type) {
      case 'stdout':
      case 'stderr': {
        const last = output.streams[output.streams.length - 1];
        if (last?.stream === frame.type) last.data = Buffer.concat([last.data, frame.data]);
        else output.streams.push({ stream: frame.type, data: Buffer.from(frame.data) });
        break;
      }
      case 'result':
        output.result = Buffer.from(frame.data);
        break;
      case 'exit':
        output.exit =
          frame.signal === undefined
            ? { exitCode: frame.exitCode }
            : { exitCode: frame.exitCode, signal: frame.signal };
        break;
      case 'error':
        output.errors.push(frame.message);
        break;
      case 'start':
        output.start = frame.info;
    }
  }
  output.stdout = Buffer.concat(output.streams.filter((s) => s.stream === 'stdout').map((s) => s.data));
  output.stderr = Buffer.concat(output.streams.filter((s) => s.stream === 'stderr').map((s) => s.data));
  return output;
}

/** The directory of the real python3 (not a version-manager shim, which costs ~0.3 s per start). */
export function realPythonDir(): string {
  const result = spawnSync(
    'python3',
    ['-c', 'import os, sys; print(os.path.dirname(os.path.realpath(sys.executable)))'],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`python3 is needed for the wrapper tests: ${result.stderr}`);
  return result.stdout.trim();
}

function findOnPath(tool: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const candidate = join(dir || '.', tool);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** A bin directory holding only `tools` (symlinks), to run the command on an "instance" without python. */
export function binDirWith(root: string, tools: string[]): string {
  const bin = join(root, 'bin');
  mkdirSync(bin, { recursive: true });
  for (const tool of tools) {
    const target = findOnPath(tool);
    if (!target) throw new Error(`${tool} is needed on PATH for this test`);
    symlinkSync(target, join(bin, tool));
  }
  return bin;
}

/**
 * Writes a stand-in `aws` CLI into `bin` for the instance-role transfer mode: it accepts exactly the
 * `aws s3 cp --only-show-errors --region R s3://bucket/key DEST` the command uses, serving objects
 * from `s3Root/bucket/key` and failing like the real CLI on a missing key.
 */
export function writeFakeAwsCli(bin: string, s3Root: string, region: string): void {
  mkdirSync(bin, { recursive: true });
  const script = [
    '#!/bin/sh',
    `[ "$1 $2 $3 $4 $5" = "s3 cp --only-show-errors --region ${region}" ] || { echo "unexpected aws ` +
      `arguments: $*" >&2; exit 2; }`,
    `src="${s3Root}/\${6#s3://}"`,
    '[ -f "$src" ] || { echo "fatal error: An error occurred (404) when calling the HeadObject operation: ' +
      'Key \\"${6#s3://*/}\\" does not exist" >&2; exit 1; }',
    'cat "$src" >"$7"',
  ].join('\n');
  writeFileSync(join(bin, 'aws'), script);
  chmodSync(join(bin, 'aws'), 0o755);
}
