// The live-channel machine of the run loop (liveFollower.ts) on its own: a scripted backend and a
// virtual clock, no loop around it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MIN_DELIVERY_TIMEOUT_SECONDS, RENEWAL_EXECUTION_TIMEOUT_SECONDS } from '../../src/core/defaults';
import { WAIT_POLICY } from '../../src/core/waitPolicy';
import { text, type FakeInstance } from '../support/fakeRunBackend';
import { COMMAND_ID, fakeRenewal, follower, ID, ID2, started, renewalAnswers } from '../support/liveFollowerHarness';

describe('live follower: reading the channel', () => {
  test('a pass hands each instance its output in order and marks it started', async () => {
    const { live, run, statuses, stdoutOf, clock } = follower([
      started(ID, [
        {
          at: 0,
          frames: [
            { type: 'start', info: {} },
            { type: 'stdout', data: text('a\n') },
          ],
        },
        { at: 0, frames: [{ type: 'stdout', data: text('b\n') }] },
        { at: 500, frames: [{ type: 'exit', exitCode: 0 }] },
      ]),
    ]);
    assert.equal(await live.poll(false), true);
    assert.equal(stdoutOf(), 'a\nb\n');
    assert.deepEqual(statuses, [{ instanceId: ID, status: 'InProgress', statusDetails: 'InProgress' }]);
    assert.equal(await live.poll(false), false, 'nothing new');
    assert.equal(live.follows(), true);
    clock.nowMs = 600;
    assert.equal(await live.poll(false), true);
    assert.ok(run.get(ID)!.liveEnded);
    assert.equal(live.follows(), false, 'every instance has ended');
    assert.equal(live.completes(run.get(ID)!, 'Success'), true);
  });

  test('interval: 150 ms while output flows, 1 s when idle or for a fleet of 50', () => {
    const one = follower([started(ID, [])]).live;
    assert.equal(one.interval(false), WAIT_POLICY.liveIntervalMs);
    assert.equal(one.interval(true), WAIT_POLICY.liveIdleIntervalMs);
    const ids = Array.from({ length: 50 }, (_, i) => `i-${String(i).padStart(17, '0')}`);
    const fleet = follower(ids.map((id) => started(id, []))).live;
    assert.equal(fleet.interval(false), WAIT_POLICY.liveFleetIntervalMs);
  });

  test('a missing object is skipped after the grace period, with a note, and what follows it arrives', async () => {
    const { live, run, clock, stdoutOf } = follower([
      started(ID, [
        { at: 0, seq: 0, frames: [{ type: 'start', info: {} }] },
        { at: 0, seq: 2, frames: [{ type: 'stdout', data: text('after the gap\n') }] },
      ]),
    ]);
    const p = run.get(ID)!;
    await live.lastLook(p);
    assert.equal(stdoutOf(), '');
    assert.equal(p.gapSinceMs, 0);
    clock.nowMs = WAIT_POLICY.gapGraceMs - 1;
    await live.lastLook(p);
    assert.equal(stdoutOf(), '', 'still within the grace period');
    clock.nowMs = WAIT_POLICY.gapGraceMs;
    await live.lastLook(p);
    assert.equal(stdoutOf(), 'after the gap\n');
    assert.deepEqual(p.notes, ['1 live output object(s) never arrived; output is incomplete']);
  });

  test('a corrupt object makes that instance unreadable, not the others', async () => {
    const { live, run, stdoutOf, backend } = follower([
      started(ID, [{ at: 0, frames: [] }]),
      started(ID2, [{ at: 0, frames: [{ type: 'stdout', data: text('fine\n') }] }]),
    ]);
    const getObjectIfExists = backend.getObjectIfExists.bind(backend);
    backend.getObjectIfExists = async (bucket, key) =>
      key.includes(ID) ? new Uint8Array([0xff, 0, 0, 0, 9]) : getObjectIfExists(bucket, key);
    await live.poll(false);
    assert.match(run.get(ID)!.liveProblem ?? '', /^live output unreadable/);
    assert.equal(run.get(ID2)!.liveProblem, undefined);
    assert.equal(stdoutOf(ID2), 'fine\n');
    assert.equal(live.usable, true);
    assert.equal(live.completes(run.get(ID)!, 'Success'), false, 'SSM output for the corrupt one');
  });

  test("S3's SlowDown neither counts nor gives up; six other failures in a row leave the channel for SSM's output", async () => {
    const { live, backend } = follower([started(ID, [{ at: 0, frames: [{ type: 'start', info: {} }] }])]);
    backend.failures.getObjectIfExists = Object.assign(new Error('Please reduce your request rate.'), {
      name: 'SlowDown',
    });
    for (let i = 0; i < WAIT_POLICY.maxConsecutiveErrors + 2; i++) await live.poll(false);
    assert.equal(live.usable, true);
    backend.failures.getObjectIfExists = Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
    for (let i = 0; i < WAIT_POLICY.maxConsecutiveErrors - 1; i++) await live.poll(false);
    assert.equal(live.usable, true, 'five in a row are tolerated');
    await live.poll(false);
    assert.equal(live.usable, false);
    assert.equal(live.follows(), false);
    assert.equal(await live.poll(false), false);
  });

  test('access denied leaves the channel at once', async () => {
    const { live, backend } = follower([started(ID, [])]);
    backend.failures.getObjectIfExists = Object.assign(new Error('Access Denied'), {
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
    });
    await live.poll(false);
    assert.equal(live.usable, false);
  });
});

describe('live follower: upload policy renewal', () => {
  test('due at the renewal time, sent only to confirmed instances still producing output; unstarted ones named', async () => {
    const { renewal, calls } = fakeRenewal(10_000);
    const { live, run, clock } = follower([started(ID, []), started(ID2, [])], { renewal });
    run.instance('i-00000000000000fff'); // seen only on the live channel (a forged key): never renewed
    run.get(ID)!.startInfo = {};
    assert.equal(live.nextRenewalAt(), 10_000);
    await live.renewIfDue();
    assert.equal(calls.length, 0, 'not before its time');
    clock.nowMs = 10_000;
    await live.renewIfDue();
    assert.deepEqual(
      calls.map((c) => [c.instanceIds, c.proactive, [...(c.notStarted ?? [])]]),
      [[[ID, ID2], true, [ID2]]],
    );
  });

  test('a failed renewal notes the problem once per instance and is tried again 30 s later', async () => {
    const { renewal, calls } = fakeRenewal(0, new Error('AccessDenied: ssm:SendCommand'));
    const { live, run, clock } = follower([started(ID, [])], { renewal });
    await live.renewIfDue();
    assert.equal(live.nextRenewalAt(), 30_000);
    await live.renewIfDue();
    assert.equal(calls.length, 1, 'not retried before the 30 s');
    clock.nowMs = 30_000;
    await live.renewIfDue();
    assert.equal(calls.length, 2);
    assert.equal(run.get(ID)!.notes.length, 1, run.get(ID)!.notes.join('\n'));
    assert.match(
      run.get(ID)!.notes[0],
      /could not be renewed .*asking for the status of command 11111111-2222-3333-4444-555555555555 later fetches it/,
    );
  });

  test('output kept on an instance after its run: one renewal, followed until the renewal command ends', async () => {
    const { renewal, calls } = fakeRenewal(Infinity);
    const instance: FakeInstance = {
      instanceId: ID,
      chunks: [
        { at: 0, frames: [{ type: 'start', info: {} }] },
        {
          at: 3_000,
          frames: [
            { type: 'stdout', data: text('kept\n') },
            { type: 'exit', exitCode: 0 },
          ],
        },
      ],
      ssm: [{ from: 0, status: 'Success', responseCode: 0 }],
    };
    const { live, run, clock, backend, stdoutOf } = follower([instance], { renewal });
    const p = run.get(ID)!;
    await live.poll(false);
    const ended = (await backend.getInvocation(COMMAND_ID, ID))!;
    assert.equal(await live.recoverKeptOutput(p, ended), true);
    assert.deepEqual(
      calls.map((c) => [c.instanceIds, c.proactive]),
      [[[ID], false]],
    );
    assert.equal(p.recoveryCommandId, `renewal-${ID}`);
    // The renewal command's invocation (the fake answers with the instance's own state: ended).
    clock.nowMs = 3_000;
    assert.equal(await live.recoverKeptOutput(p, ended), false);
    assert.equal(stdoutOf(), 'kept\n');
    assert.ok(p.liveEnded);
    assert.deepEqual(p.notes, []);
  });

  test('a renewal still running is waited for as long as it may be delivered and run, then SSM output is used', async () => {
    const { renewal } = fakeRenewal(Infinity);
    const instance: FakeInstance = {
      instanceId: ID,
      chunks: [{ at: 0, frames: [{ type: 'start', info: {} }] }],
      ssm: [{ from: 0, status: 'Success', responseCode: 0 }],
    };
    const { live, run, clock, backend } = follower([instance], { renewal });
    // The renewal command is still uploading (a slow S3): SSM says InProgress for it.
    renewalAnswers(backend, 'InProgress');
    const p = run.get(ID)!;
    await live.poll(false);
    const ended = (await backend.getInvocation(COMMAND_ID, ID))!;
    assert.equal(await live.recoverKeptOutput(p, ended), true);
    const waitMs = (MIN_DELIVERY_TIMEOUT_SECONDS + RENEWAL_EXECUTION_TIMEOUT_SECONDS) * 1000;
    clock.nowMs = waitMs - 1;
    assert.equal(await live.recoverKeptOutput(p, ended), true, 'the renewal may still deliver');
    assert.deepEqual(p.notes, []);
    clock.nowMs = waitMs;
    assert.equal(await live.recoverKeptOutput(p, ended), false);
    assert.deepEqual(p.notes, [`the output kept on instance ${ID} did not arrive within 150 s of renewing its upload`]);
  });

  test('a cancelled or timed-out run has nothing kept to fetch', async () => {
    const { renewal, calls } = fakeRenewal(Infinity);
    const { live, run, backend } = follower(
      [
        {
          instanceId: ID,
          chunks: [{ at: 0, frames: [{ type: 'start', info: {} }] }],
          ssm: [{ from: 0, status: 'Cancelled' }],
        },
      ],
      { renewal },
    );
    await live.poll(false);
    assert.equal(await live.recoverKeptOutput(run.get(ID)!, (await backend.getInvocation(COMMAND_ID, ID))!), false);
    assert.equal(calls.length, 0);
  });
});
