// The sandbox's knobs through the real SDK: throttling (SSM only), injected faults (500 or reset),
// added latency, delivery delay, and validation of configure().
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DescribeInstanceInformationCommand,
  ListCommandsCommand,
  SSMClient,
  SendCommandCommand,
} from '@aws-sdk/client-ssm';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { waitForInvocation, withSandbox } from '../support/sandbox';

type SdkError = Error & { $metadata?: { httpStatusCode?: number }; code?: string };

describe('sandbox knobs', async () => {
  const { sandbox, info, clientConfig } = await withSandbox({ deliveryDelayMs: 20 });
  const once = new SSMClient({ ...clientConfig, maxAttempts: 1 });
  const s3Once = new S3Client({ ...clientConfig, forcePathStyle: true, maxAttempts: 1 });

  test('throttleRps: SSM calls above the rate get 400 ThrottlingException "Rate exceeded"; S3 is not throttled', async () => {
    sandbox.configure({ throttleRps: 2 });
    try {
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, () => once.send(new DescribeInstanceInformationCommand({}))),
      );
      const throttled = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      assert.ok(throttled.length >= 5, `at most ~2 of 8 calls pass, ${8 - throttled.length} passed`);
      for (const { reason } of throttled) {
        assert.equal((reason as SdkError).name, 'ThrottlingException');
        assert.equal((reason as SdkError).message, 'Rate exceeded');
        assert.equal((reason as SdkError).$metadata?.httpStatusCode, 400);
      }
      const s3Results = await Promise.allSettled(
        Array.from({ length: 8 }, () => s3Once.send(new HeadBucketCommand({ Bucket: info.bucket }))),
      );
      assert.ok(s3Results.every((r) => r.status === 'fulfilled'));
    } finally {
      sandbox.configure({ throttleRps: 0 });
    }
    const after = await Promise.allSettled(
      Array.from({ length: 8 }, () => once.send(new DescribeInstanceInformationCommand({}))),
    );
    assert.ok(after.every((r) => r.status === 'fulfilled'));
  });

  test('faultRate 1: every call fails with a 500 in the service shape or a connection reset', async () => {
    sandbox.configure({ faultRate: 1 });
    const kinds = new Set<string>();
    try {
      for (let i = 0; i < 12; i++) {
        const ssmError = await once.send(new DescribeInstanceInformationCommand({})).then(
          () => undefined,
          (e: SdkError) => e,
        );
        assert.ok(ssmError, 'the SSM call failed');
        if (ssmError.$metadata?.httpStatusCode === 500) {
          assert.equal(ssmError.name, 'InternalServerError');
          kinds.add('500');
        } else {
          assert.match(
            `${ssmError.code} ${ssmError.message}`,
            /ECONNRESET|socket hang up|other side closed|terminated/i,
          );
          kinds.add('reset');
        }
        const s3Error = await s3Once.send(new HeadBucketCommand({ Bucket: info.bucket })).then(
          () => undefined,
          (e: SdkError) => e,
        );
        assert.ok(s3Error, 'the S3 call failed');
      }
    } finally {
      sandbox.configure({ faultRate: 0 });
    }
    assert.deepEqual([...kinds].sort(), ['500', 'reset']);
  });

  test('faultRate 0.3: the SDK retries through the faults; stats count every attempt', async () => {
    sandbox.configure({ faultRate: 0.3 });
    sandbox.resetStats();
    const patient = new SSMClient({ ...clientConfig, maxAttempts: 10 });
    try {
      for (let i = 0; i < 20; i++) await patient.send(new ListCommandsCommand({}));
    } finally {
      sandbox.configure({ faultRate: 0 });
    }
    assert.ok(sandbox.stats()['ssm:ListCommands'] > 20, `retries were counted: ${JSON.stringify(sandbox.stats())}`);
  });

  test('latencyMs is added to every call', async () => {
    sandbox.configure({ latencyMs: 300 });
    try {
      const started = Date.now();
      await once.send(new DescribeInstanceInformationCommand({}));
      assert.ok(Date.now() - started >= 300);
    } finally {
      sandbox.configure({ latencyMs: 0 });
    }
  });

  test('deliveryDelayMs separates SendCommand from the script start', async () => {
    sandbox.configure({ deliveryDelayMs: 600 });
    try {
      const instanceId = info.instances[0].instanceId;
      const { Command: command } = await once.send(
        new SendCommandCommand({
          DocumentName: 'AWS-RunShellScript',
          InstanceIds: [instanceId],
          Parameters: { commands: ['true'] },
        }),
      );
      const result = await waitForInvocation(once, command!.CommandId!, instanceId);
      const delay = Date.parse(result.ExecutionStartDateTime!) - command!.RequestedDateTime!.getTime();
      assert.ok(delay >= 590, `started ${delay} ms after the request`);
    } finally {
      sandbox.configure({ deliveryDelayMs: 20 });
    }
  });

  test('configure() refuses nonsense values with a clear message', () => {
    assert.throws(() => sandbox.configure({ faultRate: 2 }), /faultRate must be between 0 and 1/);
    assert.throws(() => sandbox.configure({ latencyMs: -1 }), /latencyMs must be a non-negative number/);
  });
});
