// The live follower's recovery of output kept on an instance and its upload-policy renewal (liveFollower.ts), each
// test written for a mutant that survived the mutation run (docs/testing.md): when kept output is fetched and when
// not, how a failed recovery or renewal is told, and how long a recovery is waited for.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SsmInvocation } from '../../src/core/backend';
import { RECOVERY_WAIT_SECONDS } from '../../src/core/defaults';
import {
  afterOnePass,
  COMMAND_ID,
  endedWith,
  fakeRenewal,
  follower,
  ID,
  started,
  renewalAnswers,
} from '../support/liveFollowerHarness';

describe('live follower: fetching output kept on an instance', () => {
  test('a renewal that ends without the output: one note naming the renewal command and how it ended', async () => {
    const { live, p, invocation, backend, clock } = await afterOnePass(endedWith('Success'));
    renewalAnswers(backend, 'Failed');
    assert.equal(await live.recoverKeptOutput(p, invocation), true);
    clock.nowMs = 1_000;
    assert.equal(await live.recoverKeptOutput(p, invocation), false);
    assert.deepEqual(p.notes, [
      `the output kept on instance ${ID} could not be uploaded (renewal command renewal-${ID}: Failed)`,
    ]);
  });

  test('a renewal that cannot be sent: one note with the reason, and no wait', async () => {
    const renewal = fakeRenewal(Infinity, new Error('User is not authorized to perform: ssm:SendCommand'));
    const { live, p, invocation } = await afterOnePass(endedWith('Success'), renewal);
    assert.equal(await live.recoverKeptOutput(p, invocation), false);
    assert.equal(p.recoverySentAtMs, undefined);
    assert.equal(p.notes.length, 1);
    assert.match(
      p.notes[0],
      new RegExp(`^could not fetch the output kept on instance ${ID} \\(.*ssm:SendCommand.*\\)$`),
    );
  });

  test('a wrapper that ended with Failed has kept its output too', async () => {
    const { live, p, invocation, calls } = await afterOnePass(endedWith('Failed'));
    assert.equal(await live.recoverKeptOutput(p, invocation), true);
    assert.deepEqual(
      calls.map((c) => [c.instanceIds, c.proactive]),
      [[[ID], false]],
    );
  });

  test('nothing to fetch: another end, a run this client timed out or cancelled, or one that never started', async () => {
    for (const status of ['TimedOut', 'Cancelled', 'Undeliverable', 'Terminated', 'InProgress']) {
      const { live, p, invocation, calls } = await afterOnePass(endedWith(status));
      assert.equal(await live.recoverKeptOutput(p, invocation), false, status);
      assert.equal(calls.length, 0, status);
    }
    const timedOut = await afterOnePass(endedWith('Success'));
    timedOut.p.timedOut = true;
    assert.equal(await timedOut.live.recoverKeptOutput(timedOut.p, timedOut.invocation), false);
    const cancelled = await afterOnePass(endedWith('Success'));
    cancelled.p.cancelRequestedAtMs = 0;
    assert.equal(await cancelled.live.recoverKeptOutput(cancelled.p, cancelled.invocation), false);
    const neverStarted = await afterOnePass(endedWith('Success', []));
    assert.equal(await neverStarted.live.recoverKeptOutput(neverStarted.p, neverStarted.invocation), false);
    assert.equal(timedOut.calls.length + cancelled.calls.length + neverStarted.calls.length, 0);
  });

  test('the end frame landing just now needs no renewal; nor does an unreadable channel or a run without renewal', async () => {
    const landing = endedWith('Success', [
      { at: 0, frames: [{ type: 'start', info: {} }] },
      { at: 100, frames: [{ type: 'exit', exitCode: 0 }] },
    ]);
    const late = await afterOnePass(landing);
    late.clock.nowMs = 100;
    assert.equal(await late.live.recoverKeptOutput(late.p, late.invocation), false);
    assert.ok(late.p.liveEnded, 'the last look read it');
    assert.equal(late.calls.length, 0);

    const unreadable = await afterOnePass(endedWith('Success'));
    unreadable.p.liveProblem = 'live output unreadable (corrupt)';
    assert.equal(await unreadable.live.recoverKeptOutput(unreadable.p, unreadable.invocation), false);
    assert.equal(unreadable.calls.length, 0);

    const f = follower([endedWith('Success')]);
    await f.live.poll(false);
    const invocation = (await f.backend.getInvocation(COMMAND_ID, ID)) as SsmInvocation;
    assert.equal(await f.live.recoverKeptOutput(f.run.get(ID)!, invocation), false);
    assert.equal(f.live.nextRenewalAt(), Infinity, 'no renewal: never due');
  });
});

describe('live follower: renewal edges', () => {
  test('a renewal that fails, then succeeds, then fails again notes the new failure', async () => {
    let failWith: Error | undefined = new Error('ThrottlingException: Rate exceeded');
    const { renewal } = fakeRenewal(0);
    const renew = renewal.renew.bind(renewal);
    renewal.renew = async (ids, options) => {
      if (failWith) throw failWith;
      return renew(ids, options);
    };
    const { live, run, clock } = follower([started(ID, [])], { renewal });
    await live.renewIfDue();
    clock.nowMs = 30_000;
    failWith = undefined;
    await live.renewIfDue();
    assert.equal(run.get(ID)!.notes.length, 1);
    failWith = new Error('ThrottlingException: Rate exceeded');
    await live.renewIfDue();
    assert.equal(run.get(ID)!.notes.length, 2, 'the same problem after a success is news again');
  });

  test('nothing still producing output: no renewal is sent', async () => {
    const { renewal, calls } = fakeRenewal(0);
    const { live, run } = follower([started(ID, [])], { renewal });
    run.get(ID)!.final = true;
    await live.renewIfDue();
    assert.equal(calls.length, 0);
  });

  test('a channel given up on fetches nothing kept; a run without renewal tries nothing and notes nothing', async () => {
    const { live, p, invocation, backend, calls } = await afterOnePass(endedWith('Success'));
    backend.failures.listKeys = Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
    await live.lastLook(p);
    assert.equal(live.usable, false);
    assert.equal(await live.recoverKeptOutput(p, invocation), false);
    assert.equal(calls.length, 0);

    const f = follower([endedWith('Success')]);
    await f.live.poll(false);
    const own = (await f.backend.getInvocation(COMMAND_ID, ID)) as SsmInvocation;
    assert.equal(await f.live.recoverKeptOutput(f.run.get(ID)!, own), false);
    assert.deepEqual(f.run.get(ID)!.notes, []);
  });

  test('a recovery is waited for from when its renewal was sent', async () => {
    const { live, p, invocation, backend, clock } = await afterOnePass(endedWith('Success'));
    renewalAnswers(backend, 'InProgress');
    clock.nowMs = 60_000;
    assert.equal(await live.recoverKeptOutput(p, invocation), true);
    assert.equal(p.recoverySentAtMs, 60_000);
    clock.nowMs = 60_000 + RECOVERY_WAIT_SECONDS * 1000 - 1;
    assert.equal(await live.recoverKeptOutput(p, invocation), true);
    clock.nowMs += 1;
    assert.equal(await live.recoverKeptOutput(p, invocation), false);
    assert.equal(p.notes.length, 1);
  });
});
