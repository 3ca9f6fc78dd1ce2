// Big output, bounded memory: `ec2-runner exec` of a command printing `bytes` of known text, its
// stdout redirected to a file; peak RSS of the CLI process (GNU time's %M, the child's own maxRSS)
// and whether the file is byte-identical to what was printed.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, openSync, closeSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sandboxEnvironment } from '../src/sandbox/environment';
import { REPO_ROOT } from './engineModule';
import { SandboxProcess } from './sandboxProcess';
import { progress, round } from './stats';

export interface BigOutputResult {
  bytes: number;
  peakRssMb: number;
  identical: boolean;
  exitCode: number | null;
  wallMs: number;
}

const LINE = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** The sha256 of the first `bytes` of `yes LINE` (what the command prints). */
function expectedSha256(bytes: number): string {
  const hash = createHash('sha256');
  const block = Buffer.from(`${LINE}\n`.repeat(16_384));
  let left = bytes;
  while (left > 0) {
    const part = block.subarray(0, Math.min(left, block.length));
    hash.update(part);
    left -= part.length;
  }
  return hash.digest('hex');
}

function sha256OfFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => hash.update(d))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}

export async function measureBigOutput(bytes: number): Promise<BigOutputResult> {
  const sandbox = await SandboxProcess.start({ instances: 1 });
  const dir = mkdtempSync(join(tmpdir(), 'ec2-runner-bench-big-'));
  try {
    const outFile = join(dir, 'stdout');
    const rssFile = join(dir, 'rss');
    const out = openSync(outFile, 'w');
    const startedAt = Date.now();
    const exitCode = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(
        '/usr/bin/time',
        [
          '-f',
          '%M',
          '-o',
          rssFile,
          process.execPath,
          join(REPO_ROOT, 'dist', 'cli.js'),
          'exec',
          '--instance',
          sandbox.onlineInstanceIds[0],
          '--timeout',
          '3600',
          '--',
          `yes ${LINE} | head -c ${bytes}`,
        ],
        {
          stdio: ['ignore', out, 'inherit'],
          env: {
            ...process.env,
            ...sandboxEnvironment(sandbox.info),
            AWS_CONFIG_FILE: '/dev/null',
            AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
          },
        },
      );
      child.on('error', reject);
      child.on('close', resolve);
    });
    closeSync(out);
    const wallMs = Date.now() - startedAt;
    const peakRssMb = round(Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop()) / 1024);
    const identical = statSync(outFile).size === bytes && (await sha256OfFile(outFile)) === expectedSha256(bytes);
    const result = { bytes, peakRssMb, identical, exitCode, wallMs };
    progress(
      `big output ${bytes} bytes: CLI peak RSS ${peakRssMb} MB, identical on disk: ${identical}, exit ` +
        `${exitCode}, ${wallMs} ms`,
    );
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await sandbox.stop();
  }
}
