// A large fleet printing continuously under S3's request-rate limits (the sandbox at AWS's
// 3,500 PUT/POST and 5,500 GET/LIST per second per prefix; the whole run shares one prefix): no
// SlowDown, no byte lost, every exit code reported. Cheap scripts (sh, one line a second) so that
// 2 CPUs can host them; the instance-side wrapper is still one Python process per instance, so the
// wall time over the script is mostly this machine starting hundreds of them one after another.
import { loadEngine, withTimeout } from './engineModule';
import { SandboxProcess } from './sandboxProcess';
import { progress, round } from './stats';

export const AWS_S3_RATES = { s3PutRps: 3_500, s3GetRps: 5_500 } as const;

export interface FleetRatesResult {
  instances: number;
  slowDowns: number;
  lostBytes: number;
  /** Instances whose output did not come from the live channel, by the engine's reason. */
  notLive: Record<string, number>;
  /** How many instances those are (their output came from SSM's; their bytes are still compared one for one). */
  endsFromSsm: number;
  exitCodesReported: number;
  wallOverScriptMs: number;
  wallMs: number;
  scriptSeconds: number;
  s3Requests: Record<string, number>;
}

/** The instances whose output came from SSM instead of the live channel, by reason ('' when none). */
export function notLiveText(notLive: Record<string, number>): string {
  const entries = Object.entries(notLive);
  return entries.length === 0 ? '' : `; not live: ${entries.map(([reason, n]) => `${n} × ${reason}`).join('; ')}`;
}

/** A reason without what differs from instance to instance (ids), so that equal reasons are counted together. */
function sameForAll(reason: string): string {
  return reason.replace(/\bm?i-[0-9a-f]{8,17}\b/g, 'i-…').replace(/\b[0-9a-f]{8}-[0-9a-f-]{27}\b/g, '<command>');
}

function linesCommand(seconds: number): string {
  // One fork a line (sleep): 1,000 instances' scripts share this machine's 2 CPUs with their wrappers.
  return `h=$(hostname); i=0; while [ $i -lt ${seconds} ]; do echo "line $i of $h"; i=$((i+1)); sleep 1; done`;
}

export function expectedLines(seconds: number): RegExp {
  return new RegExp(`^${Array.from({ length: seconds }, (_, i) => `line ${i} of [^\\n]+\\n`).join('')}$`);
}

/**
 * The bytes of an instance's output that its user did not get, in order, through onOutput (live, or SSM's output
 * handed out after it). `stdout` is the run's final output: when it is not the script's lines, they are unknown and at
 * least one byte counts as lost. Anything delivered beyond or instead of the expected bytes counts too.
 */
export function bytesLost(stdout: string, delivered: Buffer, pattern: RegExp): number {
  if (!pattern.test(stdout)) return Math.max(1, Buffer.byteLength(stdout) - delivered.byteLength);
  const expected = Buffer.from(stdout, 'utf8');
  if (delivered.equals(expected)) return 0;
  let shared = 0;
  while (shared < expected.length && shared < delivered.length && expected[shared] === delivered[shared]) shared++;
  return Math.max(1, expected.length - shared);
}

export async function measureFleetRates(instances: number, scriptSeconds: number): Promise<FleetRatesResult> {
  const sandbox = await SandboxProcess.start({ instances: instances + 1, ...AWS_S3_RATES });
  const engine = loadEngine().createEngine(sandbox.engineSettings);
  try {
    await engine.identity();
    await sandbox.resetStats();
    const startedAt = Date.now();
    const handle = await engine.start({
      source: { kind: 'command', command: linesCommand(scriptSeconds) },
      target: { kind: 'tags', tags: [{ key: 'Role', value: 'worker' }] },
      maxConcurrency: '100%',
    });
    const received = new Map<string, Uint8Array[]>();
    handle.onOutput((c) => {
      if (c.stream !== 'stdout') return;
      const chunks = received.get(c.instanceId) ?? [];
      chunks.push(c.data);
      received.set(c.instanceId, chunks);
    });
    const result = await withTimeout(handle.wait(), scriptSeconds * 1000 + 900_000, `fleet of ${instances} printing`);
    const wallMs = Date.now() - startedAt;
    const { counts } = await sandbox.stats();
    const pattern = expectedLines(scriptSeconds);
    let lostBytes = 0;
    const notLive: Record<string, number> = {};
    for (const invocation of result.invocations) {
      const delivered = Buffer.concat(received.get(invocation.instanceId) ?? []);
      if (invocation.outputSource !== 'live') {
        // The wrapper's own notes (its stderr lines) say why the instance side gave up on the channel, if it did.
        const wrapperNote = invocation.stderr.split('\n').find((line) => line.startsWith('ec2-runner: '));
        const reason = sameForAll(
          `${invocation.outputSource}: ${invocation.reason ?? 'no reason given'}` +
            (wrapperNote ? ` (the wrapper: ${wrapperNote.slice('ec2-runner: '.length)})` : ''),
        );
        notLive[reason] = (notLive[reason] ?? 0) + 1;
      }
      lostBytes += bytesLost(invocation.stdout, delivered, pattern);
    }
    const missing = instances - result.invocations.length;
    const res: FleetRatesResult = {
      instances,
      slowDowns: Object.entries(counts)
        .filter(([k]) => k.startsWith('slowDown:'))
        .reduce((n, [, v]) => n + v, 0),
      lostBytes: lostBytes + (missing > 0 ? missing * scriptSeconds * 20 : 0),
      notLive,
      endsFromSsm: result.invocations.filter((i) => i.outputSource !== 'live').length,
      exitCodesReported: result.invocations.filter((i) => i.exitCode === 0).length,
      wallOverScriptMs: round(wallMs - scriptSeconds * 1000, 0),
      wallMs,
      scriptSeconds,
      s3Requests: Object.fromEntries(
        Object.entries(counts).filter(([k]) => k.startsWith('s3:') || k.startsWith('slowDown:')),
      ),
    };
    progress(
      `fleet of ${instances} under S3 rate limits: ${res.slowDowns} SlowDown, ${res.lostBytes} bytes lost, ` +
        `${res.exitCodesReported}/${instances} exit codes, ${res.endsFromSsm} ended from SSM's output, ` +
        `wall over script ${res.wallOverScriptMs} ms` +
        notLiveText(notLive),
    );
    return res;
  } finally {
    engine.dispose();
    await sandbox.stop();
  }
}
