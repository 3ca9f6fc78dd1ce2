// The SSM checker's edges (ssmChecker.ts), each test written for a mutant that survived the mutation run
// (docs/testing.md): when a fleet's invocations are listed, when tag targets count as resolved, failed calls,
// timed-out runs, the PingStatus look and the silent-channel looks.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LIST_COMMAND_INVOCATIONS_MAX_RESULTS } from '../../src/core/awsLimits';
import { WAIT_POLICY } from '../../src/core/waitPolicy';
import type { FakeInstance } from '../support/fakeRunBackend';
import { at, checker, fleetIds, ID, ID2 } from '../support/ssmCheckerHarness';

const timeout = () => Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });

/** Runs every owed round; returns how many there were. */
async function runOwedRounds(c: ReturnType<typeof checker>): Promise<number> {
  let rounds = 0;
  while (c.ssm.followUpDueAt() !== Infinity) {
    c.clock.nowMs = c.ssm.followUpDueAt();
    await c.ssm.runFollowUp();
    rounds++;
  }
  return rounds;
}

describe('SSM checker: when a fleet is listed', () => {
  test('the first check lists even when one invocation has already completed', async () => {
    const c = checker([
      { instanceId: ID, ssm: [at(0, 'Success')] },
      { instanceId: ID2, ssm: [at(0, 'InProgress')] },
    ]);
    await c.ssm.check(false, { spread: false });
    assert.equal(c.backend.calls.listInvocations, 1);
    assert.deepEqual(
      c.finalized.map((f) => f.instanceId),
      [ID],
    );
  });

  test('a changed CompletedCount lists again; a failed ListCommands lists nothing and forgets nothing', async () => {
    const c = checker([
      { instanceId: ID, ssm: [at(0, 'InProgress'), at(1_000, 'Success')] },
      { instanceId: ID2, ssm: [at(0, 'InProgress')] },
    ]);
    await c.ssm.check(false, { spread: false });
    c.clock.nowMs = 1_000;
    await c.ssm.check(false, { spread: false });
    assert.equal(c.backend.calls.listInvocations, 2);
    c.backend.failures.getCommand = timeout();
    await c.ssm.check(false, { spread: false });
    assert.equal(c.backend.calls.listInvocations, 2);
  });

  test('tag targets SSM has not all named yet are listed again, and are not resolved by a running command', async () => {
    const c = checker(
      [
        { instanceId: ID, ssm: [at(0, 'InProgress')] },
        { instanceId: ID2, ssm: [at(500, 'InProgress')] },
      ],
      { discoverInstances: true },
    );
    c.clock.nowMs = 400; // SSM counts both targets but lists only the first
    c.backend.getCommand = async (commandId) => ({
      commandId,
      status: 'InProgress',
      statusDetails: '',
      targetCount: 2,
      completedCount: 0,
      errorCount: 0,
      instanceIds: [],
      tagTargets: [],
      commands: [],
    });
    await c.ssm.check(false, { spread: false });
    assert.equal(c.run.confirmedCount(), 1);
    assert.equal(c.ssm.targetsResolved(), false);
    c.clock.nowMs = 500;
    await c.ssm.check(false, { spread: false });
    assert.equal(c.backend.calls.listInvocations, 2, 'nothing completed, but a target is still unnamed');
    assert.equal(c.ssm.targetsResolved(), true);
  });

  test('a finished command whose listing names fewer than its TargetCount resolves its targets', async () => {
    const c = checker([{ instanceId: ID, ssm: [at(0, 'Success')] }], {
      discoverInstances: true,
      command: { status: 'Success', targetCount: 3, completedCount: 3 },
    });
    await c.ssm.check(false, { spread: false });
    assert.equal(c.run.confirmedCount(), 1);
    assert.equal(c.ssm.targetsResolved(), true);
  });

  test('a finished command with no target resolves at once, before any listing', async () => {
    const c = checker([], { discoverInstances: true, command: { status: 'Success', targetCount: 0 } });
    await c.ssm.check(false, { spread: true });
    assert.equal(c.backend.calls.listInvocations, 0);
    assert.equal(c.ssm.targetsResolved(), true);
  });

  test('an owed listing is dropped once a listing is sent; a failed listing is survived', async () => {
    const c = checker([
      { instanceId: ID, ssm: [at(0, 'InProgress')] },
      { instanceId: ID2, ssm: [at(0, 'InProgress')] },
    ]);
    await c.ssm.check(false, { spread: true });
    assert.notEqual(c.ssm.followUpDueAt(), Infinity);
    await c.ssm.check(true, { spread: false });
    assert.equal(c.ssm.followUpDueAt(), Infinity, 'nothing owed');
    c.backend.failures.listInvocations = timeout();
    await c.ssm.check(true, { spread: false });
    assert.equal(c.backend.calls.listInvocations, 2);
  });

  test('regular checks owe one listing and one PingStatus look, however often they run', async () => {
    const c = checker([
      { instanceId: ID, ssm: [at(0, 'InProgress')] },
      { instanceId: ID2, ssm: [at(0, 'InProgress')] },
    ]);
    await c.ssm.regularCheck();
    await c.ssm.regularCheck();
    assert.equal(await runOwedRounds(c), 2);
    assert.equal(c.backend.calls.pingStatus, 0, 'every instance runs: nobody to look at');
    const calls = c.backend.log.length;
    await c.ssm.runFollowUp();
    assert.equal(c.backend.log.length, calls, 'nothing owed, nothing sent');
  });

  test('a final instance is not finalized again by a later listing', async () => {
    const c = checker([
      { instanceId: ID, ssm: [at(0, 'Success')] },
      { instanceId: ID2, ssm: [at(0, 'InProgress')] },
    ]);
    await c.ssm.check(true, { spread: false });
    await c.ssm.check(true, { spread: false });
    assert.equal(c.finalized.length, 1);
  });

  test('one unseen end needs no live catch-up; instances SSM names for the first time count as unseen', async () => {
    const one = checker([
      { instanceId: ID, ssm: [at(0, 'Success')] },
      { instanceId: ID2, ssm: [at(0, 'Success')] },
    ]);
    one.run.instance(ID).exit = { exitCode: 0 };
    await one.ssm.check(true, { spread: false });
    assert.deepEqual(one.catchUps, []);
    const found = checker(
      [
        { instanceId: ID, ssm: [at(0, 'Success')] },
        { instanceId: ID2, ssm: [at(0, 'Success')] },
      ],
      { discoverInstances: true },
    );
    await found.ssm.check(false, { spread: false });
    assert.deepEqual(found.catchUps, [0]);
  });
});

describe('SSM checker: fleets of more than one page', () => {
  const fleet = (count: number, status = 'InProgress'): FakeInstance[] =>
    fleetIds(count).map((instanceId) => ({ instanceId, ssm: [at(0, status)] }));

  test('exactly one page still confirms with the listing', () => {
    const { ssm } = checker(fleet(LIST_COMMAND_INVOCATIONS_MAX_RESULTS));
    assert.equal(ssm.confirmBackoffMaxMs(), WAIT_POLICY.confirmBackoffMaxMs);
    assert.equal(ssm.confirmsByCount(), false);
  });

  test('every invocation counted complete (the command not yet): the pages are listed', async () => {
    const count = LIST_COMMAND_INVOCATIONS_MAX_RESULTS + 1;
    const c = checker(fleet(count, 'Success'), {
      command: { status: 'InProgress', targetCount: count, completedCount: count },
    });
    await c.ssm.check(true, { spread: false });
    assert.equal(c.backend.calls.listInvocations, 1);
  });

  test('SSM not counting the targets yet is not an end', async () => {
    const c = checker(fleet(LIST_COMMAND_INVOCATIONS_MAX_RESULTS + 1), {
      command: { status: 'InProgress', targetCount: 0, completedCount: 0 },
    });
    await c.ssm.check(true, { spread: false });
    assert.equal(c.backend.calls.listInvocations, 0);
  });

  test('a confirmation whose ListCommands fails lists the pages instead', async () => {
    const c = checker(fleet(LIST_COMMAND_INVOCATIONS_MAX_RESULTS + 1, 'Success'));
    await c.ssm.check(false, { spread: false });
    c.backend.failures.getCommand = timeout();
    await c.ssm.check(true, { spread: false });
    assert.equal(c.backend.calls.listInvocations, 2);
  });
});

describe('SSM checker: one instance, timeouts, cancellation', () => {
  test('an invocation SSM never reports fails once the limit has passed since the run was sent, not at it', async () => {
    const sentAt = 10_000;
    const c = checker([{ instanceId: ID, ssm: [] }], { startedAtMs: sentAt });
    c.clock.nowMs = sentAt + WAIT_POLICY.invocationMissingLimitMs;
    await c.ssm.check(false, { spread: true });
    assert.equal(c.finalized.length, 0, 'not at the limit');
    c.clock.nowMs += 1;
    await c.ssm.check(false, { spread: true });
    assert.deepEqual(
      c.finalized.map((f) => f.status),
      ['Failed'],
    );
    assert.deepEqual(c.details, ['Failed']);
  });

  test('a run this client timed out ends TimedOut when SSM says Cancelled or TimedOut, as itself otherwise', async () => {
    for (const [status, expected, details] of [
      ['Cancelled', 'TimedOut', 'ExecutionTimedOut'],
      ['TimedOut', 'TimedOut', 'ExecutionTimedOut'],
      ['Success', 'Success', 'Success'],
    ]) {
      const c = checker([{ instanceId: ID, ssm: [at(0, status)] }]);
      c.run.get(ID)!.timedOut = true;
      await c.ssm.check(true, { spread: false });
      assert.deepEqual([c.finalized[0]?.status, c.details[0]], [expected, details], status);
    }
  });

  test('a cancellation assumed before SSM ever answered resolves nothing; after ListCommands it resolves', async () => {
    const early = checker([{ instanceId: ID, ssm: [at(0, 'InProgress')] }], { discoverInstances: true });
    early.ssm.assumeCancelled();
    assert.equal(early.ssm.targetsResolved(), false);
    const later = checker([{ instanceId: ID, ssm: [at(0, 'InProgress')] }], { discoverInstances: true });
    await later.ssm.check(false, { spread: true }); // ListCommands only: TargetCount 1, nobody named yet
    assert.equal(later.ssm.targetsResolved(), false);
    later.ssm.assumeCancelled();
    assert.equal(later.ssm.targetsResolved(), true);
  });
});

describe('SSM checker: the PingStatus look', () => {
  const pending = (instanceId: string, pingStatus?: string): FakeInstance => ({
    instanceId,
    ssm: [at(0, 'Pending')],
    pingStatus,
  });

  test('an instance no longer managed, and one offline since a time, are told apart; statuses say Undeliverable', async () => {
    const c = checker([pending(ID), pending(ID2, 'ConnectionLost')]);
    const since = new Date('2026-12-01T10:00:00.000Z');
    c.backend.pingStatus = async () => [{ instanceId: ID2, pingStatus: 'ConnectionLost', lastPingDateTime: since }];
    await c.ssm.regularCheck();
    await runOwedRounds(c);
    assert.match(c.run.get(ID)!.offline ?? '', /is not an SSM managed instance any more; the command was cancelled/);
    assert.match(c.run.get(ID2)!.offline ?? '', /\(PingStatus ConnectionLost since 2026-12-01T10:00:00\.000Z\)/);
    assert.deepEqual(c.details, ['Undeliverable', 'Undeliverable']);
  });

  test('only confirmed instances not yet started are looked at; all online cancels nothing; a failed look is survived', async () => {
    const c = checker([pending(ID, 'Online'), pending(ID2, 'Online')]);
    c.run.instance('i-00000000000000fff'); // seen only on the live channel
    c.run.get(ID2)!.startedAtMs = 0; // its start frame arrived before SSM said so
    const looked: string[][] = [];
    const own = c.backend.pingStatus.bind(c.backend);
    c.backend.pingStatus = async (ids) => {
      looked.push(ids);
      return own(ids);
    };
    await c.ssm.regularCheck();
    await runOwedRounds(c);
    assert.deepEqual(looked, [[ID]]);
    assert.deepEqual(c.cancelled, []);

    const failing = checker([pending(ID, 'ConnectionLost'), pending(ID2, 'ConnectionLost')]);
    failing.backend.failures.pingStatus = timeout();
    await failing.ssm.regularCheck();
    await runOwedRounds(failing);
    assert.deepEqual(failing.cancelled, []);
  });

  test('an instance SSM has not reported at all is looked at too', async () => {
    const c = checker([
      { instanceId: ID, ssm: [], pingStatus: 'Offline' },
      { instanceId: ID2, ssm: [at(0, 'Cancelling')], pingStatus: 'Offline' },
    ]);
    await c.ssm.regularCheck();
    await runOwedRounds(c);
    assert.deepEqual(c.cancelled, [[ID]], 'not the one SSM is already cancelling');
  });
});

describe('SSM checker: silent channels', () => {
  test('one silent instance among others that spoke still gets the early look', () => {
    const c = checker([
      { instanceId: ID, ssm: [at(0, 'InProgress')] },
      { instanceId: ID2, ssm: [at(0, 'InProgress')] },
    ]);
    c.run.get(ID)!.startInfo = {};
    assert.equal(c.ssm.silentCheckAt(0), WAIT_POLICY.silentLiveAfterMs);
  });

  test('after the early look, only an instance SSM says runs keeps the looks going', async () => {
    const c = checker([{ instanceId: ID, ssm: [at(0, 'Pending')] }]);
    c.clock.nowMs = WAIT_POLICY.silentLiveAfterMs;
    await c.ssm.check(false, { spread: true });
    assert.equal(c.ssm.silentCheckAt(c.clock.nowMs), Infinity);
  });

  test('the looks stop a minute after the run was sent, not after the clock started', () => {
    const sentAt = 100_000;
    const c = checker([{ instanceId: ID, ssm: [at(0, 'InProgress')] }], { startedAtMs: sentAt });
    c.clock.nowMs = sentAt + WAIT_POLICY.silentChecksForMs;
    assert.equal(c.ssm.silentCheckAt(sentAt), sentAt + WAIT_POLICY.silentLiveAfterMs);
    c.clock.nowMs += 1;
    assert.equal(c.ssm.silentCheckAt(sentAt), Infinity);
  });
});

describe('SSM checker: rounds and finished commands', () => {
  const command = (status: string, completedCount: number) => ({
    commandId: 'c',
    status,
    statusDetails: '',
    targetCount: 3,
    completedCount,
    errorCount: 0,
    instanceIds: [],
    tagTargets: [],
    commands: [],
  });

  test('a command that finishes with nothing new completed is listed once more, and resolves only then', async () => {
    const c = checker([{ instanceId: ID, ssm: [at(0, 'Success')] }], { discoverInstances: true });
    let answer = command('InProgress', 1);
    c.backend.getCommand = async () => answer;
    await c.ssm.check(false, { spread: false });
    assert.equal(c.ssm.targetsResolved(), false, 'two targets still unnamed');
    answer = command('Success', 1);
    await c.ssm.check(false, { spread: true });
    assert.equal(c.ssm.targetsResolved(), false, 'its final listing is still owed');
    await runOwedRounds(c);
    assert.equal(c.backend.calls.listInvocations, 2);
    assert.equal(c.ssm.targetsResolved(), true);
  });

  test("a finished command is listed at every check while an instance's kept output is being fetched", async () => {
    const c = checker(
      [
        { instanceId: ID, ssm: [at(0, 'Success')] },
        { instanceId: ID2, ssm: [at(0, 'Success')] },
      ],
      { recovering: true },
    );
    await c.ssm.check(false, { spread: false });
    await c.ssm.check(false, { spread: false });
    assert.equal(c.backend.calls.listInvocations, 2, 'CompletedCount did not change, but the results are held back');
    assert.equal(c.finalized.length, 0);
  });

  test('resolved tag targets stay resolved when a later ListCommands fails', async () => {
    const c = checker([{ instanceId: ID, ssm: [at(0, 'Success')] }], { discoverInstances: true });
    await c.ssm.check(false, { spread: false });
    assert.equal(c.ssm.targetsResolved(), true);
    c.backend.failures.getCommand = timeout();
    await c.ssm.check(false, { spread: false });
    assert.equal(c.ssm.targetsResolved(), true);
  });

  test('a fleet never listed is listed even when its ListCommands fails', async () => {
    const c = checker([
      { instanceId: ID, ssm: [at(0, 'InProgress')] },
      { instanceId: ID2, ssm: [at(0, 'InProgress')] },
    ]);
    c.backend.failures.getCommand = timeout();
    await c.ssm.check(false, { spread: false });
    assert.equal(c.backend.calls.listInvocations, 1);
  });

  test('a follow-up with nothing owed sends nothing; the next owed round waits ssmRoundGapMs after one', async () => {
    const idle = checker([
      { instanceId: ID, ssm: [at(0, 'Pending')], pingStatus: 'Offline' },
      { instanceId: ID2, ssm: [at(0, 'Pending')], pingStatus: 'Offline' },
    ]);
    await idle.ssm.runFollowUp();
    assert.equal(idle.backend.calls.pingStatus, 0);

    const c = checker([
      { instanceId: ID, ssm: [at(0, 'InProgress')] },
      { instanceId: ID2, ssm: [at(0, 'InProgress')] },
    ]);
    await c.ssm.regularCheck();
    c.clock.nowMs = 5_000;
    await c.ssm.runFollowUp();
    assert.equal(c.ssm.followUpDueAt(), 5_000 + WAIT_POLICY.ssmRoundGapMs);
  });
});
