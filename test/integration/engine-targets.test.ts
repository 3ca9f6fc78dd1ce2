// The engine in-process against the sandbox: several targets, tag targets, cancel, timeout,
// failures that must be fast and clear, and picking a run up again by command id.
import { randomBytes } from 'node:crypto';
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DeleteObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { createEngine, RunnerError, type Engine, type RunRequest } from '../../src/core';
import { nothingLeftRunning } from '../support/runChecks';
import { MIN_AGENT_EXECUTION_TIMEOUT_SECONDS } from '../../src/core/defaults';
import { engineOnSandbox } from '../support/engineOnSandbox';
import { assertClientTimeoutCancelled, type SandboxFixture } from '../support/sandbox';
import { cliMessage } from '../../src/cli/advice';

const utf8 = (s: string) => new TextEncoder().encode(s);

// At module level: the fixture registers the engine's dispose and the sandbox's stop with node:test's root `after`.
// 4 instances: sandbox-1..3 Online (Role=worker), sandbox-offline ConnectionLost.
const sandboxReady = engineOnSandbox({ instances: 4 });

describe('engine targets and endings on the sandbox', () => {
  let fx: SandboxFixture;
  let engine: Engine;
  let online: string[];
  let offline: string;

  before(async () => {
    ({ fx, engine } = await sandboxReady);
    online = fx.onlineInstanceIds;
    offline = fx.info.instances.find((i) => i.pingStatus !== 'Online')!.instanceId;
  });

  const command = (text: string, instanceIds: string[], extra: Partial<RunRequest> = {}): RunRequest => ({
    source: { kind: 'command', command: text },
    target: { kind: 'instances', instanceIds },
    ...extra,
  });

  test('several targets: per-instance output, exit codes and results', async () => {
    const handle = await engine.start(
      command('echo "on $AWS_SSM_INSTANCE_ID"; [ "$AWS_SSM_INSTANCE_ID" = "$FAIL_ON" ] && exit 5; exit 0', online, {
        env: { FAIL_ON: online[1] },
      }),
    );
    const result = await handle.wait();
    await nothingLeftRunning(handle.commandId);
    assert.deepEqual(result.invocations.map((i) => i.instanceId).sort(), [...online].sort());
    for (const invocation of result.invocations) {
      assert.equal(invocation.stdout, `on ${invocation.instanceId}\n`);
      const failing = invocation.instanceId === online[1];
      assert.equal(invocation.status, failing ? 'Failed' : 'Success');
      assert.equal(invocation.exitCode, failing ? 5 : 0);
    }
  });

  test('tag target: SSM picks the instances, the engine discovers them', async () => {
    const handle = await engine.start({
      source: { kind: 'command', command: 'echo tagged' },
      target: { kind: 'tags', tags: [{ key: 'Role', value: 'worker' }] },
    });
    const result = await handle.wait();
    await nothingLeftRunning(handle.commandId);
    assert.deepEqual(result.invocations.map((i) => i.instanceId).sort(), [...online].sort());
    assert.ok(result.invocations.every((i) => i.status === 'Success' && i.stdout === 'tagged\n'));
  });

  test('MaxConcurrency 1 runs the instances one after another', async () => {
    const handle = await engine.start(
      command('date +%s%N; sleep 0.3; date +%s%N', online.slice(0, 2), { maxConcurrency: '1' }),
    );
    const result = await handle.wait();
    const spans = result.invocations.map((i) => i.stdout.trim().split('\n').map(Number)).sort((a, b) => a[0] - b[0]);
    assert.ok(spans[1][0] >= spans[0][1], 'the second started after the first ended');
  });

  test('cancel: the remote process is killed and the run reports Cancelled', async () => {
    const handle = await engine.start(command('echo started; sleep 30; echo never', [online[0]]));
    const firstOutput = new Promise<void>((resolve) => handle.onOutput(() => resolve()));
    await firstOutput;
    await handle.cancel();
    const result = await handle.wait();
    await nothingLeftRunning(handle.commandId);
    const invocation = result.invocations[0];
    assert.equal(invocation.status, 'Cancelled');
    assert.equal(invocation.stdout, 'started\n');
  });

  test('timeout: cancelled on the instance, reported as TimedOut', async () => {
    const started = Date.now();
    fx.sandbox.resetStats();
    const handle = await engine.start(command('echo started; sleep 30', [online[0]], { timeoutSeconds: 2 }));
    const result = await handle.wait();
    await nothingLeftRunning(handle.commandId);
    // The agent's executionTimeout is at least 5 s: the client's 2 s must be what cancelled it.
    await assertClientTimeoutCancelled(fx, handle.commandId, online[0], 2, MIN_AGENT_EXECUTION_TIMEOUT_SECONDS);
    const invocation = result.invocations[0];
    assert.equal(invocation.status, 'TimedOut');
    assert.match(invocation.reason ?? '', /timed out after 2 s; the command was cancelled/);
    assert.equal(invocation.stdout, 'started\n');
    assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
  });

  test('a failed download runs nothing and says why', async () => {
    const s3 = new S3Client({ ...fx.clientConfig, forcePathStyle: true });
    fx.sandbox.configure({ deliveryDelayMs: 1_500 });
    try {
      const marker = `never-${Date.now()}`;
      const handle = await engine.start({
        source: {
          kind: 'file',
          fileName: 'gone.sh',
          content: utf8(`# ${randomBytes(40 * 1024).toString('base64')} (too large to inline)\necho ${marker}\n`),
        },
        target: { kind: 'instances', instanceIds: [online[0]] },
      });
      // The instance only gets the command after the delivery delay: remove the staged file first.
      const staged = await s3.send(new ListObjectsV2Command({ Bucket: fx.info.bucket, Prefix: 'ec2-runner/staged/' }));
      for (const object of staged.Contents ?? []) {
        if (object.Key?.endsWith('/gone.sh'))
          await s3.send(new DeleteObjectCommand({ Bucket: fx.info.bucket, Key: object.Key }));
      }
      const invocation = (await handle.wait()).invocations[0];
      assert.equal(invocation.status, 'Failed');
      assert.match(invocation.reason ?? '', /download failed/);
      assert.ok(!invocation.stdout.includes(marker), 'the script did not run');
      await nothingLeftRunning(handle.commandId);
    } finally {
      fx.sandbox.configure({ deliveryDelayMs: 200 });
      s3.destroy();
    }
  });

  test('a missing bucket is one clear error before anything is sent', async () => {
    const other = createEngine({ ...fx.settings, bucket: 'no-such-ec2-runner-bucket' });
    try {
      fx.sandbox.resetStats();
      await assert.rejects(other.start(command('true', [online[0]])), (error: unknown) => {
        assert.ok(error instanceof RunnerError);
        assert.equal(error.code, 'NoSuchBucket');
        assert.match(
          error.message,
          /no-such-ec2-runner-bucket does not exist: create it, or choose an existing bucket/,
        );
        assert.match(cliMessage(error), /no-such-ec2-runner-bucket does not exist.*--bucket/);
        return true;
      });
      assert.equal(fx.sandbox.stats()['ssm:SendCommand'] ?? 0, 0);
    } finally {
      other.dispose();
    }
  });

  test('an unknown instance fails fast with a clear error', async () => {
    const started = Date.now();
    await assert.rejects(engine.start(command('true', ['i-0123456789abcdef0'])), (error: unknown) => {
      assert.ok(error instanceof RunnerError);
      assert.equal(error.code, 'UnknownInstance');
      assert.match(error.message, /i-0123456789abcdef0 is not an SSM managed instance in us-west-2/);
      return true;
    });
    assert.ok(Date.now() - started < 3_000);
  });

  test('an offline instance fails fast with a clear error', async () => {
    const started = Date.now();
    await assert.rejects(engine.start(command('true', [offline])), (error: unknown) => {
      assert.ok(error instanceof RunnerError);
      assert.equal(error.code, 'InstanceOffline');
      assert.match(error.message, new RegExp(`${offline} is offline to SSM \\(PingStatus ConnectionLost`));
      return true;
    });
    assert.ok(Date.now() - started < 3_000);
  });

  test('an instance that goes offline while the command waits for delivery fails fast', async () => {
    fx.sandbox.configure({ deliveryDelayMs: 60_000 });
    try {
      const handle = await engine.start(command('echo never', [online[2]]));
      fx.sandbox.setPingStatus(online[2], 'ConnectionLost');
      const invocation = (await handle.wait()).invocations[0];
      assert.equal(invocation.status, 'Undeliverable');
      assert.match(invocation.reason ?? '', /not connected to SSM \(PingStatus ConnectionLost/);
    } finally {
      fx.sandbox.setPingStatus(online[2], 'Online');
      fx.sandbox.configure({ deliveryDelayMs: 200 });
    }
  });

  test('attach from another engine replays the output from the start, then follows live', async () => {
    const handle = await engine.start(
      command('for i in 1 2 3 4 5 6; do echo "tick $i"; sleep 0.3; done; exit 4', [online[0]]),
    );
    await new Promise<void>((resolve) => handle.onOutput(() => resolve()));
    handle.detach();
    const second = createEngine({ ...fx.settings });
    try {
      const attached = await second.attach(handle.commandId);
      const chunks: Buffer[] = [];
      attached.onOutput((c) => chunks.push(Buffer.from(c.data)));
      const result = await attached.wait();
      assert.equal(Buffer.concat(chunks).toString(), [1, 2, 3, 4, 5, 6].map((i) => `tick ${i}\n`).join(''));
      assert.equal(result.invocations[0].exitCode, 4);
      assert.deepEqual([...attached.instanceIds], [online[0]]);
      const snapshot = await second.status(handle.commandId);
      assert.equal(snapshot.invocations[0].status, 'Failed');
      assert.equal(snapshot.invocations[0].stdout, result.invocations[0].stdout);
    } finally {
      second.dispose();
    }
  });

  test('a throttling SSM endpoint slows the run down but does not break it (adaptive retries)', async () => {
    fx.sandbox.configure({ throttleRps: 3 });
    try {
      fx.sandbox.resetStats();
      const handles = await Promise.all(
        [0, 1, 2].map((n) => engine.start(command(`sleep 0.5; echo run ${n}`, [online[n]]))),
      );
      const results = await Promise.all(handles.map((h) => h.wait()));
      results.forEach((r, n) => assert.equal(r.invocations[0].stdout, `run ${n}\n`));
      const stats = fx.sandbox.stats();
      const sent = (stats['ssm:SendCommand'] ?? 0) + (stats['ssm:DescribeInstanceInformation'] ?? 0);
      assert.ok(sent > 6, `some of the 6 initial SSM calls were throttled and retried (${sent} sent)`);
    } finally {
      fx.sandbox.configure({ throttleRps: 0 });
    }
  });

  test('bucket status and creation of a bucket that does not exist yet', async () => {
    const fresh = createEngine({ ...fx.settings, bucket: 'ec2-runner-created-by-test' });
    try {
      assert.deepEqual(await fresh.bucketStatus(), {
        bucket: 'ec2-runner-created-by-test',
        exists: false,
        isDefault: false,
      });
      await fresh.createBucket();
      assert.equal((await fresh.bucketStatus()).exists, true);
      const handle = await fresh.start(command('echo staged elsewhere', [online[0]]));
      assert.equal((await handle.wait()).invocations[0].stdout, 'staged elsewhere\n');
    } finally {
      fresh.dispose();
    }
  });

  test('the default bucket name is ec2-runner-<account>-<region>', async () => {
    const identity = await engine.identity();
    assert.equal(identity.account, fx.info.accountId);
    assert.equal(identity.region, fx.info.region);
    const defaults = createEngine({ ...fx.settings });
    try {
      assert.deepEqual(await defaults.bucketStatus(), {
        bucket: `ec2-runner-${fx.info.accountId}-${fx.info.region}`,
        exists: true,
        isDefault: true,
        region: fx.info.region,
      });
    } finally {
      defaults.dispose();
    }
  });

  test('status and attach of an unknown command id are clear errors', async () => {
    await assert.rejects(
      engine.status('00000000-0000-0000-0000-000000000000'),
      (error: unknown) => error instanceof RunnerError && error.code === 'UnknownCommand',
    );
  });
});
