// The wrapper's behaviour suite, run over any transport (the loopback stand-in or the sandbox's S3):
// the generated command text runs with sh on this machine, as the SSM agent would run it.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HOSTILE_ARGS, MARK_RAN, type RemoteCase, type RemoteTransport, runRemote, waitFor } from './remoteHarness';
import { assembleLiveOutput, realPythonDir } from './remoteRun';

/** PATH with the real python3 first (not a version-manager shim, which costs ~0.3 s per start). */
export const PYTHON_FIRST_PATH = `${realPythonDir()}:${process.env.PATH}`;

const hexOf = (text: string) => Buffer.from(text, 'utf8').toString('hex');
const PRINT_ARGV_HEX =
  `${MARK_RAN}import json, sys\n` + 'sys.stdout.write(json.dumps([os.fsencode(a).hex() for a in sys.argv[1:]]))\n';

/** mulberry32: a tiny seeded generator so a failing random case can be replayed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CHARACTER_POOLS: Array<[number, number]> = [
  [0x01, 0x1f], // control characters (no NUL)
  [0x20, 0x7e], // printable ASCII: quotes, $, backticks, backslashes...
  [0x7f, 0xff], // DEL, C1 controls, Latin-1
  [0x0100, 0xd7ff], // the rest of the BMP below the surrogates
  [0xe000, 0xffff], // private use, specials, noncharacters
  [0x10000, 0x10ffff], // astral planes (surrogate pairs in JS)
];

function randomArgument(random: () => number): string {
  const length = Math.floor(random() * 11);
  let text = '';
  for (let i = 0; i < length; i++) {
    const [low, high] = CHARACTER_POOLS[Math.floor(random() * CHARACTER_POOLS.length)];
    text += String.fromCodePoint(low + Math.floor(random() * (high - low + 1)));
  }
  return text;
}

export interface WrapperSuiteOptions {
  start(): Promise<{ transport: RemoteTransport; stop(): Promise<void> }>;
  /** Runs of 100 random arguments each. */
  randomArgumentRuns: number;
}

export function describeWrapperSuite(title: string, options: WrapperSuiteOptions): void {
  describe(title, () => {
    let transport: RemoteTransport;
    let stop: () => Promise<void>;
    before(async () => {
      ({ transport, stop } = await options.start());
    });
    after(() => stop());
    const run = (remoteCase: Omit<RemoteCase, 'path'> & { path?: string }) =>
      runRemote(transport, { path: PYTHON_FIRST_PATH, ...remoteCase });

    test('arguments with quotes, spaces, newlines, $(...), backticks, control characters and non-ASCII arrive byte for byte', async () => {
      const outcome = await run({ script: PRINT_ARGV_HEX, args: HOSTILE_ARGS });
      assert.equal(outcome.local.exitCode, 0, outcome.local.stderr.toString());
      assert.deepEqual(JSON.parse(outcome.live.stdout.toString()), HOSTILE_ARGS.map(hexOf));
      assert.deepEqual(outcome.live.exit, { exitCode: 0 });
      assert.deepEqual(outcome.tmpLeftovers, [], 'the temp dir is removed');
    });

    test(`${options.randomArgumentRuns * 100} random argument vectors (any Unicode but NUL) arrive byte for byte`, async () => {
      const seed = Number(process.env.EC2R_ARGS_SEED ?? Date.now() % 1_000_000);
      const random = seededRandom(seed);
      for (let runIndex = 0; runIndex < options.randomArgumentRuns; runIndex++) {
        const args = Array.from({ length: 100 }, () => randomArgument(random));
        const outcome = await run({ script: PRINT_ARGV_HEX, args });
        assert.deepEqual(
          JSON.parse(outcome.live.stdout.toString()),
          args.map(hexOf),
          `seed ${seed} (rerun with EC2R_ARGS_SEED=${seed})`,
        );
      }
    });

    test('the live channel carries start, output, result and exit; SSM output gets the same bytes (tee)', async () => {
      const script =
        `${MARK_RAN}import json, sys\nprint("hello")\nprint("warn", ` +
        `file=sys.stderr)\nopen(os.environ["EC2_RUNNER_RESULT"], "w").write(json.dumps({"answer": ` +
        `42}))\nsys.exit(3)\n`;
      const outcome = await run({ script });
      assert.equal(outcome.local.exitCode, 3);
      assert.deepEqual(outcome.live.exit, { exitCode: 3 });
      assert.equal(outcome.live.stdout.toString(), 'hello\n');
      assert.equal(outcome.live.stderr.toString(), 'warn\n');
      assert.deepEqual(JSON.parse(outcome.live.result!.toString()), { answer: 42 });
      assert.equal(outcome.local.stdout.toString(), 'hello\n');
      assert.equal(outcome.local.stderr.toString(), 'warn\n');
      assert.equal(outcome.live.frames[0].type, 'start');
      assert.equal(typeof outcome.live.start?.pid, 'number');
      assert.equal(outcome.live.frames[outcome.live.frames.length - 1].type, 'exit');
      assert.deepEqual(outcome.live.errors, []);
    });

    test('exit code 0 and a script killed by a signal (128+N, signal in the exit frame)', async () => {
      const ok = await run({ script: 'print("fine")\n' });
      assert.equal(ok.local.exitCode, 0);
      assert.deepEqual(ok.live.exit, { exitCode: 0 });
      const killed = await run({
        script: 'import os, signal, sys\nprint("before")\nsys.stdout.flush()\nos.kill(os.getpid(), signal.SIGKILL)\n',
      });
      assert.equal(killed.local.exitCode, 137);
      assert.deepEqual(killed.live.exit, { exitCode: 137, signal: 9 });
      assert.equal(killed.live.stdout.toString(), 'before\n');
    });

    test('200,000 characters of output and a single 1 MiB line arrive complete', async () => {
      const script =
        'import sys\nfor i in range(2000):\n    print("%05d" % i + "x" * 94)\nsys.stdout.write("y" * 1048576 ' +
        '+ "\\n")\n';
      const expected =
        Array.from({ length: 2000 }, (_, i) => `${String(i).padStart(5, '0')}${'x'.repeat(94)}\n`).join('') +
        `${'y'.repeat(1048576)}\n`;
      const outcome = await run({ script });
      assert.equal(outcome.live.stdout.length, expected.length);
      assert.ok(outcome.live.stdout.equals(Buffer.from(expected)), 'live stdout is byte-identical');
      assert.ok(outcome.local.stdout.equals(Buffer.from(expected)), 'teed stdout is byte-identical');
      assert.ok(outcome.live.objectCount >= 2, 'over 1 MiB is split into several objects');
    });

    test('non-UTF-8 bytes pass through unchanged', async () => {
      const script =
        'import sys\nsys.stdout.buffer.write(bytes(range(256)) * 4)\nsys.stderr.buffer.write(b"\\xff\\xfe\\x00bad")\n';
      const outcome = await run({ script });
      assert.ok(
        outcome.live.stdout.equals(Buffer.concat(Array(4).fill(Buffer.from(Array.from({ length: 256 }, (_, i) => i))))),
      );
      assert.ok(outcome.live.stderr.equals(Buffer.from([0xff, 0xfe, 0x00, 0x62, 0x61, 0x64])));
    });

    test('alternating stdout/stderr writes keep their order', async () => {
      const script =
        'import sys, time\nfor i in range(6):\n    print("out%d" % i)\n    sys.stdout.flush()\n    ' +
        'time.sleep(0.05)\n    print("err%d" % i, file=sys.stderr)\n    sys.stderr.flush()\n    ' +
        'time.sleep(0.05)\n';
      const outcome = await run({ script });
      const expected = Array.from({ length: 6 }, (_, i) => [
        { stream: 'stdout', data: `out${i}\n` },
        { stream: 'stderr', data: `err${i}\n` },
      ]).flat();
      assert.deepEqual(
        outcome.live.streams.map((s) => ({ stream: s.stream, data: s.data.toString() })),
        expected,
      );
    });

    test('output arrives while the script is still running', async () => {
      // The script waits for a file that the test creates only after seeing the first line in "S3".
      const script =
        'import os, sys, time\nprint("ready")\ngo = ' +
        'os.path.join(os.path.dirname(os.environ["EC2R_TEST_MARKER"]), "go")\ndeadline = time.time() + ' +
        '15\nwhile not os.path.exists(go) and time.time() < deadline:\n    time.sleep(0.02)\nprint("done" if ' +
        'os.path.exists(go) else "not live")\n';
      let seenAfterMs = -1;
      const started = Date.now();
      const outcome = await run({
        script,
        whileRunning: async (keyPrefix, markerDir) => {
          await waitFor(
            async () =>
              [...(await transport.objects(keyPrefix)).values()].some((body) => Buffer.from(body).includes('ready')),
            10_000,
            'the first line',
          );
          seenAfterMs = Date.now() - started;
          writeFileSync(join(markerDir, 'go'), '');
        },
      });
      assert.equal(outcome.live.stdout.toString(), 'ready\ndone\n');
      assert.ok(seenAfterMs >= 0 && seenAfterMs < 5000, `first line seen after ${seenAfterMs} ms`);
    });

    test('a checksum mismatch runs nothing and says why', async () => {
      const outcome = await run({
        script: `${MARK_RAN}print("ran")\n`,
        stagedBytes: Buffer.from(`${MARK_RAN}print("tampered")\n`),
      });
      assert.equal(outcome.ran, false);
      assert.equal(outcome.local.exitCode, 125);
      assert.deepEqual(outcome.live.exit, { exitCode: 125 });
      assert.match(outcome.live.errors.join('\n'), /^checksum mismatch: expected [0-9a-f]{64} got [0-9a-f]{64}/);
      assert.match(outcome.local.stderr.toString(), /ec2-runner: checksum mismatch/);
      assert.deepEqual(outcome.tmpLeftovers, []);
    });

    for (const [broken, status] of [
      ['missing', 404],
      ['refused', 403],
    ] as const) {
      test(`a failed download (HTTP ${status}) runs nothing and says why`, async () => {
        const outcome = await run({ script: `${MARK_RAN}print("ran")\n`, broken });
        assert.equal(outcome.ran, false);
        assert.equal(outcome.local.exitCode, 125);
        assert.match(outcome.live.errors.join('\n'), new RegExp(`^download failed: HTTP ${status}`));
        assert.ok(!outcome.local.stderr.toString().includes('X-Amz-Signature'), 'no URL in the message');
        assert.deepEqual(outcome.tmpLeftovers, []);
      });
    }

    test('a missing interpreter runs nothing (exit 127)', async () => {
      const outcome = await run({ script: `${MARK_RAN}\n`, interpreter: 'no-such-python3 -u' });
      assert.equal(outcome.ran, false);
      assert.equal(outcome.local.exitCode, 127);
      assert.deepEqual(outcome.live.exit, { exitCode: 127 });
      assert.match(outcome.live.errors[0], /^interpreter not found: no-such-python3 /);
    });

    test('a missing working directory runs nothing (exit 125)', async () => {
      const outcome = await run({ script: MARK_RAN, workingDirectory: '/nonexistent/ec2-runner-dir' });
      assert.equal(outcome.ran, false);
      assert.equal(outcome.local.exitCode, 125);
      assert.match(outcome.live.errors[0], /^working directory not found: \/nonexistent\/ec2-runner-dir/);
    });

    test('working directory, environment, run id and a file name with spaces and non-ASCII letters', async () => {
      const script =
        'import json, os, sys\nprint(json.dumps({"cwd": os.getcwd(), "file": os.path.basename(__file__), ' +
        '"env": [os.environ.get(k) for k in ("GREETING", "EC2_RUNNER_RUN_ID", "PYTHONUNBUFFERED")], "result": ' +
        'os.environ["EC2_RUNNER_RESULT"]}))\n';
      const workingDirectory = realPythonDir();
      const outcome = await run({
        script,
        fileName: 'my script é.py',
        workingDirectory,
        env: { GREETING: 'héllo "world" $x' },
      });
      const seen = JSON.parse(outcome.live.stdout.toString());
      assert.equal(seen.cwd, workingDirectory);
      assert.equal(seen.file, 'my script é.py');
      assert.deepEqual(seen.env, ['héllo "world" $x', outcome.runId, '1']);
      assert.match(seen.result, /result\.json$/);
    });

    test('the default working directory is a temp dir that is removed afterwards; stdin is at EOF', async () => {
      const script = 'import os, sys\nprint(os.getcwd())\nprint(repr(sys.stdin.read()))\n';
      const outcome = await run({ script });
      const [cwd, stdin] = outcome.live.stdout.toString().trim().split('\n');
      assert.match(cwd, /ec2-runner-/);
      assert.equal(stdin, "''");
      assert.deepEqual(outcome.tmpLeftovers, []);
    });

    test('a shell command runs through sh -c with the same channel', async () => {
      const outcome = await run({
        shellCommand: 'printf "%s\\n" "$EC2_RUNNER_RUN_ID" "$GREETING"; echo oops >&2; exit 4',
        env: { GREETING: "it's $(fine)" },
      });
      assert.equal(outcome.local.exitCode, 4);
      assert.deepEqual(outcome.live.exit, { exitCode: 4 });
      assert.equal(outcome.live.stdout.toString(), `${outcome.runId}\nit's $(fine)\n`);
      assert.equal(outcome.live.stderr.toString(), 'oops\n');
    });

    test('SIGTERM to the wrapper reaches the script, and the temp dir is still removed', async () => {
      const script =
        'import signal, sys, time\ndef stop(number, frame):\n    print("got SIGTERM")\n    ' +
        'sys.exit(7)\nsignal.signal(signal.SIGTERM, stop)\nprint("ready")\ntime.sleep(20)\n';
      const outcome = await run({
        script,
        whileRunning: async (keyPrefix) => {
          let wrapperPid = 0;
          await waitFor(
            async () => {
              const live = assembleLiveOutput(await transport.objects(keyPrefix), keyPrefix);
              wrapperPid = Number(live.start?.pid ?? 0);
              return wrapperPid > 0 && live.stdout.includes('ready');
            },
            10_000,
            'the script to start',
          );
          process.kill(wrapperPid, 'SIGTERM');
        },
      });
      assert.equal(outcome.live.stdout.toString(), 'ready\ngot SIGTERM\n');
      assert.deepEqual(outcome.live.exit, { exitCode: 7 });
      assert.equal(outcome.local.exitCode, 7);
      assert.deepEqual(outcome.tmpLeftovers, []);
    });

    test('a background process holding the pipes does not keep the run open', async () => {
      const script = 'import subprocess\nsubprocess.Popen(["sleep", "30"])\nprint("left a daemon")\n';
      const outcome = await run({ script });
      assert.deepEqual(outcome.live.exit, { exitCode: 0 });
      assert.ok(outcome.durationMs < 10_000, `took ${outcome.durationMs} ms`);
    });

    test('without a live-output target the run still works (SSM output only)', async () => {
      const outcome = await run({ script: 'print("quiet")\n', noLiveOutput: true });
      assert.equal(outcome.local.exitCode, 0);
      assert.equal(outcome.local.stdout.toString(), 'quiet\n');
      assert.equal(outcome.live.objectCount, 0);
    });
  });
}
