// What a followed run (src/core/run.ts) tells its caller beyond the waiting policy
// (core-wait-policy.test.ts): where its output goes, which instances it has, the error when it can
// neither be followed nor cancelled, and the artifacts of an instance that is not part of it.
// Virtual clock and scripted backend; no real time passes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunnerError } from '../../src/core/api';
import type { FollowOptions } from '../../src/core/run';
import { BUCKET, RUN_PREFIX, type FakeInstance } from '../support/fakeRunBackend';
import { COMMAND_ID, newFollowedRun, quickScript } from '../support/followedRun';

const ID = 'i-0123456789abcdef0';
const OTHER = 'i-0123456789abcdef9';
const denied = () => Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' });

function followed(instances: FakeInstance[], options: Partial<FollowOptions> = {}) {
  const { run, backend } = newFollowedRun(instances, options);
  return { run, backend };
}

test('the run names its live output location, its instances and the warnings it was started with', () => {
  const { run } = followed([quickScript(), quickScript(OTHER)], { warnings: ['credentials expire first'] });
  assert.equal(run.outputLocation, `s3://${BUCKET}/${RUN_PREFIX}`);
  assert.deepEqual(run.instanceIds, [ID, OTHER]);
  assert.deepEqual(run.warnings, ['credentials expire first']);
  const { run: withoutLive } = followed([quickScript()], { live: undefined });
  assert.equal(withoutLive.outputLocation, undefined);
  assert.deepEqual(withoutLive.warnings, []);
});

test('a run that can be neither followed nor cancelled says it may still be running', async () => {
  const { run, backend } = followed([quickScript()], { cancelIfUnfollowable: true });
  backend.failures.getInvocation = denied();
  backend.failures.cancel = denied();
  await assert.rejects(run.wait(), (error: unknown) => {
    assert.ok(error instanceof RunnerError);
    assert.equal(error.code, 'AccessDenied');
    assert.match(error.message, new RegExp(`Command ${COMMAND_ID} may still be running: cancel it once allowed\\.$`));
    assert.doesNotMatch(error.message, /was cancelled/);
    return true;
  });
  assert.equal(backend.calls.cancel, 1);
});

test('artifacts of an instance that is not part of the command: one clear error, no folder written', async () => {
  const { run } = followed([quickScript()]);
  const result = await run.wait();
  assert.equal(result.invocations[0].status, 'Success');
  const dir = mkdtempSync(join(tmpdir(), 'ec2r-followed-'));
  try {
    await assert.rejects(run.downloadArtifacts(dir, { instanceId: OTHER }), (error: unknown) => {
      assert.ok(error instanceof RunnerError);
      assert.equal(error.code, 'UnknownInstance');
      assert.equal(error.message, `Instance ${OTHER} is not part of command ${COMMAND_ID}.`);
      return true;
    });
    assert.deepEqual(readdirSync(dir), []);
    // The instance that is part of it shipped no artifacts: nothing to write, and no error.
    assert.deepEqual(await run.downloadArtifacts(dir, { instanceId: ID }), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
