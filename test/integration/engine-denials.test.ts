// Permission problems and a broken live channel, as the sandbox simulates them: one clear line
// naming the IAM action, and a run that still completes from SSM's own output.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine, RunnerError, type Engine, type RunRequest } from '../../src/core';
import { LIVE_OUTPUT_UNAVAILABLE } from '../../src/core/outcome';
import { nothingLeftRunning, runCli } from '../support/runChecks';
import { engineOnSandbox } from '../support/engineOnSandbox';
import type { SandboxFixture } from '../support/sandbox';

const sandboxReady = engineOnSandbox({ instances: 1 });

describe('permissions and a failing live channel', () => {
  let fx: SandboxFixture;
  let engine: Engine;
  let request: RunRequest;

  before(async () => {
    ({ fx, engine } = await sandboxReady);
    request = {
      source: { kind: 'command', command: 'echo through ssm; exit 2' },
      target: { kind: 'instances', instanceIds: [fx.info.instances[0].instanceId] },
    };
  });

  test('AccessDenied on SendCommand names the IAM action, in the engine and in the CLI', async () => {
    fx.sandbox.configure({ deny: ['ssm:SendCommand'] });
    try {
      await assert.rejects(engine.start(request), (error: unknown) => {
        assert.ok(error instanceof RunnerError);
        assert.equal(error.code, 'AccessDenied');
        assert.match(error.message, /Access denied for ssm:SendCommand: grant your IAM identity ssm:SendCommand/);
        return true;
      });
      const cli = await runCli(['exec', '--instance', fx.info.instances[0].instanceId, '--', 'true'], fx.env);
      assert.equal(cli.code, 254);
      assert.match(
        cli.stderr,
        /^ec2-runner: Access denied for ssm:SendCommand: grant your IAM identity ssm:SendCommand and retry\.\n$/,
      );
    } finally {
      fx.sandbox.configure({ deny: [] });
    }
  });

  test('a staging bucket owned by another account is refused before anything is sent', async () => {
    fx.sandbox.configure({ foreignBuckets: ['someone-elses-bucket'] });
    const other = createEngine({ ...fx.settings, bucket: 'someone-elses-bucket' });
    try {
      await assert.rejects(
        other.start(request),
        (error: unknown) =>
          error instanceof RunnerError &&
          error.code === 'AccessDenied' &&
          /s3:ListBucket on bucket someone-elses-bucket/.test(error.message),
      );
    } finally {
      other.dispose();
      fx.sandbox.configure({ foreignBuckets: [] });
    }
  });

  test('when the live channel refuses uploads, the run completes from SSM output with a note', async () => {
    fx.sandbox.configure({ postObjectFailStatus: 403 });
    try {
      const handle = await engine.start(request);
      const invocation = (await handle.wait()).invocations[0];
      await nothingLeftRunning(handle.commandId);
      assert.equal(invocation.status, 'Failed');
      assert.equal(invocation.exitCode, 2);
      assert.equal(invocation.outputSource, 'ssm');
      assert.equal(invocation.stdout, 'through ssm\n');
      assert.ok(invocation.reason?.includes(LIVE_OUTPUT_UNAVAILABLE), invocation.reason);
    } finally {
      fx.sandbox.configure({ postObjectFailStatus: 0 });
    }
  });
});
