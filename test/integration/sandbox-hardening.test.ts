// The sandbox runs real commands on this machine and listens on 127.0.0.1, where any local process or
// web page can reach it. Played as such a client against `ec2-runner sandbox` in its own process
// (so its memory can be measured): an unsigned 300 MB PUT and an unsigned 300 MB form POST are
// refused without being read, a slowloris connection is closed, and the data dir and staged objects
// are private even under umask 000.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SERVER_LIMITS } from '../../src/sandbox/limits';
import type { SandboxInfo } from '../../src/sandbox/index';
import { pollUntil } from '../support/sandbox';
import { makeTempDir } from '../support/tempDirs';

const CLI = join(__dirname, '..', '..', '..', 'dist', 'cli.js');
const MB = 1024 * 1024;

function status(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(match, `${field} of ${pid}`);
  return Number(match[1]) * 1024;
}

/** Sends `totalBytes` of body in 1 MB writes (never more in memory here) until the server answers or closes. */
function flood(
  url: URL,
  method: string,
  headers: Record<string, string>,
  totalBytes: number,
  first?: Buffer,
): Promise<{ status?: number; sent: number; error?: string }> {
  return new Promise((resolve) => {
    const chunk = Buffer.alloc(MB, 0x61);
    let sent = 0;
    let done = false;
    const finish = (result: { status?: number; error?: string }) => {
      if (done) return;
      done = true;
      resolve({ ...result, sent });
    };
    const req = request(url, { method, headers: { ...headers, 'content-length': String(totalBytes) } }, (res) => {
      res.resume();
      finish({ status: res.statusCode });
    });
    req.on('error', (error) => finish({ error: (error as NodeJS.ErrnoException).code ?? error.message }));
    const pump = () => {
      while (!done && sent < totalBytes) {
        const piece = sent === 0 && first ? first : chunk.subarray(0, Math.min(MB, totalBytes - sent));
        sent += piece.length;
        if (!req.write(piece)) return void req.once('drain', pump);
      }
      if (!done) req.end();
    };
    pump();
  });
}

describe('sandbox hardening (a local client as the attacker)', () => {
  let child: ChildProcess;
  let info: SandboxInfo;
  let dataDir: string;
  before(async () => {
    const dir = makeTempDir('ec2-runner-hardening-');
    dataDir = join(dir, 'data');
    const infoFile = join(dir, 'info.json');
    // umask 000: modes must not depend on a careful umask.
    child = spawn(
      'sh',
      [
        '-c',
        'umask 000; exec "$0" "$@"',
        process.execPath,
        CLI,
        'sandbox',
        '--data-dir',
        dataDir,
        '--info-file',
        infoFile,
        '--instances',
        '1',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    info = await pollUntil(
      'the sandbox info file',
      () => (existsSync(infoFile) ? (JSON.parse(readFileSync(infoFile, 'utf8')) as SandboxInfo) : undefined),
      60_000,
    );
  });
  after(() => {
    child?.kill('SIGTERM');
  });

  async function memoryGrowthDuring(action: () => Promise<unknown>): Promise<number> {
    const pid = child.pid!;
    await new Promise((resolve) => setTimeout(resolve, 200));
    const before = status(pid, 'VmRSS');
    writeFileSync(`/proc/${pid}/clear_refs`, '5'); // resets the peak (VmHWM) to the current RSS
    await action();
    return status(pid, 'VmHWM') - before;
  }

  test('an unsigned 300 MB PUT is answered 403 without being read: the sandbox grows by a few MB at most', async () => {
    let result: Awaited<ReturnType<typeof flood>> | undefined;
    const growth = await memoryGrowthDuring(async () => {
      result = await flood(
        new URL(`${info.endpoint}/${info.bucket}/ec2-runner/big`),
        'PUT',
        { 'content-type': 'application/octet-stream' },
        300 * MB,
      );
    });
    // The 403, or the connection closed under a client still writing: closing a socket with unread data resets
    // it, and the reset can reach the client before it has read the 403 (seen once in npm test), as for the POST.
    assert.ok([403, 'EPIPE', 'ECONNRESET'].includes(result!.status ?? result!.error!), JSON.stringify(result));
    assert.ok(result!.sent < 300 * MB, `the whole body was sent (${result!.sent} bytes): the sandbox kept reading`);
    assert.ok(growth < 8 * MB, `the sandbox grew by ${(growth / MB).toFixed(1)} MB`);
  });

  test('an unsigned 300 MB form POST is refused after its first fields: the sandbox grows by a few MB at most', async () => {
    const boundary = 'xxBOUNDARYxx';
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; ` +
        `name="key"\r\n\r\nec2-runner/runs/x/00000000\r\n--${boundary}\r\nContent-Disposition: form-data; ` +
        `name="file"; filename="f"\r\n\r\n`,
    );
    let result: Awaited<ReturnType<typeof flood>> | undefined;
    const growth = await memoryGrowthDuring(async () => {
      result = await flood(
        new URL(`${info.endpoint}/${info.bucket}`),
        'POST',
        { 'content-type': `multipart/form-data; boundary=${boundary}` },
        300 * MB,
        head,
      );
    });
    // The sandbox answers 403 and closes the connection; a client still writing may see the close
    // (EPIPE/ECONNRESET) before it reads the answer. Either way the body was not read.
    assert.ok([403, 'EPIPE', 'ECONNRESET'].includes(result!.status ?? result!.error!), JSON.stringify(result));
    assert.ok(result!.sent < 300 * MB, `the whole body was sent (${result!.sent} bytes)`);
    assert.ok(growth < 8 * MB, `the sandbox grew by ${(growth / MB).toFixed(1)} MB`);
  });

  test('a slowloris connection (headers one byte at a time) is closed', async () => {
    const started = Date.now();
    const socket = connect(Number(new URL(info.endpoint).port), '127.0.0.1');
    const closedAfter = await new Promise<number>((resolve, reject) => {
      const header = `GET /${info.bucket} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${'a'.repeat(1000)}`;
      let i = 0;
      const drip = setInterval(() => {
        if (i < header.length && !socket.destroyed) socket.write(header[i++]);
      }, 200);
      socket.on('close', () => {
        clearInterval(drip);
        resolve(Date.now() - started);
      });
      socket.on('error', () => undefined);
      setTimeout(() => reject(new Error('the slow connection is still open after 40 s')), 40_000).unref();
    });
    // Closed by the headers timeout (checked every second), with a margin for a loaded machine.
    assert.ok(
      closedAfter >= SERVER_LIMITS.headersTimeoutMs - 1_000 && closedAfter < SERVER_LIMITS.headersTimeoutMs + 15_000,
      `closed after ${closedAfter} ms`,
    );
  });

  test('data dir 0700, buckets 0700 and staged objects 0600 even under umask 000', async () => {
    const s3 = new S3Client({
      region: info.region,
      endpoint: info.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey },
    });
    try {
      await s3.send(
        new PutObjectCommand({ Bucket: info.bucket, Key: 'ec2-runner/staged/x/script.py', Body: 'print(1)\n' }),
      );
    } finally {
      s3.destroy();
    }
    const mode = (path: string) => statSync(path).mode & 0o777;
    assert.equal(mode(dataDir), 0o700);
    assert.equal(mode(join(dataDir, 's3')), 0o700);
    const objects = join(dataDir, 's3', info.bucket, 'objects');
    assert.equal(mode(join(dataDir, 's3', info.bucket)), 0o700);
    const files = readdirSync(objects);
    assert.ok(files.some((f) => f.endsWith('.data')) && files.some((f) => f.endsWith('.json')), files.join(', '));
    for (const file of files) assert.equal(mode(join(objects, file)), 0o600, file);
    assert.equal(mode(join(dataDir, 's3', info.bucket, 'bucket.json')), 0o600);
  });
});
