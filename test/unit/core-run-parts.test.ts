// The run loop's smaller parts on their own (issue 18, mutation testing): the call guard, the
// cancellation machine, the live-channel reader and the final results, each with a recording fake and a virtual clock.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RunnerError } from '../../src/core/api';
import type { SsmInvocation } from '../../src/core/backend';
import { CallGuard } from '../../src/core/callGuard';
import { Cancellation } from '../../src/core/cancellation';
import {
  GET_COST_IN_LISTS,
  LiveChannelReader,
  liveOutputLocation,
  parseLiveLocation,
  type LiveChannelBackend,
} from '../../src/core/liveChannelReader';
import { LIVE_OUTPUT_UNAVAILABLE } from '../../src/core/outcome';
import type { InstanceProgress } from '../../src/core/progress';
import { chunkKey, CorruptFramesError, encodeFrames, REBOOT_CODE_NOTE, type Frame } from '../../src/core/remote';
import { RunInstances } from '../../src/core/runInstances';
import { RunResults } from '../../src/core/runResults';
import { WAIT_POLICY } from '../../src/core/waitPolicy';
import { FakeClock, text } from '../support/fakeRunBackend';

const ID = 'i-0123456789abcdef0';
const ID2 = 'i-0123456789abcdef1';
const COMMAND_ID = '11111111-2222-3333-4444-555555555555';
const awsError = (name: string) => Object.assign(new Error(`${name} happened`), { name });

describe('call guard', () => {
  function guard(options?: ConstructorParameters<typeof CallGuard>[1]) {
    const givenUp: RunnerError[] = [];
    return { guard: new CallGuard((error) => givenUp.push(error), options), givenUp };
  }
  const fail = (name: string) => () => Promise.reject(awsError(name));

  test("a call's value passes through; a transient failure is undefined", async () => {
    const { guard: g, givenUp } = guard();
    assert.equal(await g.call(async () => 42), 42);
    assert.equal(await g.call(fail('InternalError')), undefined);
    assert.deepEqual(givenUp, []);
  });

  test('gives up at the sixth failure in a row, with the mapped error; an answer in between forgives', async () => {
    const { guard: g, givenUp } = guard();
    for (let i = 0; i < WAIT_POLICY.maxConsecutiveErrors - 1; i++) await g.call(fail('InternalError'));
    await g.call(async () => 'ok');
    for (let i = 0; i < WAIT_POLICY.maxConsecutiveErrors - 1; i++) await g.call(fail('InternalError'));
    assert.equal(givenUp.length, 0, 'five failures after an answer');
    await g.call(fail('InternalError'));
    assert.equal(givenUp.length, 1);
    assert.ok(givenUp[0] instanceof RunnerError);
  });

  test('a permission or credential problem gives up at once', async () => {
    for (const name of ['AccessDeniedException', 'ExpiredTokenException']) {
      const { guard: g, givenUp } = guard();
      await g.call(fail(name));
      assert.equal(givenUp.length, 1, name);
    }
  });

  test('no credentials, invalid credentials or no region give up at once', async () => {
    for (const code of ['NoCredentials', 'CredentialsExpired', 'InvalidCredentials', 'NoRegion']) {
      const { guard: g, givenUp } = guard();
      await g.call(() => Promise.reject(new RunnerError(`${code} problem`, code)));
      assert.equal(givenUp.length, 1, code);
    }
  });

  test('throttling counts unless the guard tolerates it', async () => {
    const tolerant = guard({ toleratesThrottling: true });
    for (let i = 0; i < 10; i++) assert.equal(await tolerant.guard.call(fail('SlowDown')), undefined);
    assert.equal(tolerant.givenUp.length, 0);
    const strict = guard();
    for (let i = 0; i < WAIT_POLICY.maxConsecutiveErrors; i++) await strict.guard.call(fail('SlowDown'));
    assert.equal(strict.givenUp.length, 1);
    assert.equal(strict.givenUp[0].code, 'Throttled');
  });

  test('resetsOnAnswerOnly: a call that succeeds without an answer forgives nothing; answered() does', async () => {
    const { guard: g, givenUp } = guard({ resetsOnAnswerOnly: true });
    for (let i = 0; i < WAIT_POLICY.maxConsecutiveErrors - 1; i++) await g.call(fail('InternalError'));
    await g.call(async () => 'nothing sent');
    await g.call(fail('InternalError'));
    assert.equal(givenUp.length, 1);
    const second = guard({ resetsOnAnswerOnly: true });
    for (let i = 0; i < WAIT_POLICY.maxConsecutiveErrors - 1; i++) await second.guard.call(fail('InternalError'));
    second.guard.answered();
    await second.guard.call(fail('InternalError'));
    assert.equal(second.givenUp.length, 0);
  });

  test('a corrupt live object is thrown to the caller, unmapped', async () => {
    const { guard: g, givenUp } = guard();
    const corrupt = new CorruptFramesError('bad frame');
    await assert.rejects(
      g.call(() => Promise.reject(corrupt)),
      (error) => error === corrupt,
    );
    assert.deepEqual(givenUp, []);
  });
});

describe('cancellation', () => {
  function cancellation(options: { timeoutSeconds?: number; singleTarget?: boolean; ids?: string[] } = {}) {
    const clock = new FakeClock();
    const instances = new RunInstances(options.ids ?? [ID, ID2]);
    const sent: Array<{ at: number; ids: string[] | undefined }> = [];
    const finalized: Array<{ id: string; status: string; details: string; notes: string[] }> = [];
    let failure: unknown;
    let assumed = 0;
    const machine = new Cancellation({
      commandId: COMMAND_ID,
      backend: {
        cancel: async (_commandId: string, ids?: string[]) => {
          sent.push({ at: clock.now(), ids });
          if (failure) throw failure;
        },
      } as never,
      clock,
      instances,
      timeoutSeconds: options.timeoutSeconds,
      singleTarget: options.singleTarget ?? false,
      counted: () => instances.all(),
      finalize: async (p, status, details) => {
        finalized.push({ id: p.instanceId, status, details, notes: [...p.notes] });
        p.final = true;
      },
      assumeCancelled: () => assumed++,
    });
    const started = (id: string, at: number) => (instances.get(id)!.startedAtMs = at);
    return {
      clock,
      instances,
      machine,
      sent,
      finalized,
      started,
      assumed: () => assumed,
      failWith: (error: unknown) => (failure = error),
    };
  }

  test('a request cancels the whole command once asked, and remembers the first time', async () => {
    const c = cancellation();
    c.clock.nowMs = 1_000;
    const [a, b] = c.instances.all();
    await c.machine.request([a]);
    c.clock.nowMs = 2_000;
    await c.machine.request([a, b]);
    assert.deepEqual(c.sent, [
      { at: 1_000, ids: undefined },
      { at: 2_000, ids: undefined },
    ]);
    assert.equal(c.machine.requestedAtMs, 1_000);
    assert.equal(a.cancelRequestedAtMs, 1_000);
    assert.equal(b.cancelRequestedAtMs, 1_000, 'the command was asked to cancel at the first request');
  });

  test('deadlines: started + timeout for confirmed, open, started instances; the end of waiting for a cancel', async () => {
    const c = cancellation({ timeoutSeconds: 10 });
    assert.equal(c.machine.nextDeadline(), Infinity, 'nothing started');
    c.started(ID, 3_000);
    c.started(ID2, 1_000);
    assert.equal(c.machine.nextDeadline(), 11_000);
    const [, b] = c.instances.all();
    b.final = true;
    assert.equal(c.machine.nextDeadline(), 13_000, 'a final instance has no deadline');
    b.final = false;
    b.timedOut = true;
    assert.equal(c.machine.nextDeadline(), 13_000, 'a timed-out instance has no deadline');
    c.instances.instance('i-00000000000000001').startedAtMs = 0;
    assert.equal(c.machine.nextDeadline(), 13_000, 'an unconfirmed instance has no deadline');
    c.clock.nowMs = 500;
    await c.machine.request([]);
    assert.equal(c.machine.nextDeadline(), 13_000);
    const noTimeout = cancellation();
    noTimeout.started(ID, 0);
    assert.equal(noTimeout.machine.nextDeadline(), Infinity);
    noTimeout.clock.nowMs = 2_000;
    await noTimeout.machine.request([]);
    assert.equal(noTimeout.machine.nextDeadline(), 2_000 + WAIT_POLICY.cancelConfirmLimitMs);
  });

  test('a timeout cancels only the expired instances of a fleet, at its deadline and not before', async () => {
    const c = cancellation({ timeoutSeconds: 10 });
    c.started(ID, 0);
    c.started(ID2, 5_000);
    c.clock.nowMs = 9_999;
    await c.machine.enforceTimeouts();
    assert.deepEqual(c.sent, []);
    assert.equal(c.machine.requestedAtMs, undefined);
    c.clock.nowMs = 10_000;
    await c.machine.enforceTimeouts();
    assert.deepEqual(c.sent, [{ at: 10_000, ids: [ID] }]);
    const [a, b] = c.instances.all();
    assert.equal(a.timedOut, true);
    assert.equal(a.cancelRequestedAtMs, 10_000);
    assert.equal(b.timedOut, false);
    assert.equal(c.machine.requestedAtMs, 10_000);
    c.clock.nowMs = 15_000;
    await c.machine.enforceTimeouts();
    assert.deepEqual(c.sent[1], { at: 15_000, ids: [ID2] });
    assert.equal(c.machine.requestedAtMs, 10_000, 'the first request time stays');
    await c.machine.enforceTimeouts();
    assert.equal(c.sent.length, 2, 'a timed-out instance is cancelled once');
  });

  test('one targeted instance: its timeout cancels the whole command', async () => {
    const c = cancellation({ timeoutSeconds: 1, singleTarget: true, ids: [ID] });
    c.started(ID, 0);
    c.clock.nowMs = 1_000;
    await c.machine.enforceTimeouts();
    assert.deepEqual(c.sent, [{ at: 1_000, ids: undefined }]);
  });

  test('CancelCommand: a permission problem is thrown, mapped; anything else is left to the next check', async () => {
    const c = cancellation();
    c.failWith(awsError('InvalidCommandId'));
    await c.machine.send(undefined);
    c.failWith(awsError('AccessDeniedException'));
    await assert.rejects(
      c.machine.send([ID]),
      (error) => error instanceof RunnerError && error.code === 'AccessDenied',
    );
  });

  test('SSM never confirms: after 30 s the open instances end as Cancelled or TimedOut, with a note', async () => {
    const c = cancellation({ timeoutSeconds: 5, ids: [ID, ID2, 'i-00000000000000003'] });
    await c.machine.giveUpIfUnconfirmed();
    assert.equal(c.assumed(), 0, 'nothing asked');
    const [a, b, done] = c.instances.all();
    done.final = true;
    c.started(ID, 0);
    c.clock.nowMs = 5_000;
    await c.machine.enforceTimeouts(); // a times out at 5 s
    await c.machine.request([b]);
    c.clock.nowMs = 5_000 + WAIT_POLICY.cancelConfirmLimitMs - 1;
    await c.machine.giveUpIfUnconfirmed();
    assert.deepEqual(c.finalized, []);
    assert.equal(c.assumed(), 0);
    c.clock.nowMs = 5_000 + WAIT_POLICY.cancelConfirmLimitMs;
    await c.machine.giveUpIfUnconfirmed();
    assert.deepEqual(c.finalized, [
      {
        id: a.instanceId,
        status: 'TimedOut',
        details: 'ExecutionTimedOut',
        notes: ['SSM did not confirm the cancellation'],
      },
      { id: b.instanceId, status: 'Cancelled', details: 'Cancelled', notes: ['SSM did not confirm the cancellation'] },
    ]);
    assert.equal(c.assumed(), 1);
  });
});

/** A live channel in memory: keys in S3's order, every call recorded. */
class FakeChannel implements LiveChannelBackend {
  readonly objects = new Map<string, Uint8Array>();
  readonly calls: string[] = [];
  put(instanceId: string, seq: number, frames: Frame[]): void {
    this.objects.set(chunkKey(PREFIX, instanceId, seq), encodeFrames(frames));
  }
  async listKeys(_bucket: string, prefix: string, startAfter?: string): Promise<string[]> {
    this.calls.push(`list ${prefix} after ${startAfter ?? '-'}`);
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix) && (!startAfter || k > startAfter)).sort();
  }
  async getObject(_bucket: string, key: string): Promise<Uint8Array> {
    this.calls.push(`get ${key}`);
    const body = this.objects.get(key);
    if (!body) throw awsError('NoSuchKey');
    return body;
  }
  async getObjectIfExists(_bucket: string, key: string): Promise<Uint8Array | undefined> {
    this.calls.push(`probe ${key}`);
    return this.objects.get(key);
  }
}

const PREFIX = 'ec2-runner/runs/abc/';
const out = (s: string): Frame[] => [{ type: 'stdout', data: text(s) }];

describe('live channel reader', () => {
  function reader(uploadGapMs = 0) {
    const channel = new FakeChannel();
    const clock = new FakeClock();
    const seen: string[] = [];
    const r = new LiveChannelReader(
      channel,
      { bucket: 'b', runPrefix: PREFIX },
      (id, frames) => {
        for (const f of frames) if (f.type === 'stdout') seen.push(`${id.slice(-1)}:${Buffer.from(f.data).toString()}`);
      },
      uploadGapMs,
      () => clock.now(),
    );
    return { channel, clock, seen, r };
  }

  test('locations: s3://bucket/prefix with a trailing slash added; anything else is not one', () => {
    assert.deepEqual(parseLiveLocation('s3://b/runs/r1'), { bucket: 'b', runPrefix: 'runs/r1/' });
    assert.deepEqual(parseLiveLocation('s3://b/runs/r1/'), { bucket: 'b', runPrefix: 'runs/r1/' });
    assert.deepEqual(parseLiveLocation('s3://my-bucket/r/'), { bucket: 'my-bucket', runPrefix: 'r/' });
    for (const bad of ['s3://b/', 's3:///runs/', 'https://b/runs/', ' s3://b/runs/', 's3://b'])
      assert.equal(parseLiveLocation(bad), undefined, bad);
    assert.equal(liveOutputLocation({ bucket: 'b', runPrefix: 'runs/r1/' }), 's3://b/runs/r1/');
  });

  test('nothing followed and nothing to discover: no call at all', async () => {
    const { r, channel } = reader();
    assert.deepEqual(await r.list([], { discover: false }), { discovered: [], listCalls: 0 });
    assert.deepEqual(channel.calls, []);
  });

  test('one instance is probed with GETs of its next keys until one is missing, in order', async () => {
    const { r, channel, seen } = reader();
    for (let seq = 0; seq < 3; seq++) channel.put(ID, seq, out(`${seq}`));
    assert.deepEqual(await r.list([ID], { discover: false }), { discovered: [], listCalls: GET_COST_IN_LISTS });
    assert.deepEqual(channel.calls, [], 'a probe pass sends its GETs when drained');
    assert.equal(await r.drain(ID), 3);
    assert.deepEqual(seen, ['0:0', '0:1', '0:2']);
    assert.deepEqual(
      channel.calls,
      [0, 1, 2, 3].map((seq) => `probe ${chunkKey(PREFIX, ID, seq)}`),
    );
    channel.calls.length = 0;
    assert.equal(await r.drain(ID), 0, 'not probed again without a pass');
    assert.deepEqual(channel.calls, []);
    await r.list([ID], { discover: false });
    assert.equal(await r.drain(ID), 0);
    assert.deepEqual(channel.calls, [`probe ${chunkKey(PREFIX, ID, 3)}`], 'the next pass starts where it stopped');
  });

  test('a probe stops at the exit frame: nothing comes after it, so no GET looks for more', async () => {
    const { r, channel, seen } = reader();
    channel.put(ID, 0, out('a'));
    channel.put(ID, 1, [...out('b'), { type: 'exit', exitCode: 0 }]);
    await r.list([ID], { discover: false });
    assert.equal(await r.drain(ID), 2);
    assert.deepEqual(seen, ['0:a', '0:b']);
    assert.deepEqual(
      channel.calls,
      [0, 1].map((seq) => `probe ${chunkKey(PREFIX, ID, seq)}`),
    );
  });

  test('a fleet lists the run prefix once, after the first followed instance in key order', async () => {
    const { r, channel, seen } = reader();
    const ids = Array.from({ length: 13 }, (_, i) => `i-${String(i).padStart(17, '0')}`);
    for (const id of ids) channel.put(id, 0, out(id.slice(-2)));
    channel.put('i-zzzzzzzzzzzzzzzzz', 0, out('not an instance id'));
    const pass = await r.list([...ids].reverse(), { discover: false });
    assert.deepEqual(pass, { discovered: [], listCalls: 1 });
    assert.deepEqual(channel.calls, [`list ${PREFIX} after ${PREFIX}${ids[0]}/`]);
    for (const id of ids) assert.equal(await r.drain(id), 1);
    assert.equal(seen.length, 13);
    assert.ok(
      channel.calls.slice(1).every((call) => call.startsWith('get ')),
      'listed objects are fetched, not probed',
    );
    channel.calls.length = 0;
    await r.list(ids, { discover: false });
    assert.deepEqual(channel.calls, [`list ${PREFIX} after ${chunkKey(PREFIX, ids[0], 0)}`], 'after what is known');
    assert.deepEqual(
      await r.list(ids.slice(1), { discover: false }),
      {
        discovered: [],
        listCalls: 12 * GET_COST_IN_LISTS,
      },
      'twelve instances: twelve GETs cost less than one LIST',
    );
  });

  test('discovery lists the whole prefix and names the instances not seen before, once', async () => {
    const { r, channel } = reader();
    channel.put(ID, 0, out('a'));
    channel.put(ID2, 0, out('b'));
    channel.objects.set(`${PREFIX}i-0123456789abcdef2/not-a-seq`, new Uint8Array());
    assert.deepEqual(await r.list([ID], { discover: true }), { discovered: [ID2], listCalls: 1 });
    assert.deepEqual(channel.calls, [`list ${PREFIX} after -`]);
    assert.deepEqual(await r.list([ID], { discover: true }), { discovered: [], listCalls: 1 });
  });

  test('keys already listed, or of objects already read, are not taken again', async () => {
    const { r, channel, seen } = reader();
    channel.put(ID, 0, out('a'));
    await r.poll(ID);
    assert.deepEqual(await r.list([ID, ID2], { discover: true }), { discovered: [], listCalls: 1 });
    assert.equal(await r.drain(ID), 0);
    assert.deepEqual(seen, ['0:a']);
  });

  test('listed objects are fetched eight at a time, in sequence order', async () => {
    const { r, channel, seen } = reader();
    for (let seq = 0; seq < 20; seq++) channel.put(ID, seq, out(`${seq},`));
    let inFlight = 0;
    let most = 0;
    const get = channel.getObject.bind(channel);
    channel.getObject = async (bucket, key) => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      return get(bucket, key);
    };
    assert.equal(await r.poll(ID), 20);
    assert.equal(most, 8);
    assert.equal(seen.map((s) => s.slice(2)).join(''), Array.from({ length: 20 }, (_, i) => `${i},`).join(''));
    assert.equal(channel.calls[0], `list ${PREFIX}${ID}/ after -`);
    channel.calls.length = 0;
    await r.poll(ID);
    assert.deepEqual(channel.calls, [`list ${PREFIX}${ID}/ after ${chunkKey(PREFIX, ID, 19)}`]);
  });

  test('a missing object: the gap is reported, skipped on request, and what follows it arrives', async () => {
    const { r, channel, seen } = reader();
    assert.equal(r.gapOf(ID), undefined, 'unknown instance');
    assert.equal(r.skipGap(ID), 0, 'nothing to skip');
    channel.put(ID, 0, out('a'));
    channel.put(ID, 3, out('d'));
    await r.poll(ID);
    assert.deepEqual(seen, ['0:a']);
    assert.equal(r.gapOf(ID), 1);
    assert.equal(r.skipGap(ID), 2);
    assert.equal(r.gapOf(ID), 1 + 2, 'the gap stays until what follows is read');
    assert.equal(await r.drain(ID), 1);
    assert.deepEqual(seen, ['0:a', '0:d']);
    assert.equal(r.gapOf(ID), undefined);
  });

  test('continuous output: objects one upload gap apart hold back the next probe for 3/4 of the gap', async () => {
    const gap = 1_000;
    const { r, channel, clock } = reader(gap);
    const probeAt = async (at: number) => {
      clock.nowMs = at;
      channel.calls.length = 0;
      const pass = await r.list([ID], { discover: false });
      const n = await r.drain(ID);
      return { n, probes: channel.calls.length, listCalls: pass.listCalls };
    };
    channel.put(ID, 0, out('0'));
    assert.equal((await probeAt(0)).n, 1, 'first object: no rhythm yet');
    channel.put(ID, 1, out('1'));
    assert.equal((await probeAt(900)).n, 1, '0.9 gaps later: continuous output');
    channel.put(ID, 2, out('2'));
    channel.put(ID, 3, out('3'));
    assert.deepEqual(await probeAt(900 + 749), { n: 0, probes: 0, listCalls: GET_COST_IN_LISTS });
    assert.deepEqual(
      await probeAt(900 + 750),
      { n: 1, probes: 1, listCalls: GET_COST_IN_LISTS },
      'due after 3/4 of the gap; only the next object is read',
    );
    // 750 ms after the last: out of the rhythm, so the next probe reads on until a miss.
    assert.deepEqual(await probeAt(900 + 750 + 750), { n: 1, probes: 2, listCalls: GET_COST_IN_LISTS });
  });

  test('the rhythm is 0.9 to 1.5 upload gaps, one object at a time', async () => {
    for (const [since, continuous] of [
      [899, false],
      [900, true],
      [1_500, true],
      [1_501, false],
    ] as const) {
      const { r, channel, clock } = reader(1_000);
      channel.put(ID, 0, out('0'));
      await r.poll(ID);
      clock.nowMs = since;
      channel.put(ID, 1, out('1'));
      await r.poll(ID);
      channel.put(ID, 2, out('2'));
      channel.calls.length = 0;
      await r.list([ID], { discover: false });
      assert.equal(await r.drain(ID), continuous ? 0 : 1, `${since} ms`);
    }
    const { r, channel, clock } = reader(1_000);
    channel.put(ID, 0, out('0'));
    await r.poll(ID);
    clock.nowMs = 1_000;
    channel.put(ID, 1, out('1'));
    channel.put(ID, 2, out('2'));
    await r.poll(ID);
    channel.put(ID, 3, out('3'));
    await r.list([ID], { discover: false });
    assert.equal(await r.drain(ID), 1, 'two objects at once are not the rhythm of continuous output');
  });
});

describe('run results: the final word on an instance', () => {
  const ssmSays = (overrides: Partial<SsmInvocation> = {}): SsmInvocation => ({
    instanceId: ID,
    status: 'Success',
    statusDetails: 'Success',
    responseCode: 0,
    stdout: 'out\n',
    stderr: '',
    ...overrides,
  });

  function results(options: { invocation?: SsmInvocation; live?: { completes: boolean } } = {}) {
    const instances = new RunInstances([ID]);
    const p = instances.get(ID)!;
    const output: string[] = [];
    const statuses: string[] = [];
    instances.onOutput((c) => output.push(`${c.stream}:${Buffer.from(c.data).toString()}`));
    instances.onStatus((s) => statuses.push(`${s.status}/${s.statusDetails}`));
    let getInvocations = 0;
    const looks: boolean[] = [];
    const live = options.live && {
      lastLook: async (q: InstanceProgress) => void looks.push(q.final),
      completes: () => options.live!.completes,
    };
    const machine = new RunResults({
      commandId: COMMAND_ID,
      backend: {
        getInvocation: async () => (getInvocations++, options.invocation),
      } as never,
      instances,
      live: live as never,
      ssmGuard: new CallGuard((error) => {
        throw error;
      }),
      timeoutSeconds: 60,
    });
    return { p, machine, output, statuses, looks, getInvocations: () => getInvocations };
  }

  test("without a live channel: SSM's output, asked for once, delivered, with the truncation note", async () => {
    const r = results({ invocation: ssmSays({ stderr: 'warn\n' }) });
    await r.machine.finalize(r.p, 'Success', 'Success', 'a note first');
    assert.equal(r.getInvocations(), 1);
    assert.equal(r.p.final, true);
    assert.deepEqual(r.output, ['stdout:out\n', 'stderr:warn\n']);
    assert.deepEqual(r.statuses, ['Success/Success']);
    assert.deepEqual(r.p.notes, ['a note first', LIVE_OUTPUT_UNAVAILABLE]);
    assert.equal(r.p.ssm?.stdout, 'out\n', 'the invocation is kept');
    await r.machine.finalize(r.p, 'Failed', 'Failed', 'again');
    assert.equal(r.getInvocations(), 1, 'a final instance is final');
    assert.deepEqual(r.statuses, ['Success/Success']);
    const [result] = r.machine.results([r.p]).invocations;
    assert.equal(result.outputSource, 'ssm');
    assert.equal(result.stdout, 'out\n');
    assert.equal(result.exitCode, 0);
  });

  test('an invocation already read with its output, or an offline instance, costs no call', async () => {
    const known = results({ invocation: ssmSays({ stdout: 'fresh\n' }) });
    known.p.ssm = ssmSays({ stdout: 'kept\n' });
    await known.machine.finalize(known.p, 'Success', 'Success');
    assert.equal(known.getInvocations(), 0);
    assert.deepEqual(known.output, ['stdout:kept\n']);
    const listed = results({ invocation: ssmSays({ stdout: 'fresh\n' }) });
    listed.p.ssm = { ...ssmSays(), stdout: undefined as never };
    await listed.machine.finalize(listed.p, 'Success', 'Success');
    assert.equal(listed.getInvocations(), 1, 'a listing carries no output');
    assert.equal(listed.p.ssm.stdout, undefined, 'the listed invocation stays');
    assert.deepEqual(listed.output, ['stdout:fresh\n']);
    const offline = results({ invocation: ssmSays() });
    offline.p.offline = 'not connected';
    await offline.machine.finalize(offline.p, 'Undeliverable', 'Undeliverable');
    assert.equal(offline.getInvocations(), 0);
    assert.deepEqual(offline.output, []);
    assert.deepEqual(offline.p.notes, [], 'never started, no exit code: nothing was truncated');
  });

  test('without a live channel a run still open reports SSM as its source', () => {
    const r = results({ invocation: ssmSays() });
    assert.equal(r.machine.results([r.p]).invocations[0].outputSource, 'ssm');
  });

  test("the wrapper's line is removed at the very start of stderr; without its newline stderr stays whole", async () => {
    const first = results({
      invocation: ssmSays({
        status: 'Failed',
        responseCode: 127,
        stdout: '',
        stderr: 'ec2-runner: not found\nlater\n',
      }),
    });
    await first.machine.finalize(first.p, 'Failed', 'Failed');
    assert.deepEqual(first.output, ['stderr:later\n']);
    const unterminated = results({
      invocation: ssmSays({ status: 'Failed', responseCode: 127, stdout: '', stderr: 'x\nec2-runner: not found' }),
    });
    await unterminated.machine.finalize(unterminated.p, 'Failed', 'Failed');
    assert.equal(unterminated.p.wrapperError, 'not found');
    assert.deepEqual(unterminated.output, ['stderr:x\nec2-runner: not found']);
  });

  test('a started instance without an exit code still gets the truncation note', async () => {
    const r = results({ invocation: ssmSays({ responseCode: -1, stdout: '' }) });
    r.p.startedAtMs = 5;
    await r.machine.finalize(r.p, 'Cancelled', 'Cancelled');
    assert.deepEqual(r.p.notes, [LIVE_OUTPUT_UNAVAILABLE]);
    const notStarted = results({ invocation: ssmSays({ responseCode: -1, stdout: '' }) });
    await notStarted.machine.finalize(notStarted.p, 'Cancelled', 'Cancelled');
    assert.deepEqual(notStarted.p.notes, []);
  });

  test("the script's own 194, reported to SSM as 195 with the wrapper's note: 194, note removed", async () => {
    const note = `${REBOOT_CODE_NOTE}\n`;
    const r = results({ invocation: ssmSays({ status: 'Failed', responseCode: 195, stderr: `err\n${note}` }) });
    await r.machine.finalize(r.p, 'Failed', 'Failed');
    assert.deepEqual(r.output, ['stdout:out\n', 'stderr:err\n']);
    assert.equal(r.machine.results([r.p]).invocations[0].exitCode, 194);
    const plain = results({ invocation: ssmSays({ status: 'Failed', responseCode: 195, stderr: 'err\n' }) });
    await plain.machine.finalize(plain.p, 'Failed', 'Failed');
    assert.equal(plain.p.exit, undefined);
    assert.equal(plain.machine.results([plain.p]).invocations[0].exitCode, 195);
    const other = results({ invocation: ssmSays({ status: 'Failed', responseCode: 194, stderr: note }) });
    await other.machine.finalize(other.p, 'Failed', 'Failed');
    assert.equal(other.p.exit, undefined, 'only a 195 can be a mapped 194');
  });

  test("the wrapper's last word in SSM's stderr becomes the reason, said once", async () => {
    const stderr = 'ec2-runner: first\nscript said\nec2-runner: download failed: curl exited 22\n';
    const r = results({ invocation: ssmSays({ status: 'Failed', responseCode: 125, stdout: '', stderr }) });
    await r.machine.finalize(r.p, 'Failed', 'Failed');
    assert.equal(r.p.wrapperError, 'download failed: curl exited 22');
    assert.deepEqual(r.output, ['stderr:ec2-runner: first\nscript said\n']);
    const known = results({ invocation: ssmSays({ status: 'Failed', responseCode: 125, stdout: '', stderr }) });
    known.p.wrapperError = 'from the live channel';
    await known.machine.finalize(known.p, 'Failed', 'Failed');
    assert.equal(known.p.wrapperError, 'from the live channel');
    assert.deepEqual(known.output, [`stderr:${stderr}`]);
  });

  test('output the live channel already showed is not shown again; output that differs is not appended', async () => {
    const r = results({ invocation: ssmSays({ stdout: 'hello world\n', stderr: 'other\n' }) });
    r.p.output.stdout.append(text('hello '));
    r.p.output.stderr.append(text('else'));
    await r.machine.finalize(r.p, 'Success', 'Success');
    assert.deepEqual(r.output, ['stdout:world\n']);
    const whole = results({ invocation: ssmSays({ stdout: 'abc' }) });
    whole.p.output.stdout.append(text('abc'));
    await whole.machine.finalize(whole.p, 'Success', 'Success');
    assert.deepEqual(whole.output, [], 'nothing left to show');
  });

  test('with a live channel: the last look comes before the result is final; a complete channel needs no SSM output', async () => {
    const r = results({ invocation: ssmSays(), live: { completes: true } });
    await r.machine.finalize(r.p, 'Success', 'Success');
    assert.deepEqual(r.looks, [false]);
    assert.equal(r.getInvocations(), 0);
    assert.equal(r.machine.results([r.p]).invocations[0].outputSource, 'live');
    const open = results({ invocation: ssmSays(), live: { completes: false } });
    assert.equal(open.machine.results([open.p]).invocations[0].outputSource, 'live', 'still running: live so far');
    await open.machine.finalize(open.p, 'Success', 'Success');
    assert.equal(open.getInvocations(), 1);
    assert.equal(open.machine.results([open.p]).invocations[0].outputSource, 'ssm');
  });
});
