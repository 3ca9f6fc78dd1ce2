// A followed run's wiring (src/core/run.ts), each test written for a mutant that survived the mutation run
// (docs/testing.md): start() twice, status listeners, cancel() after the end, artifacts of a run with no confirmed
// instance, snapshot() of a fleet, without a live channel and while output kept on an instance is fetched, an
// unconfirmed cancellation of tag targets, and detach() from inside a pass. Virtual clock, scripted backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import type { RunStatusUpdate } from '../../src/core/api';
import { LIST_COMMAND_INVOCATIONS_MAX_RESULTS } from '../../src/core/awsLimits';
import { WAIT_POLICY } from '../../src/core/waitPolicy';
import { text, type FakeInstance } from '../support/fakeRunBackend';
import { newFollowedRun, quickScript } from '../support/followedRun';
import { fakeRenewal, ID, ID2 } from '../support/liveFollowerHarness';
import { makeTempDir } from '../support/tempDirs';

test('start() twice follows once; status listeners hear the run start and end', async () => {
  const once = newFollowedRun([quickScript()]);
  await once.run.wait();
  const twice = newFollowedRun([quickScript()]);
  const statuses: RunStatusUpdate[] = [];
  twice.run.onStatus((s) => statuses.push(s));
  twice.run.start();
  twice.run.start();
  const result = await twice.run.wait();
  assert.equal(result.invocations[0].status, 'Success');
  assert.deepEqual(twice.backend.calls, once.backend.calls);
  assert.deepEqual(
    statuses.map((s) => s.status),
    ['InProgress', 'Success'],
  );
});

test('cancel() after the run has ended sends nothing', async () => {
  const { run, backend } = newFollowedRun([quickScript(), quickScript(ID2)]);
  await run.wait();
  await run.cancel();
  assert.equal(backend.calls.cancel, 0);
});

test('artifacts of a run SSM has named no instance of: nothing to write, no error', async () => {
  const { run } = newFollowedRun([{ instanceId: ID, ssm: [] }], { instanceIds: [], discoverInstances: true });
  const dir = makeTempDir('ec2r-followed-');
  assert.deepEqual(await run.downloadArtifacts(dir), []);
  assert.deepEqual(readdirSync(dir), []);
});

test("snapshot() of an ended fleet: every result in one listing, without ListCommands; without a live channel: SSM's output", async () => {
  const fleet = newFollowedRun([quickScript(), quickScript(ID2)]);
  fleet.clock.nowMs = 4_000;
  const result = await fleet.run.snapshot();
  assert.deepEqual(
    result.invocations.map((i) => [i.status, i.stdout]),
    [
      ['Success', 'hello\n'],
      ['Success', 'hello\n'],
    ],
  );
  assert.deepEqual([fleet.backend.calls.getCommand, fleet.backend.calls.listInvocations], [0, 1]);

  const script: FakeInstance = {
    instanceId: ID,
    ssm: [{ from: 0, status: 'Success', responseCode: 0, stdout: 'x\n' }],
  };
  const noLive = newFollowedRun([script], { live: undefined });
  const alone = await noLive.run.snapshot();
  assert.deepEqual([alone.invocations[0].status, alone.invocations[0].stdout], ['Success', 'x\n']);
});

test('snapshot() of an ended fleet of more than one page lists its pages in the same look', async () => {
  const count = LIST_COMMAND_INVOCATIONS_MAX_RESULTS + 1;
  const ids = Array.from({ length: count }, (_, n) => `i-${n.toString(16).padStart(17, '0')}`);
  const { run, clock } = newFollowedRun(ids.map((id) => quickScript(id)));
  clock.nowMs = 4_000;
  const result = await run.snapshot();
  assert.deepEqual(new Set(result.invocations.map((i) => i.status)), new Set(['Success']));
  assert.equal(result.invocations.length, count);
});

test('snapshot() of a run whose output was kept on the instance renews its upload and waits for the output', async () => {
  const keptUntil = 2_000;
  const instance: FakeInstance = {
    instanceId: ID,
    chunks: [
      { at: 0, frames: [{ type: 'start', info: {} }] },
      {
        at: keptUntil,
        frames: [
          { type: 'stdout', data: text('kept\n') },
          { type: 'exit', exitCode: 0 },
        ],
      },
    ],
    ssm: [{ from: 0, status: 'Success', responseCode: 0 }],
  };
  const { renewal, calls } = fakeRenewal(Infinity);
  const { run, clock } = newFollowedRun([instance], { renewal });
  const result = await run.snapshot();
  assert.deepEqual(
    calls.map((c) => [c.instanceIds, c.proactive]),
    [[[ID], false]],
  );
  assert.ok(clock.now() >= keptUntil, 'waited for the kept output');
  assert.ok(clock.now() < keptUntil + 2 * WAIT_POLICY.liveIntervalMs * 2, `${clock.now()} ms: not much longer`);
  assert.deepEqual([result.invocations[0].status, result.invocations[0].stdout], ['Success', 'kept\n']);
});

test('a cancellation of tag targets SSM never confirms still ends the run', async () => {
  const { run, clock } = newFollowedRun([{ instanceId: ID, ssm: [], cancelLagMs: Infinity }], {
    instanceIds: [],
    discoverInstances: true,
  });
  run.start();
  await run.cancel();
  await run.wait();
  assert.ok(clock.now() >= WAIT_POLICY.cancelConfirmLimitMs);
});

test('detach() from inside a pass returns at once, without another sleep', async () => {
  const { run, clock } = newFollowedRun([quickScript()]);
  let detachedAt: number | undefined;
  run.onOutput(() => {
    detachedAt = clock.now();
    run.detach();
  });
  await run.wait();
  assert.equal(clock.now(), detachedAt);
});
