// The run loop's smaller parts on their own (issue 18, mutation testing): the call guard, the cancellation machine
// and the final results, each with a recording fake and a virtual clock (the live-channel reader: its own files).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RunnerError } from '../../src/core/api';
import type { SsmInvocation } from '../../src/core/backend';
import { CallGuard } from '../../src/core/callGuard';
import { Cancellation } from '../../src/core/cancellation';
import { LIVE_OUTPUT_UNAVAILABLE } from '../../src/core/outcome';
import type { InstanceProgress } from '../../src/core/progress';
import { CorruptFramesError, REBOOT_CODE_NOTE } from '../../src/core/remote';
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
