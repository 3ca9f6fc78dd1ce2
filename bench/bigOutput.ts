// Big output, bounded memory: `ec2-runner exec` of a command printing `bytes` of known text, its
// stdout redirected to a file; peak RSS of the CLI process (GNU time's %M, the child's own maxRSS)
// and whether the file is byte-identical to what was printed. Then the extension's path without VS
// Code (bigOutputClient.ts): the same run through the engine and the extension's output-channel
// logic, its peak RSS, and whether the file the engine saved the whole output to is byte-identical.
// `peakRssMb` is the larger of the two, `identical` true only when both are.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, openSync, closeSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sandboxEnvironment } from '../src/sandbox/environment';
import type { BigOutputClientReport } from './bigOutputClient';
import { runJsonChild } from './childJson';
import { REPO_ROOT } from './engineModule';
import { SandboxProcess } from './sandboxProcess';
import { progress, round } from './stats';

export interface BigOutputResult {
  bytes: number;
  peakRssMb: number;
  identical: boolean;
  exitCode: number | null;
  wallMs: number;
  cli: { peakRssMb: number; identical: boolean };
  extension: { peakRssMb: number; identical: boolean; channelMb: number; wallMs: number };
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

/** A cheap generator: `yes` and `head` cost the sandbox's instance almost no CPU. */
const generator = (bytes: number) => `yes ${LINE} | head -c ${bytes}`;

async function measureExtensionPath(
  sandbox: SandboxProcess,
  dir: string,
  bytes: number,
  expected: string,
): Promise<BigOutputResult['extension']> {
  const startedAt = Date.now();
  const settings = { ...sandbox.engineSettings, outputDir: join(dir, 'extension') };
  const report = await runJsonChild<BigOutputClientReport>(
    join(__dirname, 'bigOutputClient.js'),
    [JSON.stringify(settings), sandbox.onlineInstanceIds[0], generator(bytes)],
    3_600_000,
  );
  const wallMs = Date.now() - startedAt;
  const file = report.stdoutFile;
  const identical =
    report.status === 'Success' && !!file && statSync(file).size === bytes && (await sha256OfFile(file)) === expected;
  const result = {
    peakRssMb: report.maxRssMb,
    identical,
    channelMb: round(report.channelChars / 1024 ** 2),
    wallMs,
  };
  progress(
    `big output ${bytes} bytes, extension path: peak RSS ${result.peakRssMb} MB, saved output identical: ` +
      `${identical}, output channel ${result.channelMb} MB, ${wallMs} ms`,
  );
  return result;
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
          generator(bytes),
        ],
        {
          stdio: ['ignore', out, 'inherit'],
          env: {
            ...process.env,
            TMPDIR: dir, // where the CLI's engine saves the output it does not keep in memory
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
    const expected = expectedSha256(bytes);
    const identical = statSync(outFile).size === bytes && (await sha256OfFile(outFile)) === expected;
    rmSync(outFile);
    progress(
      `big output ${bytes} bytes: CLI peak RSS ${peakRssMb} MB, identical on disk: ${identical}, exit ` +
        `${exitCode}, ${wallMs} ms`,
    );
    const extension = await measureExtensionPath(sandbox, dir, bytes, expected);
    return {
      bytes,
      peakRssMb: Math.max(peakRssMb, extension.peakRssMb),
      identical: identical && extension.identical,
      exitCode,
      wallMs,
      cli: { peakRssMb, identical },
      extension,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await sandbox.stop();
  }
}
