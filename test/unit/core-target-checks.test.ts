// The pre-flight check refuses targets SSM would accept and then never run (offline, Windows).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { SSMClient } from '@aws-sdk/client-ssm';
import { RunnerError } from '../../src/core/api';
import type { AwsClients } from '../../src/core/clients';
import { checkTargetsReachable } from '../../src/core/launch';

const ID = 'i-0123456789abcdef0';

/** Clients whose SSM answers DescribeInstanceInformation with this one instance (a real SDK client, no network). */
function clientsDescribing(instance: Record<string, unknown>): AwsClients {
  const requestHandler = {
    handle: async () => ({
      response: {
        statusCode: 200,
        headers: { 'content-type': 'application/x-amz-json-1.1' },
        body: Readable.from([Buffer.from(JSON.stringify({ InstanceInformationList: [instance] }))]),
      },
    }),
  };
  const ssm = new SSMClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' },
    requestHandler: requestHandler as never,
    maxAttempts: 1,
  });
  return { ssm, region: async () => 'us-east-1', dispose: () => ssm.destroy() } as unknown as AwsClients;
}

describe('target pre-flight check', () => {
  test('an Online Linux instance passes', async () => {
    const clients = clientsDescribing({ InstanceId: ID, PingStatus: 'Online', PlatformType: 'Linux' });
    await checkTargetsReachable(clients, { kind: 'instances', instanceIds: [ID] }, 'us-east-1');
  });

  test('a Windows instance is refused with the reason and what to do', async () => {
    const clients = clientsDescribing({ InstanceId: ID, PingStatus: 'Online', PlatformType: 'Windows' });
    const error = await checkTargetsReachable(clients, { kind: 'instances', instanceIds: [ID] }, 'us-east-1').catch(
      (e) => e,
    );
    assert.ok(error instanceof RunnerError);
    assert.equal(error.code, 'UnsupportedPlatform');
    assert.match(error.message, new RegExp(`${ID} runs Windows.*Linux and macOS.*pick a Linux instance`));
  });

  test('a ConnectionLost instance is refused as offline', async () => {
    const clients = clientsDescribing({ InstanceId: ID, PingStatus: 'ConnectionLost', PlatformType: 'Linux' });
    const error = await checkTargetsReachable(clients, { kind: 'instances', instanceIds: [ID] }, 'us-east-1').catch(
      (e) => e,
    );
    assert.equal(error.code, 'InstanceOffline');
  });
});
