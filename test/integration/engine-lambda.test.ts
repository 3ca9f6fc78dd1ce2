// examples/lambda-handler.mjs against the sandbox, loaded as Lambda would: an ES module importing
// the package's library entry (dist/engine.js), configured only by the environment.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { nothingLeftRunning } from '../support/runChecks';
import { withSandbox } from '../support/sandbox';

const sandboxReady = withSandbox({ instances: 1 });
const HANDLER = join(__dirname, '..', '..', '..', 'examples', 'lambda-handler.mjs');

async function invoke(env: NodeJS.ProcessEnv, event: unknown): Promise<any> {
  const program = `
    const { handler } = await import(${JSON.stringify(HANDLER)});
    const context = { getRemainingTimeInMillis: () => 60000 };
    process.stdout.write(JSON.stringify(await handler(${JSON.stringify(event)}, context)));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', program], {
    env,
    timeout: 60_000,
  });
  return JSON.parse(stdout);
}

describe('Lambda example handler', () => {
  test('runs a script and returns its exit code, output and result', async () => {
    const fx = await sandboxReady;
    const instanceId = fx.info.instances[0].instanceId;
    const content =
      'import json, os, sys\nprint("from lambda", sys.argv[1])\njson.dump({"ok": True}, ' +
      'open(os.environ["EC2_RUNNER_RESULT"], "w"))\n';
    const result = await invoke(fx.env, {
      instanceIds: [instanceId],
      script: { fileName: 'job.py', content, args: ['x y'] },
    });
    assert.match(result.commandId, /^[0-9a-f-]{36}$/);
    const [invocation] = result.invocations;
    assert.equal(invocation.status, 'Success');
    assert.equal(invocation.stdout, 'from lambda x y\n');
    assert.deepEqual(invocation.result, { ok: true });
    await nothingLeftRunning(result.commandId);
  });

  test('fire and forget, then a status call by command id', async () => {
    const fx = await sandboxReady;
    const sent = await invoke(fx.env, {
      instanceIds: [fx.info.instances[0].instanceId],
      command: 'echo bye; exit 3',
      wait: false,
    });
    assert.equal(sent.pending, true);
    await nothingLeftRunning(sent.commandId, 15_000);
    let status;
    for (let attempt = 0; attempt < 20 && status?.invocations[0]?.status !== 'Failed'; attempt++) {
      status = await invoke(fx.env, { statusOf: sent.commandId });
    }
    assert.equal(status.invocations[0].exitCode, 3);
    assert.equal(status.invocations[0].stdout, 'bye\n');
  });
});
