// Temporary credentials that expire while a run is going (issue 12.1): with sts:AssumeRole sessions of
// 20 s, a 60 s run through a role_arn + source_profile profile streams live and returns exactly what
// the same script prints locally; `status` from a fresh process returns it again, also for a
// --no-wait run whose upload policy expired with nobody following (the output kept on the instance is
// fetched with a renewal). Credentials that cannot be renewed and expire before the timeout are
// announced once before the run.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { runCli, startCli } from '../support/runChecks';
import { createEngine } from '../../src/core';
import { type SandboxFixture, withSandbox, waitForInvocation } from '../support/sandbox';
import { writeRoleProfile } from '../support/roleProfile';
import { MAX_STDOUT_CONTENT_BYTES } from '../../src/sandbox/limits';

const SESSION_SECONDS = 20;

/** A numbered line every 0.1 s for 3 credential lifetimes (60 s with 20 s credentials). */
function scriptFor(sessionSeconds: number): { text: string; lines: number } {
  const lines = sessionSeconds * 30;
  return {
    text:
      `import time\nfor i in range(${lines}):\n    print("line %04d of a run longer than its credentials" % ` +
      `i)\n    time.sleep(0.1)\n`,
    lines,
  };
}

/**
 * The credentials must outlive the instance's own start-up (python, the wrapper), which no real
 * instance takes seconds for but a sandbox instance at the lowest CPU priority on a saturated machine
 * can: the lifetime is 20 s unless a trivial run here takes over a quarter of that.
 */
async function sessionSecondsFor(fx: SandboxFixture): Promise<number> {
  const engine = createEngine(fx.engineSettings);
  try {
    const started = Date.now();
    await (
      await engine.start({
        source: { kind: 'command', command: 'true' },
        target: { kind: 'instances', instanceIds: [fx.onlineInstanceIds[0]] },
      })
    ).wait();
    const startupSeconds = (Date.now() - started) / 1000;
    const seconds = Math.max(SESSION_SECONDS, Math.ceil(startupSeconds * 4));
    if (seconds !== SESSION_SECONDS)
      console.log(`# a trivial run took ${startupSeconds.toFixed(1)} s on this busy machine: ${seconds} s credentials`);
    return seconds;
  } finally {
    engine.dispose();
  }
}

describe('credentials that expire while a run is going', { concurrency: 2 }, async () => {
  const fx = await withSandbox({ sessionLifetimeS: SESSION_SECONDS });
  const sessionSeconds = await sessionSecondsFor(fx);
  fx.sandbox.configure({ sessionLifetimeS: sessionSeconds });
  const { text: SCRIPT, lines: LINES } = scriptFor(sessionSeconds);
  const [first, second] = fx.onlineInstanceIds;
  const profile = writeRoleProfile(fx.info);
  const env = profile.childEnv(fx.env);
  const dir = mkdtempSync(join(tmpdir(), 'ec2-runner-expiry-'));
  const script = join(dir, 'long.py');
  writeFileSync(script, SCRIPT);
  const local = new Promise<Buffer>((resolve, reject) => {
    const child = spawn('python3', [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', reject);
    child.on('close', () => resolve(Buffer.concat(chunks)));
  });

  test('a 60 s run with 20 s credentials streams live, and run and status return output identical to a local run', async () => {
    const startedAt = Date.now();
    const cli = startCli(['run', script, '--instance', first], env, sessionSeconds * 9000);
    await cli.waitFor(new RegExp(`^line ${String(LINES / 6).padStart(4, '0')} `, 'm'), sessionSeconds * 3000);
    const early = Date.now() - startedAt;
    // past two credential lifetimes
    await cli.waitFor(new RegExp(`^line ${String((LINES * 2) / 3).padStart(4, '0')} `, 'm'), sessionSeconds * 4500);
    const middle = Date.now() - startedAt;
    const result = await cli.result;
    const ended = Date.now() - startedAt;
    assert.equal(result.code, 0, result.stderr);
    const expected = await local;
    assert.equal(expected.length, LINES * Buffer.byteLength('line 0000 of a run longer than its credentials\n'));
    assert.ok(
      result.stdout.equals(expected),
      `stdout differs from the local run (${result.stdout.length} vs ${expected.length} bytes); stderr: ` +
        `${result.stderr}`,
    );
    assert.ok(
      middle < ended - sessionSeconds * 500,
      `lines arrive during the run (2/3 of them at ${middle} ms, end at ${ended} ms)`,
    );
    assert.ok(early < middle - sessionSeconds * 1000, `1/6 of the lines at ${early} ms, 2/3 at ${middle} ms`);
    assert.doesNotMatch(result.stderr, /truncated|unavailable|warning/i);
    const commandId = /command ([0-9a-f-]{36})/.exec(result.stderr)?.[1];
    assert.ok(commandId, result.stderr);
    // Renewals, not one per poll: about one per 60% of a credential lifetime.
    const sends = fx.sandbox.stats()['ssm:SendCommand'] ?? 0;
    assert.ok(sends >= 3 && sends <= 20, `${sends} SendCommand calls`);

    const status = await runCli(['status', commandId, '--json'], env, 120_000);
    assert.equal(status.code, 0, status.stderr);
    const [invocation] = JSON.parse(status.stdout.toString('utf8')).invocations;
    // The CLI's --json has no outputSource (cli.test pins its keys): output past SSM's cap can only come from the live
    // channel.
    assert.ok(expected.length > MAX_STDOUT_CONTENT_BYTES);
    assert.equal(invocation.stdout, expected.toString('utf8'));
    assert.equal(invocation.exitCode, 0);
  });

  test('a --no-wait run outlives its upload policy with nobody following; status from a fresh process fetches the complete output', async () => {
    const sent = await runCli(['run', script, '--instance', second, '--no-wait'], env, 60_000);
    assert.equal(sent.code, 0, sent.stderr);
    const commandId = sent.stdout.toString('utf8').trim();
    const ssm = new SSMClient(fx.clientConfig);
    const ended = await waitForInvocation(ssm, commandId, second, { timeoutMs: sessionSeconds * 8000 });
    assert.equal(ended.Status, 'Success');
    // The policy expired 20 s into the run (S3 says ExpiredToken, or "Policy expired" when the policy,
    // capped at the credentials' expiry and rounded down, ends first): the wrapper kept the rest and said so.
    assert.match(
      ended.StandardErrorContent ?? '',
      /live output upload refused \(HTTP (400 ExpiredToken|403 AccessDenied)\)/,
    );
    assert.match(ended.StandardErrorContent ?? '', /kept on this instance until the client renews the upload policy/);
    const status = await runCli(['status', commandId, '--json'], env, 150_000);
    assert.equal(status.code, 0, status.stderr);
    const [invocation] = JSON.parse(status.stdout.toString('utf8')).invocations;
    assert.equal(invocation.status, 'Success');
    assert.ok((await local).length > MAX_STDOUT_CONTENT_BYTES); // so only the live channel can return it whole
    assert.equal(invocation.stdout, (await local).toString('utf8'));
    // Fetched once: a second status reads it straight from S3.
    const again = await runCli(['status', commandId, '--json'], env, 60_000);
    assert.equal(JSON.parse(again.stdout.toString('utf8')).invocations[0].stdout, (await local).toString('utf8'));
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('credentials that cannot be renewed', async () => {
  const fx = await withSandbox({ sessionLifetimeS: 900 });

  test('fixed session credentials (AWS_SESSION_TOKEN) expiring before the timeout are announced once, plainly', async () => {
    const sts = new STSClient(fx.clientConfig);
    const out = await sts.send(new AssumeRoleCommand({ RoleArn: fx.info.roleArn, RoleSessionName: 'fixed' }));
    const c = out.Credentials!;
    const env = {
      ...fx.env,
      AWS_ACCESS_KEY_ID: c.AccessKeyId,
      AWS_SECRET_ACCESS_KEY: c.SecretAccessKey,
      AWS_SESSION_TOKEN: c.SessionToken,
      AWS_CREDENTIAL_EXPIRATION: c.Expiration!.toISOString(),
    };
    const warned = await runCli(
      ['exec', '--instance', fx.onlineInstanceIds[0], '--timeout', '3600', '--', 'echo', 'hi'],
      env,
    );
    assert.equal(warned.code, 0, warned.stderr);
    assert.equal(warned.stdout.toString(), 'hi\n');
    const lines = warned.stderr.split('\n').filter((line) => line.includes('warning'));
    assert.equal(lines.length, 1, warned.stderr);
    assert.match(
      lines[0],
      /^ec2-runner: warning: your AWS credentials are fixed session credentials .* expire at .* before this run's 3600 s timeout, and cannot be renewed/,
    );
    const quiet = await runCli(
      ['exec', '--instance', fx.onlineInstanceIds[0], '--timeout', '600', '--', 'echo', 'hi'],
      env,
    );
    assert.doesNotMatch(quiet.stderr, /warning/, 'no warning when they outlive the timeout');
  });
});
