// The pure rules that turn what was observed about one invocation into its result (outcome.ts),
// and InstanceProgress's bookkeeping (progress.ts): every reason a user can read, the structured
// result, exit codes from signals, the SSM/wrapper cross-check. Found unguarded by mutation testing.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeText,
  extractResult,
  isTerminalStatus,
  LIVE_OUTPUT_UNAVAILABLE,
  reasonFor,
  wrapperErrorFromStderr,
  wrapperExitCode,
} from '../../src/core/outcome';
import { chmodSync, readFileSync } from 'node:fs';
import { RunOutputStores } from '../../src/core/outputStore';
import { InstanceProgress } from '../../src/core/progress';
import type { SsmInvocation } from '../../src/core/backend';
import { makeTempDir } from '../support/tempDirs';

const enc = (s: string) => new TextEncoder().encode(s);

describe('outcome rules', () => {
  test('terminal statuses, and the ones that are not', () => {
    for (const s of [
      'Success',
      'Cancelled',
      'TimedOut',
      'Failed',
      'Undeliverable',
      'Terminated',
      'DeliveryTimedOut',
      'ExecutionTimedOut',
      'InvalidPlatform',
      'AccessDenied',
    ])
      assert.equal(isTerminalStatus(s), true, s);
    for (const s of ['Pending', 'InProgress', 'Delayed', 'Cancelling', '']) assert.equal(isTerminalStatus(s), false, s);
    assert.equal(LIVE_OUTPUT_UNAVAILABLE, 'live output unavailable; SSM output may be truncated');
  });

  test('text is decoded as UTF-8 with replacement, from one buffer or several', () => {
    assert.equal(decodeText(enc('é€')), 'é€');
    const euro = Buffer.from('€');
    assert.equal(decodeText([euro.subarray(0, 1), euro.subarray(1)]), '€', 'a character split over chunks');
    assert.equal(decodeText(new Uint8Array([0x61, 0xff])), 'a\uFFFD');
  });

  test('the result file wins: JSON when it parses, else its text', () => {
    assert.deepEqual(extractResult(enc('{"a":1}'), '{"b":2}'), { a: 1 });
    assert.equal(extractResult(enc('not json'), '{"b":2}'), 'not json');
    assert.equal(
      extractResult(enc(''), '{"b":2}'),
      '',
      'an empty result file is an empty text, not the stdout fallback',
    );
  });

  test('without a result file: the last non-empty stdout line when it is a JSON object or array', () => {
    assert.deepEqual(extractResult(undefined, 'log\n{"b":2}\n\n  \n'), { b: 2 });
    assert.deepEqual(extractResult(undefined, 'log\n  [1,2]  '), [1, 2]);
    assert.equal(extractResult(undefined, '{"b":2}\nlast words'), null, 'only the last line counts');
    assert.equal(extractResult(undefined, '42'), null, 'a bare number is not a result');
    assert.equal(extractResult(undefined, '"text"'), null);
    assert.equal(extractResult(undefined, '{broken'), null);
    assert.equal(extractResult(undefined, ''), null);
    assert.equal(extractResult(undefined, '\n\n'), null);
    assert.deepEqual(extractResult(undefined, '{"only":1}'), { only: 1 }, 'a single line, no newline');
    assert.equal(extractResult(undefined, '"{quoted}"'), null, 'a JSON string containing a brace is not a result');
    assert.equal(
      extractResult(undefined, '{"a":1}\n{broken'),
      null,
      'a broken last line does not fall back to an earlier one',
    );
  });

  test('a signal N is exit code 128+N, as a shell reports it', () => {
    assert.equal(wrapperExitCode({ exitCode: 3 }), 3);
    assert.equal(wrapperExitCode({ exitCode: -9, signal: 9 }), 137);
    assert.equal(wrapperExitCode({ exitCode: 5, signal: 0 }), 5);
  });

  test('every reason a user can read', () => {
    const base = { status: 'Success', statusDetails: 'Success', exitCode: 0 as number | null };
    assert.equal(reasonFor(base), undefined);
    assert.equal(reasonFor({ ...base, offline: 'instance i-1 is offline' }), 'instance i-1 is offline', 'offline wins');
    assert.equal(
      reasonFor({ ...base, status: 'Failed', wrapperError: 'checksum mismatch' }),
      'checksum mismatch',
      'the wrapper error wins over the status',
    );
    assert.equal(reasonFor({ ...base, status: 'Failed', exitCode: 2 }), 'exited with code 2');
    assert.equal(reasonFor({ ...base, status: 'Failed', exitCode: null, statusDetails: 'Failed' }), 'failed (Failed)');
    assert.equal(reasonFor({ ...base, status: 'Failed', exitCode: null, statusDetails: '' }), 'failed (no exit code)');
    assert.equal(
      reasonFor({ ...base, status: 'TimedOut', statusDetails: 'DeliveryTimedOut' }),
      'not delivered in time: the instance did not pick the command up (agent offline or busy)',
    );
    assert.equal(
      reasonFor({ ...base, status: 'TimedOut', statusDetails: 'ExecutionTimedOut', timeoutSeconds: 2 }),
      'timed out after 2 s; the command was cancelled',
    );
    assert.equal(
      reasonFor({ ...base, status: 'TimedOut', statusDetails: 'ExecutionTimedOut' }),
      'timed out on the instance (execution timeout)',
    );
    assert.equal(reasonFor({ ...base, status: 'Cancelled', statusDetails: 'Cancelled' }), 'cancelled');
    assert.match(
      reasonFor({ ...base, status: 'Undeliverable', statusDetails: 'Undeliverable' })!,
      /^undeliverable: the instance is not reachable through SSM/,
    );
    assert.equal(
      reasonFor({ ...base, status: 'Terminated', statusDetails: 'Terminated' }),
      'the instance was terminated while the command ran',
    );
    assert.equal(
      reasonFor({ ...base, status: 'InvalidPlatform', statusDetails: 'InvalidPlatform' }),
      'InvalidPlatform',
    );
    assert.equal(
      reasonFor({ ...base, status: 'AccessDenied', statusDetails: 'Denied by policy' }),
      'AccessDenied (Denied by policy)',
    );
    assert.equal(reasonFor({ ...base, status: 'Weird', statusDetails: '' }), 'Weird');
  });
});

function invocation(over: Partial<SsmInvocation> = {}): SsmInvocation {
  return {
    commandId: 'c',
    instanceId: 'i-1',
    status: 'Success',
    statusDetails: 'Success',
    responseCode: 0,
    ...over,
  } as SsmInvocation;
}

describe('InstanceProgress', () => {
  test('frames: start sets the start time once; output is kept per stream and handed out in order; result, artifacts, exit, error', () => {
    const p = new InstanceProgress('i-1');
    assert.equal(p.liveEnded, false);
    const chunks = p.applyFrames(
      [
        { type: 'start', info: { pid: 7 } },
        { type: 'stdout', data: enc('a') },
        { type: 'stderr', data: enc('b') },
        { type: 'stdout', data: enc('c') },
        { type: 'result', data: enc('{"r":1}') },
      ],
      1000,
    );
    assert.deepEqual(
      chunks.map((c) => `${c.stream}:${decodeText(c.data)}`),
      ['stdout:a', 'stderr:b', 'stdout:c'],
    );
    assert.equal(p.startedAtMs, 1000);
    assert.deepEqual(p.startInfo, { pid: 7 });
    p.applyFrames([{ type: 'start', info: { pid: 8 } }], 2000);
    assert.equal(p.startedAtMs, 1000, 'the first start time stays');
    assert.equal(p.output.stdout.text(), 'ac');
    assert.equal(p.output.stderr.text(), 'b');
    assert.equal(p.liveEnded, false);
    p.applyFrames([{ type: 'exit', exitCode: 0, signal: 15 }], 3000);
    assert.deepEqual(p.exit, { exitCode: 0, signal: 15 });
    assert.equal(p.liveEnded, true);
    const q = new InstanceProgress('i-2');
    q.applyFrames([{ type: 'error', message: 'download failed' }], 0);
    assert.equal(q.wrapperError, 'download failed');
    assert.equal(q.liveEnded, true);
  });

  test('SSM terminal status is known only from a terminal invocation', () => {
    const p = new InstanceProgress('i-1');
    assert.equal(p.ssmTerminal, false);
    p.ssm = invocation({ status: 'InProgress' });
    assert.equal(p.ssmTerminal, false);
    p.ssm = invocation({ status: 'Failed' });
    assert.equal(p.ssmTerminal, true);
  });

  test("the exit code is SSM's; a different wrapper code is noted; without SSM's the wrapper's counts", () => {
    const p = new InstanceProgress('i-1');
    p.applyFrames(
      [
        { type: 'stdout', data: enc('out\n{"x":1}\n') },
        { type: 'exit', exitCode: 3 },
      ],
      0,
    );
    p.status = 'Failed';
    p.statusDetails = 'Failed';
    p.ssm = invocation({ status: 'Failed', responseCode: 4, startedAt: new Date(1), endedAt: new Date(2) });
    const r = p.toResult(true, undefined);
    assert.equal(r.exitCode, 4);
    assert.equal(r.reason, "exited with code 4; the wrapper reported exit code 3 but SSM 4; using SSM's");
    assert.equal(r.outputSource, 'live');
    assert.equal(r.stdout, 'out\n{"x":1}\n');
    assert.deepEqual(r.result, { x: 1 });
    assert.deepEqual([r.startedAt, r.endedAt], [new Date(1), new Date(2)]);
    assert.deepEqual(r.artifacts, []);

    p.ssm = invocation({ status: 'Failed', responseCode: 3 });
    assert.equal(p.toResult(true, undefined).reason, 'exited with code 3', 'agreeing codes: no note');
    p.ssm = invocation({ status: 'InProgress', responseCode: -1 });
    assert.equal(p.toResult(true, undefined).exitCode, 3, "SSM's -1 means not known: the wrapper's code");
    p.ssm = undefined;
    assert.equal(p.toResult(true, undefined).exitCode, 3);
    const none = new InstanceProgress('i-2');
    assert.equal(none.toResult(true, undefined).exitCode, null);
    assert.equal(none.toResult(true, undefined).statusDetails, 'Pending');
    none.status = 'Failed';
    none.ssm = invocation({ status: 'Failed', responseCode: 2 });
    assert.equal(
      none.toResult(true, undefined).reason,
      'exited with code 2',
      'no wrapper exit frame: nothing to cross-check',
    );
    const zero = new InstanceProgress('i-3');
    zero.applyFrames([{ type: 'exit', exitCode: 3 }], 0);
    zero.ssm = invocation({ status: 'Success', responseCode: 0 });
    assert.equal(zero.toResult(true, undefined).exitCode, 0, "SSM's 0 is a code, not 'unknown'");
  });

  test("SSM's fallback output replaces the live output; not using live means SSM's (or nothing)", () => {
    const p = new InstanceProgress('i-1');
    p.applyFrames(
      [
        { type: 'stdout', data: enc('live') },
        { type: 'stderr', data: enc('live err') },
      ],
      0,
    );
    p.fallback = { stdout: 'from ssm', stderr: 'ssm err' };
    let r = p.toResult(true, undefined);
    assert.deepEqual([r.stdout, r.stderr, r.outputSource], ['from ssm', 'ssm err', 'ssm']);
    p.fallback = undefined;
    r = p.toResult(false, undefined);
    assert.deepEqual([r.stdout, r.stderr, r.outputSource], ['', '', 'ssm']);
  });

  test('a timeout reason names the client timeout only when the client timed the run out', () => {
    const p = new InstanceProgress('i-1');
    p.status = 'TimedOut';
    p.statusDetails = 'ExecutionTimedOut';
    assert.equal(p.toResult(true, 5).reason, 'timed out on the instance (execution timeout)');
    p.timedOut = true;
    assert.equal(p.toResult(true, 5).reason, 'timed out after 5 s; the command was cancelled');
    p.notes.push('one more thing');
    assert.equal(p.toResult(true, 5).reason, 'timed out after 5 s; the command was cancelled; one more thing');
  });

  test('unreadable artifacts are a note, not a failure; offline instances say so', () => {
    const p = new InstanceProgress('i-1');
    // over one 512-byte block, no valid header
    p.applyFrames([{ type: 'artifacts', data: enc('not a tar archive '.repeat(60)) }], 0);
    p.status = 'Success';
    const r = p.toResult(true, undefined);
    assert.deepEqual(r.artifacts, []);
    assert.match(r.reason ?? '', /^artifacts unreadable \(/);
    const q = new InstanceProgress('i-2');
    q.status = 'Undeliverable';
    q.offline = 'instance i-2 is not connected to SSM';
    assert.equal(q.toResult(true, undefined).reason, 'instance i-2 is not connected to SSM');
  });
});

describe('InstanceProgress: edges', () => {
  test('an instance is unconfirmed unless its creator says otherwise', () => {
    assert.equal(new InstanceProgress('i-1').confirmed, false);
    assert.equal(new InstanceProgress('i-1', true).confirmed, true);
  });

  test("the reboot code is mapped only for the wrapper's 194 with SSM's 195; any other pair keeps SSM's, noted", () => {
    for (const [wrapper, ssm] of [
      [194, 1],
      [3, 195],
    ]) {
      const p = new InstanceProgress('i-1');
      p.applyFrames([{ type: 'exit', exitCode: wrapper }], 0);
      p.status = 'Failed';
      p.ssm = invocation({ status: 'Failed', responseCode: ssm });
      const r = p.toResult(true, undefined);
      assert.equal(r.exitCode, ssm);
      assert.match(
        r.reason ?? '',
        new RegExp(`the wrapper reported exit code ${wrapper} but SSM ${ssm}; using SSM's$`),
      );
    }
  });

  test("the wrapper's reason from SSM's stderr: only for the codes that mean the script did not run", () => {
    const stderr = 'ec2-runner: first\nother\nec2-runner: python3 not found\n';
    for (const code of [125, 126, 127]) assert.equal(wrapperErrorFromStderr(stderr, code), 'python3 not found');
    for (const code of [undefined, 0, 1, 124, 128]) assert.equal(wrapperErrorFromStderr(stderr, code), undefined);
    assert.equal(wrapperErrorFromStderr('no line of the wrapper\n', 127), undefined);
  });

  test('after closeOutput nothing more reaches the file of a stream that outgrew memory', () => {
    const dir = makeTempDir('ec2-runner-progress-');
    const p = new InstanceProgress('i-1', true, new RunOutputStores('cmd', { dir, memoryBytes: 8 }).create('i-1'));
    p.applyFrames([{ type: 'stdout', data: enc('0123456789abcdef') }], 0);
    p.closeOutput();
    p.applyFrames([{ type: 'stdout', data: enc('late') }], 0);
    assert.equal(readFileSync(p.output.stdout.file!, 'utf8'), '0123456789abcdef');
  });
});

describe('InstanceProgress: output that outgrew memory', () => {
  /** An instance whose stores keep 8 bytes in memory, in a private folder or in one every user can write to. */
  function spilling(folderMode = 0o700) {
    const dir = makeTempDir('ec2-runner-progress-');
    chmodSync(dir, folderMode);
    const p = new InstanceProgress('i-1', true, new RunOutputStores('cmd', { dir, memoryBytes: 8 }).create('i-1'));
    p.ssm = invocation({ status: 'Success', responseCode: 0 });
    p.status = 'Success';
    return p;
  }

  test('from the live channel: the result names the file holding each stream that outgrew memory', () => {
    const p = spilling();
    p.applyFrames([{ type: 'stdout', data: enc('0123456789abcdef') }], 0);
    assert.equal(p.toResult(true, undefined).stderrFile, undefined, 'stderr still fits in memory');
    p.applyFrames([{ type: 'stderr', data: enc('fedcba9876543210') }], 0);
    const result = p.toResult(true, undefined);
    p.closeOutput();
    assert.ok(result.stdoutFile?.endsWith('i-1.stdout'), result.stdoutFile);
    assert.equal(readFileSync(result.stdoutFile!, 'utf8'), '0123456789abcdef');
    assert.equal(readFileSync(result.stderrFile!, 'utf8'), 'fedcba9876543210');
    assert.equal(result.reason, undefined);
  });

  test("after the channel failed (SSM's output shown): a note says where the live part went, no file is named", () => {
    const p = spilling();
    p.applyFrames([{ type: 'stderr', data: enc('0123456789abcdef') }], 0);
    p.fallback = { stdout: 'o', stderr: 'e' };
    const result = p.toResult(true, undefined);
    p.closeOutput();
    assert.equal(result.stderrFile, undefined);
    assert.equal(result.stdoutFile, undefined);
    assert.match(result.reason ?? '', /^the live stderr received before the channel failed is in \S+i-1\.stderr$/);
    assert.equal(result.stderr, 'e');
  });

  test('a stream that could not be saved: its problem is in the reason, and no file is named', () => {
    const p = spilling(0o777);
    p.applyFrames([{ type: 'stdout', data: enc('0123456789abcdef') }], 0);
    const result = p.toResult(true, undefined);
    assert.equal(result.stdoutFile, undefined);
    assert.match(
      result.reason ?? '',
      /^stdout: the output beyond 8 bytes could not be saved to .*writable by every user/,
    );
  });
});
