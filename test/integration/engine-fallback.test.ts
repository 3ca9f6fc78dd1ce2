// An instance without Python: the command takes its plain-sh path (no live channel) and the engine
// falls back to SSM's own output, saying that it may be truncated.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { createEngine } from '../../src/core';
import { LIVE_OUTPUT_UNAVAILABLE } from '../../src/core/outcome';
import { binDirWith } from '../support/remoteRun';
import { nothingLeftRunning } from '../support/runChecks';
import { withSandbox } from '../support/sandbox';

const root = mkdtempSync(join(tmpdir(), 'ec2-runner-nopython-'));
after(() => rmSync(root, { recursive: true, force: true }));
const noPython = binDirWith(root, [
  'sh',
  'base64',
  'gzip',
  'mktemp',
  'rm',
  'sha256sum',
  'od',
  'tr',
  'cat',
  'curl',
  'bash',
]);
const sandboxReady = withSandbox({ instances: 1, instancePath: noPython });

describe('engine on an instance without python3', () => {
  test('a file runs through the sh fallback; output and exit code come from SSM with a note', async () => {
    const fx = await sandboxReady;
    const engine = createEngine(fx.engineSettings);
    try {
      const handle = await engine.start({
        source: {
          kind: 'file',
          fileName: 'plain.sh',
          content: new TextEncoder().encode('echo "via fallback $1"\necho oops >&2\nexit 4\n'),
          args: ['arg'],
        },
        target: { kind: 'instances', instanceIds: [fx.info.instances[0].instanceId] },
      });
      const shown: string[] = [];
      handle.onOutput((c) => shown.push(`${c.stream}:${Buffer.from(c.data).toString()}`));
      const invocation = (await handle.wait()).invocations[0];
      await nothingLeftRunning(handle.commandId);
      assert.equal(invocation.status, 'Failed');
      assert.equal(invocation.exitCode, 4);
      assert.equal(invocation.outputSource, 'ssm');
      assert.equal(invocation.stdout, 'via fallback arg\n');
      assert.match(invocation.stderr, /no python3 on this instance.*\n(.*\n)*oops\n$/);
      assert.ok(invocation.reason?.includes(LIVE_OUTPUT_UNAVAILABLE), invocation.reason);
      assert.deepEqual(
        shown.filter((s) => s.startsWith('stdout:')),
        ['stdout:via fallback arg\n'],
      );
      assert.equal(
        shown.find((s) => s.startsWith('stderr:')),
        `stderr:${invocation.stderr}`,
      );
    } finally {
      engine.dispose();
    }
  });
});
