// Staging: bytes uploaded when an unchanged 5 MB file is run again. The first run uploads it;
// the rerun comes from a fresh engine (as a second CLI invocation would), so nothing but the
// content-addressed key can tell it is already there. Bytes = S3 PutObject request bodies seen by
// the sandbox during the rerun.
import { loadEngine, withTimeout } from './engineModule';
import { SandboxProcess } from './sandboxProcess';
import { progress } from './stats';

export const STAGED_FILE_BYTES = 5 * 1024 * 1024;

export interface StagingResult {
  fileBytes: number;
  firstRunUploadBytes: number;
  rerunUploadBytes: number;
  rerunPutObjectCalls: number;
}

/** A valid shell script padded with comment lines to the exact size (sh stops reading at `exit`). */
export function paddedScript(totalBytes: number): Uint8Array {
  const head = '#!/bin/sh\necho staged-ok\nexit 0\n';
  const line = `# ${'x'.repeat(97)}\n`;
  let body = head;
  while (body.length + line.length <= totalBytes) body += line;
  body += '#'.repeat(Math.max(0, totalBytes - body.length - 1)) + '\n';
  return Buffer.from(body.slice(0, totalBytes), 'utf8');
}

export async function measureStaging(): Promise<StagingResult> {
  const sandbox = await SandboxProcess.start({ instances: 2 });
  const content = paddedScript(STAGED_FILE_BYTES);
  const instanceId = sandbox.onlineInstanceIds[0];
  const runOnce = async () => {
    const engine = loadEngine().createEngine(sandbox.engineSettings);
    try {
      const handle = await engine.start({
        source: { kind: 'file', fileName: 'payload.sh', content },
        target: { kind: 'instances', instanceIds: [instanceId] },
      });
      const result = await withTimeout(handle.wait(), 120_000, 'staged file run');
      const invocation = result.invocations[0];
      if (invocation.status !== 'Success' || !invocation.stdout.includes('staged-ok')) {
        throw new Error(
          `staged 5 MB script ended ${invocation.status}: ${invocation.reason ?? invocation.stderr.slice(-200)}`,
        );
      }
    } finally {
      engine.dispose();
    }
  };
  try {
    await sandbox.resetStats();
    await runOnce();
    const first = await sandbox.stats();
    await sandbox.resetStats();
    await runOnce();
    const rerun = await sandbox.stats();
    const result: StagingResult = {
      fileBytes: content.byteLength,
      firstRunUploadBytes: first.putObjectBytes,
      rerunUploadBytes: rerun.putObjectBytes,
      rerunPutObjectCalls: rerun.counts['s3:PutObject'] ?? 0,
    };
    progress(`staging: first run uploaded ${result.firstRunUploadBytes} bytes, rerun ${result.rerunUploadBytes} bytes`);
    return result;
  } finally {
    await sandbox.stop();
  }
}
