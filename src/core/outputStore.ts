// One instance's stream of output (stdout or stderr) as the client keeps it: everything in memory up
// to a budget; beyond it the whole stream goes to a file and memory keeps only its first and last parts.
// Small runs never touch the disk, so their results are exactly what they were. Writes are
// synchronous: the follower fetches the next objects only after these returned, which is the
// backpressure (nothing queues in memory when the disk is slower than S3). A file that cannot be
// written (disk full, folder not writable) costs the middle of the output, said once, never the run.
import { closeSync, lstatSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OutputStream } from './api';
import { OUTPUT_KEEP_DAYS, OUTPUT_MEMORY_BYTES } from './defaults';

export interface OutputStoreOptions {
  /** Folder that holds one folder per run: `<dir>/<commandId>/<instanceId>.<stream>`. */
  dir: string;
  /** Bytes one stream keeps in memory (its first half and last half once it is saved to a file). */
  memoryBytes: number;
}

export function defaultOutputStoreOptions(): OutputStoreOptions {
  return { dir: join(tmpdir(), 'ec2-runner-output'), memoryBytes: OUTPUT_MEMORY_BYTES };
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * Why `dir` is not a private folder of this user, or undefined when it is. The default sits in the shared
 * temp folder, where another user could have made it first (or made it a link to a folder of theirs) to
 * read or swap the output saved there; such a folder is neither written to nor tidied.
 */
export function notPrivateFolder(dir: string): string | undefined {
  const info = lstatSync(dir);
  if (!info.isDirectory()) return `${dir} is not a folder (a link or a file)`;
  if (process.getuid && info.uid !== process.getuid()) return `${dir} belongs to another user`;
  if (info.mode & 0o002) return `${dir} is writable by every user`;
  return undefined;
}

/** Ids come from SSM or S3 keys: only these characters reach a file name. */
function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 100) || '_';
}

export class StreamStore {
  private chunks: Buffer[] = [];
  /** Bytes in `chunks`. */
  private held = 0;
  private total = 0;
  private head?: Buffer;
  private fd?: number;
  private spilled = false;
  private savedPath?: string;
  private failure?: string;

  constructor(
    private readonly path: string,
    private readonly memoryBytes: number,
    /** The folder holding the file's folder, checked as private too (RunOutputStores' `dir`). */
    private readonly root?: string,
  ) {}

  get size(): number {
    return this.total;
  }

  /** Bytes this stream holds in memory now (bounded by about 1.5 times the budget plus one chunk). */
  get memoryHeld(): number {
    return this.spilled ? this.head!.byteLength + this.held : this.held;
  }

  /** The file holding the whole stream; undefined while it fits in memory or when it could not be written. */
  get file(): string | undefined {
    return this.failure ? undefined : this.savedPath;
  }

  /** Why the whole stream could not be saved (said once in the result). */
  get problem(): string | undefined {
    return this.failure;
  }

  append(data: Uint8Array): void {
    if (data.byteLength === 0) return;
    const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    this.total += buffer.byteLength;
    this.chunks.push(buffer);
    this.held += buffer.byteLength;
    if (!this.spilled && this.total > this.memoryBytes) this.spill();
    else if (this.spilled) this.write(buffer);
    if (this.spilled) this.keepTail();
  }

  /** The whole stream when it fits in memory (undefined once it did not). */
  bytes(): Buffer | undefined {
    return this.spilled ? undefined : Buffer.concat(this.chunks, this.held);
  }

  /** The stream as text: whole, or its first and last parts around a line saying where the rest is. */
  text(): string {
    const whole = this.bytes();
    if (whole) return utf8.decode(whole);
    const tail = Buffer.concat(this.chunks, this.held).subarray(Math.max(0, this.held - this.tailBytes));
    const omitted = this.total - this.head!.byteLength - tail.byteLength;
    const where = this.file ? `the whole output is in ${this.file}` : `it could not be saved: ${this.failure}`;
    const marker = `\n[ec2-runner: ${omitted} bytes of ${this.total} not kept in memory; ${where}]\n`;
    return utf8.decode(this.head) + marker + utf8.decode(tail);
  }

  close(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch {
      // Nothing more is written to it.
    }
    this.fd = undefined;
  }

  private get headBytes(): number {
    return Math.floor(this.memoryBytes / 2);
  }

  private get tailBytes(): number {
    return this.memoryBytes - this.headBytes;
  }

  /** Over the budget: the head stays in memory, everything so far goes to the file. */
  private spill(): void {
    const all = Buffer.concat(this.chunks, this.held);
    this.head = Buffer.from(all.subarray(0, this.headBytes));
    this.chunks = [all];
    this.spilled = true;
    this.savedPath = this.path;
    try {
      const folder = join(this.path, '..');
      mkdirSync(folder, { recursive: true, mode: 0o700 });
      const problem = (this.root && notPrivateFolder(this.root)) ?? notPrivateFolder(folder);
      if (problem) throw new Error(problem);
      // `wx`: never follow or reuse a file someone else put there; 0600: output may hold secrets.
      this.fd = openSync(this.path, 'wx', 0o600);
    } catch (error) {
      this.fail(error);
      return;
    }
    this.write(all);
  }

  private write(buffer: Buffer): void {
    if (this.fd === undefined) return;
    try {
      for (let at = 0; at < buffer.byteLength;) at += writeSync(this.fd, buffer, at, buffer.byteLength - at);
    } catch (error) {
      this.fail(error);
    }
  }

  private fail(error: unknown): void {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    this.failure =
      `the output beyond ${this.memoryBytes} bytes could not be saved to ${this.path} (${reason}); ` +
      `its first and last parts are kept`;
    this.close();
  }

  /** Drops what is older than the last `tailBytes` (keeping whole chunks, so no copy per append). */
  private keepTail(): void {
    while (this.chunks.length > 1 && this.held - this.chunks[0].byteLength >= this.tailBytes) {
      this.held -= this.chunks.shift()!.byteLength;
    }
    const first = this.chunks[0];
    if (this.chunks.length === 1 && first.byteLength > this.tailBytes * 2) {
      this.chunks[0] = Buffer.from(first.subarray(first.byteLength - this.tailBytes));
      this.held = this.chunks[0].byteLength;
    }
  }
}

/** A run's output stores: one per instance and stream, their files under `<dir>/<commandId>/`. */
export class RunOutputStores {
  private pruned = false;

  constructor(
    private readonly commandId: string,
    private readonly options: OutputStoreOptions = defaultOutputStoreOptions(),
  ) {}

  create(instanceId: string): Record<OutputStream, StreamStore> {
    const folder = join(this.options.dir, safeName(this.commandId));
    const store = (stream: OutputStream) =>
      new StreamStore(join(folder, `${safeName(instanceId)}.${stream}`), this.options.memoryBytes, this.options.dir);
    this.pruneOnce();
    return { stdout: store('stdout'), stderr: store('stderr') };
  }

  /** Best effort: removes other runs' folders older than OUTPUT_KEEP_DAYS. */
  private pruneOnce(): void {
    if (this.pruned) return;
    this.pruned = true;
    const cutoff = Date.now() - OUTPUT_KEEP_DAYS * 24 * 3600 * 1000;
    try {
      if (notPrivateFolder(this.options.dir)) return;
      for (const name of readdirSync(this.options.dir)) {
        const path = join(this.options.dir, name);
        const info = lstatSync(path);
        if (info.isDirectory() && info.mtimeMs < cutoff) rmSync(path, { recursive: true, force: true });
      }
    } catch {
      // No folder yet, or not ours to tidy.
    }
  }
}
