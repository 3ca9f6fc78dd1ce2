// Worker thread for the fuzz suites: runs one suite, posting a heartbeat before each step so the
// parent can tell a hang (no heartbeat for a second) from slow progress.
import { parentPort, workerData } from 'node:worker_threads';
import { fuzzFrames, fuzzKeys, fuzzTars, onTick } from './fuzzCases';

const { suite, seed, count } = workerData as { suite: 'tars' | 'keys' | 'frames'; seed: number; count: number };
const suites = { tars: fuzzTars, keys: fuzzKeys, frames: fuzzFrames };
let steps = 0;
onTick(() => parentPort!.postMessage({ kind: 'tick', steps: ++steps }));
suites[suite](seed, count).then(
  (summary) => parentPort!.postMessage({ kind: 'done', summary }),
  (error: unknown) => parentPort!.postMessage({ kind: 'failed', message: (error as Error)?.stack ?? String(error) }),
);
