// Fuzzing what an instance sends back (seeded, deterministic; cases in test/support/fuzzCases.ts):
// mutated artifact tars through the reader and the writer, mutated live-output keys through the
// chunk-key parser, mutated frame objects through the decoder and InstanceProgress. Each case must end
// within a second with a result or the expected error type, nothing may be written outside the chosen
// folder, nothing else may be thrown. Each suite runs in a worker thread with a watchdog, so a case
// stuck in a synchronous loop fails the test instead of freezing it. EC2_RUNNER_FUZZ_COUNT (default
// 10,000 per suite) and EC2_RUNNER_FUZZ_SEED change the run; a failure names its seed and case.
import { describe, test } from 'node:test';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

const COUNT = Number(process.env.EC2_RUNNER_FUZZ_COUNT ?? 10_000);
const SEED = Number(process.env.EC2_RUNNER_FUZZ_SEED ?? 13);
/**
 * A step without a heartbeat for this long is a hang (the per-case limit is 1 s; the margin absorbs a loaded machine's
 * pauses).
 */
const HANG_MS = 5_000;
/** Loading the worker (the cases' modules) before its first heartbeat: seconds on a loaded machine, not a hang. */
const LOAD_MS = 60_000;

function runSuite(suite: 'tars' | 'keys' | 'frames'): Promise<string> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(path.join(__dirname, '..', 'support', 'fuzzWorker.js'), {
      workerData: { suite, seed: SEED, count: COUNT },
    });
    let steps = 0;
    let lastBeat = Date.now();
    const watchdog = setInterval(() => {
      if (Date.now() - lastBeat < (steps === 0 ? LOAD_MS : HANG_MS)) return;
      clearInterval(watchdog);
      void worker.terminate();
      reject(new Error(`${suite} fuzz (seed ${SEED}) hung: no progress for ${HANG_MS} ms after step ${steps}`));
    }, 250);
    worker.on('message', (message: { kind: string; steps?: number; summary?: string; message?: string }) => {
      lastBeat = Date.now();
      if (message.kind === 'tick') steps = message.steps!;
      if (message.kind === 'done' || message.kind === 'failed') {
        clearInterval(watchdog);
        void worker.terminate();
        if (message.kind === 'done') resolve(message.summary!);
        else reject(new Error(message.message));
      }
    });
    worker.on('error', (error) => {
      clearInterval(watchdog);
      reject(error);
    });
  });
}

describe(`fuzz (seed ${SEED}, ${COUNT} cases per suite)`, () => {
  test('artifact tars: each parse ends within a second with entries or a TarFormatError; writes stay in the folder', async () => {
    console.log(`# ${await runSuite('tars')}`);
  });

  test('live-output keys: a parsed key always names a real instance id that stays one path part', async () => {
    console.log(`# ${await runSuite('keys')}`);
  });

  test('live-output objects: decoding and applying to an instance ends with frames or CorruptFramesError, never a crash', async () => {
    console.log(`# ${await runSuite('frames')}`);
  });
});
