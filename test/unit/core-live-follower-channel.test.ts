// The live follower's reading of the channel (liveFollower.ts), each test written for a mutant that survived the
// mutation run (docs/testing.md): which runs the live output completes, who is followed and found, the status a
// start frame gives, the upload rhythm, gaps, and when a run of S3 failures ends.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LIVE_UPLOAD_GAP_SECONDS } from '../../src/core/defaults';
import { WAIT_POLICY } from '../../src/core/waitPolicy';
import { chunkKey, encodeFrames } from '../../src/core/remote';
import { BUCKET, RUN_PREFIX, text, type FakeInstance } from '../support/fakeRunBackend';
import { afterOnePass, endedWith, follower, ID, ID2, started } from '../support/liveFollowerHarness';

describe('live follower: what the live output completes, and who is followed', () => {
  test('a run ended by SSM (cancelled, timed out, undeliverable, terminated) is complete with what arrived', async () => {
    const { live, p } = await afterOnePass(endedWith('InProgress'));
    for (const status of ['Cancelled', 'TimedOut', 'Undeliverable', 'Terminated'])
      assert.equal(live.completes(p, status), true, status);
    assert.equal(live.completes(p, 'Success'), false, 'ended on its own without its end frame: output is kept');
    assert.equal(live.completes(p, 'Failed'), false);
    const noStart = await afterOnePass(endedWith('InProgress', []));
    assert.equal(noStart.live.completes(noStart.p, 'Cancelled'), false, 'nothing arrived: SSM output');
    p.liveProblem = 'lost';
    assert.equal(live.completes(p, 'Cancelled'), false);
  });

  test('tag targets: an instance found on the channel is read in the same pass, until SSM has named them all', async () => {
    let resolved = false;
    const { live, stdoutOf, run } = follower(
      [started(ID, [{ at: 0, frames: [{ type: 'stdout', data: text('found\n') }] }])],
      { targeted: [], discoverInstances: true, targetsResolved: () => resolved },
    );
    assert.equal(live.follows(), true, 'instances may still be found');
    assert.equal(await live.poll(false), true);
    assert.equal(stdoutOf(), 'found\n');
    assert.equal(run.get(ID)!.confirmed, false, 'seen on the channel only');
    run.get(ID)!.final = true;
    assert.equal(live.follows(), true);
    resolved = true;
    assert.equal(live.follows(), false);
  });

  test('a pass over all instances reads the finished ones too; a regular pass only those still producing', async () => {
    const { live, run, stdoutOf, clock } = follower([
      started(ID, [
        { at: 0, frames: [{ type: 'start', info: {} }] },
        { at: 100, frames: [{ type: 'stdout', data: text('late\n') }] },
      ]),
      started(ID2, []),
    ]);
    await live.poll(false);
    run.get(ID)!.final = true;
    clock.nowMs = 100;
    assert.equal(await live.poll(false), false);
    assert.equal(stdoutOf(), '');
    assert.equal(await live.poll(true), true);
    assert.equal(stdoutOf(), 'late\n');
  });

  test('a missing object of an instance SSM reports ended is skipped at once, not after the grace period', async () => {
    const { live, run, stdoutOf } = follower([
      started(ID, [
        { at: 0, seq: 0, frames: [{ type: 'start', info: {} }] },
        { at: 0, seq: 2, frames: [{ type: 'stdout', data: text('after the gap\n') }] },
      ]),
    ]);
    const p = run.get(ID)!;
    p.ssm = { instanceId: ID, status: 'Success', statusDetails: 'Success', responseCode: 0 };
    await live.lastLook(p);
    assert.equal(stdoutOf(), 'after the gap\n');
    assert.deepEqual(p.notes, ['1 live output object(s) never arrived; output is incomplete']);
  });
});

describe('live follower: S3 failures in a row', () => {
  test('only an answer from S3 ends a run of failures: a pass that sends nothing does not', async () => {
    const { live, backend, run } = follower([started(ID, [{ at: 0, frames: [{ type: 'start', info: {} }] }])]);
    backend.failures.getObjectIfExists = Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
    for (let i = 0; i < WAIT_POLICY.maxConsecutiveErrors - 1; i++) await live.poll(false);
    run.get(ID)!.final = true;
    const calls = backend.log.length;
    await live.poll(false);
    assert.equal(backend.log.length, calls, 'a pass with nothing to read sends no request');
    run.get(ID)!.final = false;
    await live.poll(false);
    assert.equal(live.usable, false, 'the failure after it is the sixth in a row');
  });

  test('an answer in between starts the count again', async () => {
    const { live, backend } = follower([started(ID, [{ at: 0, frames: [{ type: 'start', info: {} }] }])]);
    const failure = Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
    backend.failures.getObjectIfExists = failure;
    for (let i = 0; i < WAIT_POLICY.maxConsecutiveErrors - 1; i++) await live.poll(false);
    backend.failures.getObjectIfExists = undefined;
    await live.poll(false);
    backend.failures.getObjectIfExists = failure;
    for (let i = 0; i < WAIT_POLICY.maxConsecutiveErrors - 1; i++) await live.poll(false);
    assert.equal(live.usable, true);
    assert.equal(live.nextRenewalAt(), Infinity);
  });
});

describe('live follower: passes', () => {
  test('an instance still producing keeps the follower going while others have ended', async () => {
    const { live, run } = follower([started(ID, []), started(ID2, [])]);
    run.get(ID)!.final = true;
    assert.equal(live.follows(), true);
    run.get(ID2)!.final = true;
    assert.equal(live.follows(), false);
  });

  test('instance targets find nobody on the channel, even before SSM has named its targets', async () => {
    const forged = started(ID2, [{ at: 0, frames: [{ type: 'stdout', data: text('forged\n') }] }]);
    const { live, run, stdoutOf } = follower([started(ID, []), forged], {
      targeted: [ID],
      targetsResolved: () => false,
    });
    await live.poll(false);
    assert.equal(run.get(ID2), undefined);
    assert.equal(stdoutOf(ID2), '');
  });

  test('a failed listing of a tag-target run is a pass without news, and invents no instance', async () => {
    const { live, run, backend } = follower([started(ID, [{ at: 0, frames: [{ type: 'start', info: {} }] }])], {
      targeted: [],
      discoverInstances: true,
      targetsResolved: () => false,
    });
    backend.failures.listKeys = Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
    assert.equal(await live.poll(false), false);
    assert.deepEqual(
      run.all().map((p) => p.instanceId),
      [],
    );
    assert.equal(live.usable, true);
  });

  test('a channel given up on sends no request, even once S3 answers again', async () => {
    const { live, backend } = follower([started(ID, [{ at: 0, frames: [{ type: 'start', info: {} }] }])]);
    backend.failures.getObjectIfExists = Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
    await live.poll(false);
    assert.equal(live.usable, false);
    backend.failures.getObjectIfExists = undefined;
    const calls = backend.log.length;
    assert.equal(await live.poll(false), false);
    assert.equal(backend.log.length, calls);

    const tagTargets = follower([started(ID, [])], {
      targeted: [],
      discoverInstances: true,
      targetsResolved: () => false,
    });
    tagTargets.backend.failures.listKeys = Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
    await tagTargets.live.poll(false);
    tagTargets.backend.failures.listKeys = undefined;
    await tagTargets.live.poll(false);
    assert.equal(tagTargets.backend.calls.listKeys, 1, 'no listing to find instances either');
  });

  test('output without its start frame (the first object lost) does not mark the instance started', async () => {
    const { live, run, statuses, clock } = follower([
      started(ID, [{ at: 0, seq: 1, frames: [{ type: 'stdout', data: text('x\n') }] }]),
    ]);
    const p = run.get(ID)!;
    await live.lastLook(p);
    clock.nowMs = WAIT_POLICY.gapGraceMs;
    await live.lastLook(p);
    assert.equal(p.notes.length, 1, 'the first object was skipped');
    assert.deepEqual(statuses, []);
    assert.equal(p.startedAtMs, undefined);
  });

  test('instances still waiting their turn in a pass send nothing once the channel is given up on', async () => {
    const ids = Array.from(
      { length: WAIT_POLICY.liveParallelInstances + 8 },
      (_, i) => `i-${String(i).padStart(17, '0')}`,
    );
    const { live, backend } = follower(
      ids.map((id) => started(id, [{ at: 0, frames: [{ type: 'start', info: {} }] }])),
    );
    backend.failures.getObject = Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
    assert.equal(await live.poll(false), false, 'nothing arrived');
    assert.equal(backend.calls.listKeys, 1, 'a fleet this size lists');
    assert.equal(live.usable, false);
    assert.ok(backend.calls.getObject <= WAIT_POLICY.liveParallelInstances, `${backend.calls.getObject} GETs`);
  });

  test("the start frame marks a Pending or Delayed instance InProgress at once; SSM's own status is kept", async () => {
    const chunks: FakeInstance['chunks'] = [
      { at: 0, frames: [{ type: 'start', info: {} }] },
      { at: 500, frames: [{ type: 'stdout', data: text('later\n') }] },
    ];
    const fresh = follower([started(ID, chunks)]);
    await fresh.live.poll(false);
    assert.deepEqual(fresh.statuses, [{ instanceId: ID, status: 'InProgress', statusDetails: 'InProgress' }]);
    fresh.clock.nowMs = 500;
    await fresh.live.poll(false);
    assert.equal(fresh.statuses.length, 1, 'once');
    const delayed = follower([started(ID, chunks)]);
    delayed.run.get(ID)!.status = 'Delayed';
    await delayed.live.poll(false);
    assert.deepEqual(
      delayed.statuses,
      [{ instanceId: ID, status: 'InProgress', statusDetails: 'InProgress' }],
      'Delayed',
    );

    for (const status of ['InProgress', 'Success']) {
      const known = follower([started(ID, chunks)]);
      known.run.get(ID)!.status = status;
      await known.live.poll(false);
      assert.deepEqual(known.statuses, [], status);
      assert.equal(known.run.get(ID)!.status, status);
    }
  });

  test("the reader paces itself by the instances' upload gap: a fleet's object every 6 s is continuous output", async () => {
    const gapMs = LIVE_UPLOAD_GAP_SECONDS.fleet * 1000;
    const every = (n: number) =>
      Array.from({ length: n }, (_, i) => ({
        at: i * gapMs,
        frames: [{ type: 'stdout' as const, data: text(`${i}\n`) }],
      }));
    const f = follower([started(ID, every(3))], {});
    const paced = follower([started(ID, every(3))], { uploadGapSeconds: LIVE_UPLOAD_GAP_SECONDS.fleet });
    for (const { live, clock } of [f, paced]) {
      await live.poll(false);
      clock.nowMs = gapMs;
      await live.poll(false);
      clock.nowMs = gapMs + WAIT_POLICY.liveIntervalMs;
    }
    const before = [f, paced].map(({ backend }) => backend.calls.getObjectIfExists);
    await f.live.poll(false);
    await paced.live.poll(false);
    assert.equal(f.backend.calls.getObjectIfExists - before[0], 1, 'a watched run: 6 s apart is not its rhythm');
    assert.equal(paced.backend.calls.getObjectIfExists - before[1], 0, 'the next object is not due yet');
  });

  test('a gap that fills in ends its grace period; a later gap has its own, and its skip is news', async () => {
    const { live, run, clock, stdoutOf } = follower([
      started(ID, [
        { at: 0, seq: 0, frames: [{ type: 'start', info: {} }] },
        { at: 0, seq: 2, frames: [{ type: 'stdout', data: text('2\n') }] },
        { at: 3_000, seq: 1, frames: [{ type: 'stdout', data: text('1\n') }] },
        { at: 3_000, seq: 4, frames: [{ type: 'stdout', data: text('4\n') }] },
      ]),
    ]);
    const p = run.get(ID)!;
    await live.lastLook(p);
    assert.equal(p.gapSinceMs, 0);
    clock.nowMs = 3_000;
    await live.poll(false);
    assert.equal(stdoutOf(), '1\n2\n');
    assert.equal(p.gapSinceMs, undefined, 'filled in');
    await live.lastLook(p);
    assert.equal(p.gapSinceMs, 3_000, 'the gap before seq 4 is a new one');
    clock.nowMs = 3_000 + WAIT_POLICY.gapGraceMs - 1;
    assert.equal(await live.poll(false), false, 'within its own grace period');
    clock.nowMs += 1;
    assert.equal(await live.poll(false), true, 'skipped, and what follows arrived');
    assert.equal(stdoutOf(), '1\n2\n4\n');
  });

  test('a pass that finds only a corrupt object brings no news', async () => {
    const { live, run, backend } = follower([started(ID, [{ at: 0, frames: [] }])]);
    backend.getObjectIfExists = async () => new Uint8Array([0xff, 0, 0, 0, 9]);
    assert.equal(await live.poll(false), false);
    assert.match(run.get(ID)!.liveProblem ?? '', /^live output unreadable/);
  });

  test('a pass priced at many LIST calls (6,000 keys listed so far) spaces the next one out', async () => {
    const { live, backend } = follower([started(ID, [])], {
      targeted: [],
      discoverInstances: true,
      targetsResolved: () => false,
    });
    const keys = Array.from({ length: 6_000 }, (_, seq) => chunkKey(RUN_PREFIX, ID, seq));
    const empty = encodeFrames([]);
    backend.listKeys = async (bucket, _prefix, startAfter) => {
      assert.equal(bucket, BUCKET);
      return startAfter === undefined ? keys : [];
    };
    backend.getObject = async () => empty;
    // The first listing finds the instance and takes its first key only (it is not followed yet); the second takes
    // the rest; the third is priced by the 6,000 keys listed so far.
    for (let pass = 0; pass < 2; pass++) {
      await live.poll(false);
      assert.equal(live.interval(false), WAIT_POLICY.liveIntervalMs, 'priced at one call: few keys listed before');
    }
    await live.poll(false);
    assert.equal(live.interval(false), 7 * WAIT_POLICY.livePerListCallMs);
    assert.ok(7 * WAIT_POLICY.livePerListCallMs > WAIT_POLICY.liveIntervalMs);
  });
});
