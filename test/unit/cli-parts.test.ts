// CLI pieces without AWS: argument parsing, request building, exit codes, line prefixing.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import type { InvocationResult, RunResult } from '../../src/core';
import { parseCommandLine } from '../../src/cli/args';
import { exitCodeFor } from '../../src/cli/exitCodes';
import { LONGEST_HELD_LINE, OutputPrinter } from '../../src/cli/printer';
import { outcomeLines } from '../../src/cli/report';
import { requestFrom } from '../../src/cli/runCommand';
import { UsageError } from '../../src/cli/usageError';

const invocation = (
  status: string,
  exitCode: number | null,
  extra: Partial<InvocationResult> = {},
): InvocationResult => ({
  instanceId: `i-${status.toLowerCase().padEnd(17, '0')}`,
  status,
  statusDetails: status,
  exitCode,
  stdout: '',
  stderr: '',
  result: null,
  outputSource: 'live',
  ...extra,
});
const result = (...invocations: InvocationResult[]): RunResult => ({ commandId: 'c', invocations });

describe('CLI argument parsing', () => {
  test('global options before the command, script arguments after -- kept verbatim', () => {
    const args = parseCommandLine([
      '--profile',
      'dev',
      'run',
      'x.py',
      '-i',
      'i-0123456789abcdef0',
      '--',
      '--epochs',
      '3',
      '--',
      '$(x)',
    ]);
    assert.equal(args.command, 'run');
    assert.equal(args.values.profile, 'dev');
    assert.deepEqual(args.positionals, ['x.py']);
    assert.deepEqual(args.rest, ['--epochs', '3', '--', '$(x)']);
  });

  test('an option that does not apply to the command is a usage error', () => {
    assert.throws(
      () => parseCommandLine(['status', 'id', '--tag', 'a=b']),
      (e: unknown) => e instanceof UsageError && /--tag does not apply to `status`/.test(e.message),
    );
    assert.throws(() => parseCommandLine(['run', '--bogus']), UsageError);
  });

  test('exec joins the words after -- into one command line', async () => {
    const request = await requestFrom(
      'exec',
      parseCommandLine(['exec', '-t', 'Role=web', '--timeout', '30', '--', 'df', '-h', '/']),
    );
    assert.deepEqual(request.source, { kind: 'command', command: 'df -h /' });
    assert.deepEqual(request.target, { kind: 'tags', tags: [{ key: 'Role', value: 'web' }] });
    assert.equal(request.timeoutSeconds, 30);
  });

  test('bad values are usage errors', async () => {
    await assert.rejects(
      requestFrom('exec', parseCommandLine(['exec', '-i', 'i-0123456789abcdef0', '--timeout', '1.5', '--', 'x'])),
      /Timeout "1.5"/,
    );
    await assert.rejects(
      requestFrom('exec', parseCommandLine(['exec', '-i', 'i-0123456789abcdef0', '-e', 'NOEQUALS', '--', 'x'])),
      /not KEY=VALUE/,
    );
    await assert.rejects(
      requestFrom('exec', parseCommandLine(['exec', '-i', 'i-0123456789abcdef0', '-t', 'a=b', '--', 'x'])),
      /either --instance or --tag/,
    );
  });
});

describe('CLI exit codes', () => {
  test('one target: its exit code; 124 timed out; 130 cancelled; 254 never ran', () => {
    assert.equal(exitCodeFor(result(invocation('Success', 0))), 0);
    assert.equal(exitCodeFor(result(invocation('Failed', 7))), 7);
    assert.equal(exitCodeFor(result(invocation('TimedOut', null))), 124);
    assert.equal(exitCodeFor(result(invocation('Cancelled', null))), 130);
    assert.equal(exitCodeFor(result(invocation('Undeliverable', null))), 254, 'never ran');
    assert.equal(exitCodeFor(result()), 254, 'no target matched');
  });

  test('several: 0 when all succeeded, the common failure code, else 1', () => {
    assert.equal(exitCodeFor(result(invocation('Success', 0), invocation('Success', 0))), 0);
    assert.equal(exitCodeFor(result(invocation('Success', 0), invocation('Failed', 2))), 2);
    assert.equal(exitCodeFor(result(invocation('Failed', 3), invocation('Failed', 2))), 1);
  });

  test('outcome lines: silent for plain outcomes, one line for a reason, a summary for fleets', () => {
    assert.deepEqual(outcomeLines(result(invocation('Failed', 3, { reason: 'exited with code 3' }))), []);
    assert.deepEqual(outcomeLines(result(invocation('TimedOut', null, { reason: 'timed out after 2 s' }))), [
      'ec2-runner: TimedOut: timed out after 2 s',
    ]);
    const lines = outcomeLines(
      result(invocation('Success', 0), invocation('Failed', 2, { reason: 'exited with code 2' })),
    );
    assert.equal(lines.at(-1), 'ec2-runner: 1 of 2 instances succeeded (command c)');
  });
});

describe('CLI output printer', () => {
  test('several targets: whole lines with a prefix, partial lines held until their newline', () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const printer = new OutputPrinter(
      { stdout, stderr },
      () => true,
      (id) => `web ${id}`,
    );
    const data = (s: string) => new TextEncoder().encode(s);
    printer.write({ instanceId: 'i-1', stream: 'stdout', data: data('one\ntw') });
    printer.write({ instanceId: 'i-2', stream: 'stdout', data: data('other\n') });
    printer.write({ instanceId: 'i-1', stream: 'stdout', data: data('o\nthree') });
    printer.flush();
    assert.equal(stdout.read().toString(), '[web i-1] one\n[web i-2] other\n[web i-1] two\n[web i-1] three\n');
  });

  test('several targets: output without newlines is written in pieces, never held beyond one piece', () => {
    const stdout = new PassThrough();
    const printer = new OutputPrinter(
      { stdout, stderr: new PassThrough() },
      () => true,
      (id) => id,
    );
    for (let i = 0; i < 5; i++)
      printer.write({ instanceId: 'i-1', stream: 'stdout', data: Buffer.alloc(LONGEST_HELD_LINE / 2 + 1, 'x') });
    const written = stdout.read().toString() as string;
    assert.equal(written, `[i-1] ${'x'.repeat(LONGEST_HELD_LINE)}\n`.repeat(2));
    printer.flush();
    assert.equal(
      stdout.read().toString(),
      `[i-1] ${'x'.repeat(5 * (LONGEST_HELD_LINE / 2 + 1) - 2 * LONGEST_HELD_LINE)}\n`,
    );
  });

  test('one target: raw bytes, untouched', () => {
    const stdout = new PassThrough();
    const printer = new OutputPrinter(
      { stdout, stderr: new PassThrough() },
      () => false,
      (id) => id,
    );
    printer.write({ instanceId: 'i-1', stream: 'stdout', data: new Uint8Array([0xff, 0x0a, 0x00]) });
    assert.deepEqual([...stdout.read()], [0xff, 0x0a, 0x00]);
  });
});
