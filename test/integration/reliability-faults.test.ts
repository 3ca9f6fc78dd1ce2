// Fault matrix, API side: the real engine against the sandbox while it throttles, fails, resets and slows down.
// Every run must end with the right status and exit code and the output of the same script run
// locally, byte for byte (or, where the live channel failed, SSM's output with a clear note).
import { test } from 'node:test';
import { chattyPython, describeWithFaultBench } from '../soak/referenceRuns';

describeWithFaultBench('reliability: SSM and S3 faults during runs', (bench) => {
  test('SSM throttled at 2 requests/s: the adaptive retry absorbs it, nothing is lost', async () => {
    bench.fx.sandbox.configure({ throttleRps: 2 });
    await Promise.all([
      bench.assertMatchesLocal(chattyPython('throttle-a', 3), bench.online[0]),
      bench.assertMatchesLocal(chattyPython('throttle-b', 0), bench.online[1]),
    ]);
  });

  test('10% of all calls (SSM, S3, presigned GET/POST) answered 500 or reset', async () => {
    bench.fx.sandbox.configure({ faultRate: 0.1 });
    await Promise.all([
      bench.assertMatchesLocal(chattyPython('faults-a', 0, { seconds: 1 }), bench.online[0]),
      bench.assertMatchesLocal(chattyPython('faults-b', 7), bench.online[1]),
    ]);
  });

  test('connection resets and 5xx at 30%: still complete (the SDK and the wrapper retry)', async () => {
    bench.fx.sandbox.configure({ faultRate: 0.3 });
    await bench.assertMatchesLocal(chattyPython('faults-heavy', 2, { lines: 8 }));
  });

  test('a 2 s latency spike on every API mid-run', async () => {
    let restore: NodeJS.Timeout | undefined;
    await bench.assertMatchesLocal(chattyPython('latency', 4, { seconds: 2 }), bench.online[0], () => {
      bench.fx.sandbox.configure({ latencyMs: 2000 });
      restore = setTimeout(() => bench.fx.sandbox.configure({ latencyMs: 0 }), 3000);
    });
    clearTimeout(restore);
  });
});
