// The SSM machine of the run loop (ssmChecker.ts) on its own: which calls one check costs, how a
// fleet's rounds are spread, what an offline instance and a silent channel get.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LIST_COMMAND_INVOCATIONS_MAX_RESULTS } from '../../src/core/awsLimits';
import { WAIT_POLICY } from '../../src/core/waitPolicy';
import { at, checker, ID, ID2 } from '../support/ssmCheckerHarness';

describe('SSM checker: one instance', () => {
  test('a check is one GetCommandInvocation; a running instance gets its status, an ended one is finalized', async () => {
    const { ssm, backend, run, clock, finalized } = checker([
      { instanceId: ID, ssm: [at(0, 'InProgress'), at(1_000, 'Success')] },
    ]);
    await ssm.check(false, { spread: true });
    assert.deepEqual(backend.calls, { ...backend.calls, getInvocation: 1, getCommand: 0, listInvocations: 0 });
    assert.equal(run.get(ID)!.status, 'InProgress');
    assert.equal(run.get(ID)!.startedAtMs, 0);
    clock.nowMs = 1_000;
    await ssm.check(true, { spread: true });
    assert.deepEqual(finalized, [{ instanceId: ID, status: 'Success', note: undefined }]);
    await ssm.check(true, { spread: true });
    assert.equal(backend.calls.getInvocation, 2, 'a final instance is not asked about again');
    assert.equal(ssm.followUpDueAt(), Infinity);
  });

  test('an invocation SSM never reports fails after the limit', async () => {
    const { ssm, clock, finalized } = checker([{ instanceId: ID, ssm: [] }]);
    await ssm.check(false, { spread: true });
    assert.deepEqual(finalized, []);
    clock.nowMs = WAIT_POLICY.invocationMissingLimitMs + 1;
    await ssm.check(false, { spread: true });
    assert.deepEqual(finalized, [
      { instanceId: ID, status: 'Failed', note: 'SSM never reported an invocation for this instance' },
    ]);
  });

  test('output kept on the instance holds its result back', async () => {
    const { ssm, finalized, run } = checker([{ instanceId: ID, ssm: [at(0, 'Success')] }], { recovering: true });
    await ssm.check(true, { spread: false });
    assert.deepEqual(finalized, []);
    assert.equal(run.get(ID)!.final, false);
  });
});

describe('SSM checker: fleets', () => {
  const fleet = (status = 'InProgress') => [
    { instanceId: ID, ssm: [at(0, status)] },
    { instanceId: ID2, ssm: [at(0, status)] },
  ];

  test('a spread check is ListCommands now and the invocation listing as its own round, ssmRoundGapMs later', async () => {
    const { ssm, backend, clock } = checker(fleet());
    await ssm.check(false, { spread: true });
    assert.deepEqual([backend.calls.getCommand, backend.calls.listInvocations], [1, 0]);
    assert.equal(ssm.followUpDueAt(), WAIT_POLICY.ssmRoundGapMs);
    clock.nowMs = ssm.followUpDueAt();
    await ssm.runFollowUp();
    assert.deepEqual([backend.calls.getCommand, backend.calls.listInvocations], [1, 1]);
    assert.equal(ssm.followUpDueAt(), Infinity);
  });

  test('a round still owed waits ssmRoundGapMs after any other round: never two in one burst', async () => {
    const { ssm, backend, clock } = checker(fleet());
    await ssm.check(false, { spread: true });
    assert.equal(ssm.followUpDueAt(), WAIT_POLICY.ssmRoundGapMs);
    clock.nowMs = 1_000; // the listing is overdue when the next check sends its ListCommands
    await ssm.check(false, { spread: true });
    assert.equal(backend.calls.getCommand, 2);
    assert.equal(ssm.followUpDueAt(), 1_000 + WAIT_POLICY.ssmRoundGapMs);
  });

  test('nothing changed since the last listing: ListCommands only', async () => {
    const { ssm, backend } = checker(fleet());
    await ssm.check(false, { spread: false });
    assert.equal(backend.calls.listInvocations, 1);
    await ssm.check(false, { spread: false });
    assert.deepEqual([backend.calls.getCommand, backend.calls.listInvocations], [2, 1]);
  });

  test('confirming with every target known lists the invocations at once, without ListCommands', async () => {
    const { ssm, backend, finalized } = checker(fleet('Success'));
    await ssm.check(true, { spread: true });
    assert.deepEqual([backend.calls.getCommand, backend.calls.listInvocations], [0, 1]);
    assert.deepEqual(
      finalized.map((f) => f.status),
      ['Success', 'Success'],
    );
  });

  test('a fleet of more than one page confirms with ListCommands alone until every invocation has ended, then lists', async () => {
    const ids = Array.from(
      { length: LIST_COMMAND_INVOCATIONS_MAX_RESULTS + 1 },
      (_, n) => `i-${n.toString(16).padStart(17, '0')}`,
    );
    const { ssm, backend, clock, finalized } = checker(
      ids.map((instanceId, n) => ({ instanceId, ssm: [at(0, 'InProgress'), at(n === 0 ? 3_000 : 1_000, 'Success')] })),
    );
    await ssm.check(false, { spread: false }); // every target named
    assert.equal(ssm.confirmBackoffMaxMs(), WAIT_POLICY.fleetConfirmBackoffMaxMs);
    const listed = backend.calls.listInvocations;
    clock.nowMs = 2_000; // every instance but one has ended
    await ssm.check(true, { spread: true });
    assert.deepEqual([backend.calls.getCommand, backend.calls.listInvocations], [2, listed]);
    assert.equal(ssm.followUpDueAt(), Infinity, 'no listing is owed while one invocation still runs');
    clock.nowMs = 3_000;
    await ssm.check(true, { spread: true });
    clock.nowMs = ssm.followUpDueAt();
    await ssm.runFollowUp();
    assert.deepEqual([backend.calls.getCommand, backend.calls.listInvocations], [3, listed + 1]);
    assert.equal(finalized.length, ids.length);
  });

  test('a fleet of one page still confirms with the listing itself', async () => {
    const { ssm } = checker(fleet('Success'));
    await ssm.check(false, { spread: false });
    assert.equal(ssm.confirmBackoffMaxMs(), WAIT_POLICY.confirmBackoffMaxMs);
  });

  test('a listing that ends several instances whose live end was not seen reads the live channel once for all', async () => {
    const { ssm, catchUps, finalized, run } = checker(fleet('Success'));
    await ssm.check(true, { spread: false });
    assert.deepEqual(catchUps, [0]);
    assert.equal(finalized.length, 2);
    const again = checker(fleet('Success'));
    for (const id of [ID, ID2]) again.run.instance(id).exit = { exitCode: 0 };
    await again.ssm.check(true, { spread: false });
    assert.deepEqual(again.catchUps, [], 'nothing to catch up with: every end was seen');
    assert.equal(run.size, 2);
  });

  test('tag targets are resolved once SSM has named them all', async () => {
    const { ssm, run } = checker(fleet(), { discoverInstances: true });
    assert.equal(ssm.targetsResolved(), false);
    await ssm.check(false, { spread: false });
    assert.equal(run.confirmedCount(), 2);
    assert.equal(ssm.targetsResolved(), true);
  });

  test('an unconfirmed cancellation resolves the targets of a finished-looking command', async () => {
    const { ssm } = checker([{ instanceId: ID, ssm: [] }], { discoverInstances: true });
    await ssm.check(false, { spread: false });
    assert.equal(ssm.targetsResolved(), false);
    ssm.assumeCancelled();
    assert.equal(ssm.targetsResolved(), true);
  });
});

describe('SSM checker: instances that do not start, silent channels, failures', () => {
  test('the regular check looks at PingStatus once for an undelivered instance; an offline one is cancelled and Undeliverable', async () => {
    const { ssm, backend, clock, cancelled, finalized, run } = checker([
      { instanceId: ID, ssm: [at(0, 'Pending')], pingStatus: 'ConnectionLost' },
      { instanceId: ID2, ssm: [at(0, 'Pending')], pingStatus: 'Online' },
    ]);
    await ssm.regularCheck();
    for (let round = 0; round < 2; round++) {
      clock.nowMs = ssm.followUpDueAt();
      await ssm.runFollowUp();
    }
    assert.equal(backend.calls.pingStatus, 1);
    assert.deepEqual(cancelled, [[ID]]);
    assert.deepEqual(
      finalized.map((f) => [f.instanceId, f.status]),
      [[ID, 'Undeliverable']],
    );
    assert.match(
      run.get(ID)!.offline ?? '',
      /not connected to SSM \(PingStatus ConnectionLost\); the command was cancelled/,
    );
    await ssm.regularCheck();
    clock.nowMs = ssm.followUpDueAt();
    await ssm.runFollowUp();
    assert.equal(backend.calls.pingStatus, 1, 'each instance is looked at once');
  });

  test('a silent channel: one look at 2 s, then, while SSM says it runs, once the wrapper would have reached S3, with doubling gaps, none after the first minute', async () => {
    const { ssm, clock, run } = checker([{ instanceId: ID, ssm: [at(0, 'InProgress')] }]);
    assert.equal(ssm.silentCheckAt(0), WAIT_POLICY.silentLiveAfterMs);
    clock.nowMs = WAIT_POLICY.silentLiveAfterMs;
    await ssm.check(false, { spread: true });
    // A wrapper slow to start is given the time it has to reach S3 before SSM is asked again.
    const brokenFrom = WAIT_POLICY.silentBrokenAfterMs;
    assert.equal(ssm.silentCheckAt(clock.nowMs), brokenFrom);
    const looks = [brokenFrom];
    while (looks.length < 7) looks.push(ssm.silentCheckAt(looks[looks.length - 1]));
    assert.deepEqual(
      looks.map((t) => t - brokenFrom),
      [0, 1_000, 2_000, 4_000, 8_000, 16_000, 16_000 + WAIT_POLICY.statusCheckIntervalMs],
    );
    run.get(ID)!.startInfo = {}; // the channel spoke
    assert.equal(ssm.silentCheckAt(clock.nowMs), Infinity);
    run.get(ID)!.startInfo = undefined;
    clock.nowMs = WAIT_POLICY.silentChecksForMs + 1;
    assert.equal(ssm.silentCheckAt(clock.nowMs - 1_000), Infinity);
  });

  test('transient failures are tolerated up to the limit; access denied ends following at once', async () => {
    const { ssm, backend } = checker([{ instanceId: ID, ssm: [at(0, 'InProgress')] }]);
    backend.failures.getInvocation = Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
    for (let i = 0; i < WAIT_POLICY.maxConsecutiveErrors - 1; i++) await ssm.check(false, { spread: true });
    await assert.rejects(() => ssm.check(false, { spread: true }));
    const denied = checker([{ instanceId: ID, ssm: [at(0, 'InProgress')] }]);
    denied.backend.failures.getInvocation = Object.assign(new Error('not authorized'), {
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
    });
    await assert.rejects(
      () => denied.ssm.check(false, { spread: true }),
      (error: Error & { code?: string }) => error.code === 'AccessDenied',
    );
  });
});
