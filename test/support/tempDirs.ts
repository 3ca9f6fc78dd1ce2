// Temporary folders a test file makes, removed when its process exits. Mutation testing runs these
// files thousands of times, and folders left behind filled the machine's temp folder.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

function removeAll(): void {
  for (const dir of made.splice(0)) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // a folder a test made unremovable on purpose stays; nothing else depends on it
    }
  }
}

/** A new folder under the OS temp folder, named `prefix` + random characters. */
export function makeTempDir(prefix: string): string {
  if (made.length === 0) process.once('exit', removeAll);
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
