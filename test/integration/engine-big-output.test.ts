// Output bigger than the client keeps in memory, end to end on the sandbox: the engine (real SDK
// clients) with a small memory budget, and the CLI (`exec --json`) with its default one. Every byte
// reaches the listeners and the file on disk, in order; the result keeps only the two ends.
import { before, after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, type Engine } from '../../src/core';
import { OUTPUT_MEMORY_BYTES } from '../../src/core/defaults';
import { runCli } from '../support/runChecks';
import { withSandbox, type SandboxFixture } from '../support/sandbox';

const LINE = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\n';
/** What `yes <LINE without its newline> | head -c bytes` prints. */
function yesBytes(bytes: number, line = LINE): Buffer {
  return Buffer.from(line.repeat(Math.ceil(bytes / line.length))).subarray(0, bytes);
}
const yesCommand = (bytes: number, line = LINE) => `yes ${line.trimEnd()} | head -c ${bytes}`;

const sandboxReady = withSandbox({ instances: 1 });

describe('big output, bounded memory', () => {
  let fx: SandboxFixture;
  let instanceId: string;
  let dir: string;

  before(async () => {
    fx = await sandboxReady;
    instanceId = fx.onlineInstanceIds[0];
    dir = mkdtempSync(join(tmpdir(), 'ec2-runner-big-output-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('engine: 3 MB of stdout and 400 KB of stderr with a 64 KB budget: all delivered, saved whole, two ends kept', async () => {
    const budget = 64 * 1024;
    const engine: Engine = createEngine({ ...fx.engineSettings, outputDir: dir, outputMemoryBytes: budget });
    try {
      const stdoutBytes = LINE.length * 50_000; // whole lines, so the JSON line after them is a line of its own
      const stderrBytes = 400 * 1024;
      const handle = await engine.start({
        source: {
          kind: 'command',
          command: `${yesCommand(stdoutBytes)}; ${yesCommand(stderrBytes, 'E\n')} >&2; echo '{"done": true}'`,
        },
        target: { kind: 'instances', instanceIds: [instanceId] },
      });
      const seen = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
      handle.onOutput((chunk) => seen[chunk.stream].push(Buffer.from(chunk.data)));
      const result = await handle.wait();
      const only = result.invocations[0];
      assert.equal(only.status, 'Success', only.reason);
      assert.equal(only.outputSource, 'live');
      const expectedStdout = Buffer.concat([yesBytes(stdoutBytes), Buffer.from('{"done": true}\n')]);
      const expectedStderr = yesBytes(stderrBytes, 'E\n');
      assert.ok(Buffer.concat(seen.stdout).equals(expectedStdout), 'listeners saw every stdout byte in order');
      assert.ok(Buffer.concat(seen.stderr).equals(expectedStderr), 'listeners saw every stderr byte in order');
      assert.ok(only.stdoutFile && only.stderrFile, 'both streams outgrew memory and were saved');
      assert.ok(only.stdoutFile.startsWith(join(dir, result.commandId)), only.stdoutFile);
      assert.ok(readFileSync(only.stdoutFile).equals(expectedStdout), 'stdout on disk is byte-identical');
      assert.ok(readFileSync(only.stderrFile).equals(expectedStderr), 'stderr on disk is byte-identical');
      // The result's text: the two ends (each half the budget) and one line naming the file.
      assert.ok(only.stdout.length < budget + 300, `${only.stdout.length} characters kept`);
      assert.ok(only.stdout.startsWith(LINE.repeat(10)));
      assert.match(
        only.stdout,
        new RegExp(`bytes of ${expectedStdout.length} not kept in memory; the whole output is in `),
      );
      assert.deepEqual(only.result, { done: true }, 'the last stdout line still gives the structured result');
      assert.equal(only.reason, undefined);
    } finally {
      engine.dispose();
    }
  });

  test('engine: output within the budget is whole in the result and never written to disk', async () => {
    const engine = createEngine({ ...fx.engineSettings, outputDir: join(dir, 'small'), outputMemoryBytes: 64 * 1024 });
    try {
      const handle = await engine.start({
        source: { kind: 'command', command: yesCommand(60 * 1024) },
        target: { kind: 'instances', instanceIds: [instanceId] },
      });
      const only = (await handle.wait()).invocations[0];
      assert.equal(only.stdout, yesBytes(60 * 1024).toString());
      assert.equal(only.stdoutFile, undefined);
      assert.throws(() => readFileSync(join(dir, 'small')), /ENOENT/);
    } finally {
      engine.dispose();
    }
  });

  test('CLI: exec --json of 3 MB keeps the JSON small and names the file holding every byte', async () => {
    const bytes = 3 * OUTPUT_MEMORY_BYTES;
    const env = { ...fx.env, TMPDIR: dir };
    const cli = await runCli(['exec', '--instance', instanceId, '--json', '--', yesCommand(bytes)], env, 180_000);
    assert.equal(cli.code, 0, cli.stderr);
    const doc = JSON.parse(cli.stdout.toString('utf8')) as {
      invocations: Array<{ stdout: string; stdoutFile?: string; stderrFile?: string }>;
    };
    const only = doc.invocations[0];
    assert.ok(cli.stdout.length < OUTPUT_MEMORY_BYTES * 1.5, `the JSON document is ${cli.stdout.length} bytes`);
    assert.ok(only.stdoutFile?.startsWith(join(dir, 'ec2-runner-output')), only.stdoutFile);
    assert.ok(readFileSync(only.stdoutFile!).equals(yesBytes(bytes)), 'the file is byte-identical');
    assert.equal(only.stderrFile, undefined);
  });
});
