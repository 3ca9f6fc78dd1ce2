// The sandbox's SSM Run Command through the real AWS SDK v3 client: instances, SendCommand and
// its validation, real execution (env, cwd, exit codes), timeouts and cancels that kill the whole
// process group, output truncation and S3 upload, tag targets, eventual consistency, delivery timeouts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import {
  CancelCommandCommand,
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  SSMClient,
  SendCommandCommand,
} from '@aws-sdk/client-ssm';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { SandboxInfo } from '../../src/sandbox/index';
import { pollUntil, waitForInvocation, withSandbox } from '../support/sandbox';

const RUN = 'AWS-RunShellScript';

/** A raw SigV4-signed SSM call, to check the wire shape of answers (status, `__type`, `message`). */
async function rawSsm(
  info: SandboxInfo,
  operation: string,
  input: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const url = new URL(info.endpoint);
  const signer = new SignatureV4({
    credentials: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey },
    region: info.region,
    service: 'ssm',
    sha256: Sha256,
  });
  const signed = await signer.sign({
    method: 'POST',
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: '/',
    query: {},
    headers: { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AmazonSSM.${operation}` },
    body: JSON.stringify(input),
  });
  const response = await fetch(`${info.endpoint}/`, {
    method: 'POST',
    headers: signed.headers as Record<string, string>,
    body: signed.body as string,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Processes of group `pgid` that are still running (zombies awaiting their reaper do not count). */
function liveProcessesInGroup(pgid: number): number[] {
  const live: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z') live.push(Number(entry));
  }
  return live;
}

async function assertGroupGone(pgid: number): Promise<void> {
  assert.ok(pgid > 1, `a process group id, got ${pgid}`);
  await pollUntil(
    `process group ${pgid} to be gone`,
    () => (liveProcessesInGroup(pgid).length === 0 ? true : undefined),
    5_000,
  );
}

describe('sandbox SSM Run Command', { concurrency: true }, async () => {
  const { sandbox, info, clientConfig } = await withSandbox({ deliveryDelayMs: 50, invocationVisibilityDelayMs: 300 });
  const ssm = new SSMClient(clientConfig);
  const [first, second, offline] = info.instances;
  const send = async (lines: string[], extra: Record<string, unknown> = {}) =>
    (
      await ssm.send(
        new SendCommandCommand({
          DocumentName: RUN,
          InstanceIds: [first.instanceId],
          Parameters: { commands: lines },
          ...extra,
        }),
      )
    ).Command!;

  test('DescribeInstanceInformation lists the default fleet and honours PingStatus, PlatformTypes, InstanceIds and tag filters', async () => {
    const all = (await ssm.send(new DescribeInstanceInformationCommand({}))).InstanceInformationList!;
    assert.deepEqual(
      all.map((i) => [i.InstanceId, i.PingStatus, i.PlatformType]),
      [
        [first.instanceId, 'Online', 'Linux'],
        [second.instanceId, 'Online', 'Linux'],
        [offline.instanceId, 'ConnectionLost', 'Linux'],
      ],
    );
    for (const i of all) assert.match(i.InstanceId!, /^i-[0-9a-f]{17}$/);
    assert.ok(all[2].LastPingDateTime! < all[0].LastPingDateTime!);
    const online = await ssm.send(
      new DescribeInstanceInformationCommand({ Filters: [{ Key: 'PingStatus', Values: ['Online'] }] }),
    );
    assert.equal(online.InstanceInformationList?.length, 2);
    const linux = await ssm.send(
      new DescribeInstanceInformationCommand({
        Filters: [
          { Key: 'PlatformTypes', Values: ['Linux'] },
          { Key: 'InstanceIds', Values: [second.instanceId] },
        ],
      }),
    );
    assert.deepEqual(
      linux.InstanceInformationList?.map((i) => i.InstanceId),
      [second.instanceId],
    );
    const tagged = await ssm.send(
      new DescribeInstanceInformationCommand({ Filters: [{ Key: 'tag:Role', Values: ['offline'] }] }),
    );
    assert.deepEqual(
      tagged.InstanceInformationList?.map((i) => i.InstanceId),
      [offline.instanceId],
    );
    await assert.rejects(
      ssm.send(
        new DescribeInstanceInformationCommand({
          Filters: [
            { Key: 'tag:Role', Values: ['worker'] },
            { Key: 'PingStatus', Values: ['Online'] },
          ],
        }),
      ),
      { name: 'InvalidFilter' },
    );
    await assert.rejects(
      ssm.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'Nope', Values: ['x'] }] })),
      { name: 'InvalidFilterKey' },
    );
    await assert.rejects(ssm.send(new DescribeInstanceInformationCommand({ MaxResults: 4 })), {
      name: 'ValidationException',
    });
    await assert.rejects(ssm.send(new DescribeInstanceInformationCommand({ MaxResults: 51 })), {
      name: 'ValidationException',
    });
  });

  test('DescribeInstanceInformation pages with MaxResults and NextToken over a bigger fleet', async () => {
    const big = await withSandbox({ instances: 12 });
    const client = new SSMClient(big.clientConfig);
    const ids: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await client.send(new DescribeInstanceInformationCommand({ MaxResults: 5, NextToken: token }));
      assert.ok(page.InstanceInformationList!.length <= 5);
      ids.push(...page.InstanceInformationList!.map((i) => i.InstanceId!));
      token = page.NextToken;
      pages++;
    } while (token);
    assert.equal(pages, 3);
    assert.deepEqual(
      ids,
      big.info.instances.map((i) => i.instanceId),
    );
    await assert.rejects(client.send(new DescribeInstanceInformationCommand({ NextToken: 'garbage' })), {
      name: 'InvalidNextToken',
    });
  });

  test('a command runs as one sh script with the agent environment, in the instance dir, with ISO dates and no output while running', async () => {
    const command = await send(
      [
        'cd tmp',
        'answer=42',
        'echo "cwd=$(pwd) answer=$answer"',
        'echo "id=$AWS_SSM_INSTANCE_ID region=$AWS_SSM_REGION_NAME cmd=$SSM_COMMAND_ID ' +
          'platform=$AWS_SSM_PLATFORM_NAME"',
        'echo "home=${HOME-unset} secret=${AWS_SECRET_ACCESS_KEY-unset} lang=${LANG-unset} ' +
          'tmpdir=${TMPDIR-unset} script=$0"',
        'ls -l "$(dirname "$0")/_script.sh" | cut -c1-10',
        'echo started >&2',
        'sleep 1',
      ],
      { Comment: 'env check' },
    );
    assert.equal(command.Status, 'Pending');
    assert.equal(command.TargetCount, 1);
    assert.deepEqual(command.Parameters, { commands: command.Parameters!.commands });
    const running = await waitForInvocation(ssm, command.CommandId!, first.instanceId, {
      until: (s) => s === 'InProgress',
    });
    assert.equal(running.ResponseCode, -1);
    assert.equal(running.StandardOutputContent, '');
    assert.equal(running.StandardErrorContent, '');
    assert.equal(running.ExecutionEndDateTime, '');
    assert.match(running.ExecutionStartDateTime!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const done = await waitForInvocation(ssm, command.CommandId!, first.instanceId);
    assert.equal(done.Status, 'Success');
    assert.equal(done.StatusDetails, 'Success');
    assert.equal(done.ResponseCode, 0);
    assert.equal(done.Comment, 'env check');
    assert.match(done.ExecutionElapsedTime!, /^PT\d+\.\d{3}S$/);
    const lines = done.StandardOutputContent!.split('\n');
    assert.equal(lines[0], `cwd=${join(info.dataDir, 'instances', first.instanceId, 'tmp')} answer=42`);
    assert.equal(
      lines[1],
      `id=${first.instanceId} region=${info.region} cmd=${command.CommandId} platform=Amazon Linux`,
    );
    // The agent's bare environment; the script's path names the instance, as under /var/lib/amazon/ssm.
    const agentDir = join(info.dataDir, 'instances', first.instanceId, 'var/lib/amazon/ssm', first.instanceId);
    const scriptPath = join(
      agentDir,
      'document/orchestration',
      command.CommandId!,
      'awsrunShellScript/0.awsrunShellScript/_script.sh',
    );
    assert.equal(lines[2], `home=unset secret=unset lang=unset tmpdir=unset script=${scriptPath}`);
    assert.equal(lines[3], '-rwx------');
    assert.equal(done.StandardErrorContent, 'started\n');
  });

  test('exit codes: 0 Success, other Failed with the code; a bad workingDirectory fails without running', async () => {
    const failed = await send(['echo out', 'exit 3']);
    const result = await waitForInvocation(ssm, failed.CommandId!, first.instanceId);
    assert.deepEqual(
      [result.Status, result.StatusDetails, result.ResponseCode, result.StandardOutputContent],
      ['Failed', 'Failed', 3, 'out\n'],
    );
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-cwd-'));
    try {
      const inDir = await send(['pwd'], { Parameters: { commands: ['pwd'], workingDirectory: [dir] } });
      assert.equal(
        (await waitForInvocation(ssm, inDir.CommandId!, first.instanceId)).StandardOutputContent,
        `${dir}\n`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const missing = await send(['touch should-not-exist'], {
      Parameters: { commands: ['echo ran'], workingDirectory: ['/no/such/dir'] },
    });
    const missingResult = await waitForInvocation(ssm, missing.CommandId!, first.instanceId);
    assert.equal(missingResult.Status, 'Failed');
    assert.equal(missingResult.StandardOutputContent, '');
    assert.match(missingResult.StandardErrorContent!, /workingDirectory/);
  });

  test('SendCommand validation answers SSM error codes', async () => {
    const base = { DocumentName: RUN, InstanceIds: [first.instanceId], Parameters: { commands: ['true'] } };
    const rejects = (input: Record<string, unknown>, name: string) =>
      assert.rejects(ssm.send(new SendCommandCommand({ ...base, ...input } as never)), { name });
    await rejects({ InstanceIds: ['i-0123456789abcdef0'] }, 'InvalidInstanceId');
    await rejects(
      { InstanceIds: Array.from({ length: 51 }, (_, n) => `i-${String(n).padStart(17, '0')}`) },
      'ValidationException',
    );
    await rejects({ InstanceIds: [first.instanceId, first.instanceId] }, 'DuplicateInstanceId');
    await rejects({ TimeoutSeconds: 29 }, 'ValidationException');
    await rejects({ Comment: 'x'.repeat(101) }, 'ValidationException');
    await rejects({ DocumentName: 'AWS-RunPowerShellScript' }, 'InvalidDocument');
    await rejects({ Parameters: { commands: ['true'], nope: ['x'] } }, 'InvalidParameters');
    await rejects({ Parameters: { commands: [] } }, 'InvalidParameters');
    await rejects({ Parameters: { commands: ['true'], executionTimeout: ['abc'] } }, 'InvalidParameters');
    await rejects({ Parameters: { commands: ['x'.repeat(100 * 1024)] } }, 'MaxDocumentSizeExceeded');
    await rejects({ MaxConcurrency: '0' }, 'ValidationException');
    await rejects(
      { InstanceIds: undefined, Targets: [{ Key: 'resource-groups:Name', Values: ['g'] }] },
      'InvalidTarget',
    );
    const raw = await rawSsm(info, 'SendCommand', { ...base, InstanceIds: ['i-0123456789abcdef0'] });
    assert.equal(raw.status, 400);
    assert.equal(raw.body.__type, 'InvalidInstanceId');
    assert.match(String(raw.body.message), /i-0123456789abcdef0.*not in a valid state/);
  });

  test('GetCommandInvocation: InvocationDoesNotExist (no message) during the consistency window and for unknown ids', async () => {
    // A wide window so that a busy machine still asks inside it.
    const slow = await withSandbox({ invocationVisibilityDelayMs: 3_000, deliveryDelayMs: 20 });
    const client = new SSMClient(slow.clientConfig);
    const instanceId = slow.info.instances[0].instanceId;
    const { Command: command } = await client.send(
      new SendCommandCommand({
        DocumentName: RUN,
        InstanceIds: [instanceId],
        Parameters: { commands: ['echo visible'] },
      }),
    );
    const early = await rawSsm(slow.info, 'GetCommandInvocation', {
      CommandId: command!.CommandId,
      InstanceId: instanceId,
    });
    assert.deepEqual(early, { status: 400, body: { __type: 'InvocationDoesNotExist' } });
    const listed = await client.send(new ListCommandInvocationsCommand({ CommandId: command!.CommandId }));
    assert.deepEqual(listed.CommandInvocations, []);
    assert.equal((await waitForInvocation(client, command!.CommandId!, instanceId)).StandardOutputContent, 'visible\n');
    await assert.rejects(
      ssm.send(
        new GetCommandInvocationCommand({
          CommandId: '00000000-0000-0000-0000-000000000000',
          InstanceId: first.instanceId,
        }),
      ),
      { name: 'InvocationDoesNotExist' },
    );
    await assert.rejects(
      client.send(
        new GetCommandInvocationCommand({
          CommandId: command!.CommandId,
          InstanceId: instanceId,
          PluginName: 'aws:other',
        }),
      ),
      { name: 'InvalidPluginName' },
    );
    await assert.rejects(
      ssm.send(new GetCommandInvocationCommand({ CommandId: 'short', InstanceId: first.instanceId })),
      { name: 'ValidationException' },
    );
  });

  test('executionTimeout SIGKILLs the whole process group: TimedOut / ExecutionTimedOut / 137', async () => {
    const command = await send(['echo "pgid=$(cut -d" " -f5 /proc/$$/stat)"', 'sleep 300 &', 'sleep 300'], {
      Parameters: {
        commands: ['echo "pgid=$(cut -d" " -f5 /proc/$$/stat)"', 'sleep 300 &', 'sleep 300'],
        executionTimeout: ['5'],
      },
    });
    const result = await waitForInvocation(ssm, command.CommandId!, first.instanceId, { timeoutMs: 20_000 });
    assert.deepEqual(
      [result.Status, result.StatusDetails, result.ResponseCode],
      ['TimedOut', 'ExecutionTimedOut', 137],
    );
    await assertGroupGone(Number(/pgid=(\d+)/.exec(result.StandardOutputContent!)?.[1]));
    const listed = (await ssm.send(new ListCommandsCommand({ CommandId: command.CommandId }))).Commands![0];
    assert.deepEqual(
      [listed.Status, listed.StatusDetails, listed.ErrorCount, listed.CompletedCount],
      ['TimedOut', 'Execution Timed Out', 1, 1],
    );
  });

  test('output is cut by the agent rules; full output goes to S3 when OutputS3BucketName is set', async () => {
    const s3 = new S3Client({ ...clientConfig, forcePathStyle: true });
    const lines = ['head -c 30000 /dev/zero | tr "\\0" a', 'head -c 9000 /dev/zero | tr "\\0" b >&2'];
    const command = await send(lines, { OutputS3BucketName: info.bucket, OutputS3KeyPrefix: 'ssm-output/' });
    const result = await waitForInvocation(ssm, command.CommandId!, first.instanceId);
    assert.equal(result.StandardOutputContent!.length, 24_000);
    assert.equal(result.StandardOutputContent, `${'a'.repeat(23_980)}--output truncated--`);
    assert.equal(result.StandardErrorContent, `${'b'.repeat(7_980)}--output truncated--`);
    const key = `ssm-output/${command.CommandId}/${first.instanceId}/awsrunShellScript/0.awsrunShellScript`;
    assert.equal(result.StandardOutputUrl, `${info.endpoint}/${info.bucket}/${key}/stdout`);
    const stdout = await (
      await s3.send(new GetObjectCommand({ Bucket: info.bucket, Key: `${key}/stdout` }))
    ).Body!.transformToString();
    assert.equal(stdout, 'a'.repeat(30_000));
    const stderr = await (
      await s3.send(new GetObjectCommand({ Bucket: info.bucket, Key: `${key}/stderr` }))
    ).Body!.transformToString();
    assert.equal(stderr, 'b'.repeat(9_000));
    const details = await ssm.send(new ListCommandInvocationsCommand({ CommandId: command.CommandId, Details: true }));
    const plugin = details.CommandInvocations![0].CommandPlugins![0];
    // Agent TruncateOutput(stdout, stderr, 2500): both halves cut to (2500 - 24 - 23 - 23) / 2 = 1215 bytes.
    assert.equal(
      plugin.Output,
      `${'a'.repeat(1215)}\n---Output truncated---\n----------ERROR-------\n${'b'.repeat(1215)}\n---Error ` +
        `truncated----`,
    );
    assert.equal(plugin.Output!.length, 2500);
    assert.equal(plugin.Name, 'aws:runShellScript');
    assert.equal(plugin.OutputS3BucketName, info.bucket);
    // Empty streams are not uploaded.
    const quiet = await send(['echo only-stdout'], {
      OutputS3BucketName: info.bucket,
      OutputS3KeyPrefix: 'ssm-output',
    });
    await waitForInvocation(ssm, quiet.CommandId!, first.instanceId);
    const quietKey = `ssm-output/${quiet.CommandId}/${first.instanceId}/awsrunShellScript/0.awsrunShellScript`;
    assert.equal(
      await (
        await s3.send(new GetObjectCommand({ Bucket: info.bucket, Key: `${quietKey}/stdout` }))
      ).Body!.transformToString(),
      'only-stdout\n',
    );
    await assert.rejects(s3.send(new GetObjectCommand({ Bucket: info.bucket, Key: `${quietKey}/stderr` })), {
      name: 'NoSuchKey',
    });
  });

  test('Targets by tag reach every matching instance; ListCommands counts them; ListCommandInvocations pages', async () => {
    const { Command: command } = await ssm.send(
      new SendCommandCommand({
        DocumentName: RUN,
        Targets: [{ Key: 'tag:Role', Values: ['worker'] }],
        Parameters: { commands: ['echo $AWS_SSM_INSTANCE_ID'] },
        TimeoutSeconds: 30,
      }),
    );
    assert.equal(command!.TargetCount, 2);
    assert.deepEqual(command!.Targets, [{ Key: 'tag:Role', Values: ['worker'] }]);
    for (const instance of [first, second]) {
      assert.equal(
        (await waitForInvocation(ssm, command!.CommandId!, instance.instanceId)).StandardOutputContent,
        `${instance.instanceId}\n`,
      );
    }
    const listed = await pollUntil('command counts', async () => {
      const c = (await ssm.send(new ListCommandsCommand({ CommandId: command!.CommandId }))).Commands![0];
      return c.Status === 'Success' ? c : undefined;
    });
    assert.deepEqual(
      [listed.TargetCount, listed.CompletedCount, listed.ErrorCount, listed.DeliveryTimedOutCount],
      [2, 2, 0, 0],
    );
    assert.deepEqual(listed.Parameters, { commands: ['echo $AWS_SSM_INSTANCE_ID'] });
    assert.equal(typeof listed.RequestedDateTime?.getTime(), 'number');
    const page1 = await ssm.send(new ListCommandInvocationsCommand({ CommandId: command!.CommandId, MaxResults: 1 }));
    assert.equal(page1.CommandInvocations?.length, 1);
    assert.deepEqual(page1.CommandInvocations![0].CommandPlugins, []);
    const page2 = await ssm.send(
      new ListCommandInvocationsCommand({ CommandId: command!.CommandId, MaxResults: 1, NextToken: page1.NextToken }),
    );
    assert.notEqual(page2.CommandInvocations![0].InstanceId, page1.CommandInvocations![0].InstanceId);
    assert.equal(page2.NextToken, undefined);
  });

  test('CancelCommand of a Pending command on a ConnectionLost instance: Cancelled without running', async () => {
    const { Command: command } = await ssm.send(
      new SendCommandCommand({
        DocumentName: RUN,
        InstanceIds: [offline.instanceId],
        Parameters: { commands: ['echo never'] },
      }),
    );
    await waitForInvocation(ssm, command!.CommandId!, offline.instanceId, { until: (s) => s === 'Pending' });
    await ssm.send(new CancelCommandCommand({ CommandId: command!.CommandId }));
    const result = await waitForInvocation(ssm, command!.CommandId!, offline.instanceId);
    assert.deepEqual([result.Status, result.ResponseCode, result.ExecutionStartDateTime], ['Cancelled', -1, '']);
    await assert.rejects(ssm.send(new CancelCommandCommand({ CommandId: '00000000-0000-0000-0000-000000000000' })), {
      name: 'InvalidCommandId',
    });
  });

  test('an instance coming back Online receives the commands that waited for it', async () => {
    const lost = await withSandbox({ deliveryDelayMs: 20 });
    const client = new SSMClient(lost.clientConfig);
    const target = lost.info.instances[2];
    assert.equal(target.pingStatus, 'ConnectionLost');
    const { Command: command } = await client.send(
      new SendCommandCommand({
        DocumentName: RUN,
        InstanceIds: [target.instanceId],
        Parameters: { commands: ['echo back'] },
      }),
    );
    await waitForInvocation(client, command!.CommandId!, target.instanceId, { until: (s) => s === 'Pending' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(
      (
        await client.send(
          new GetCommandInvocationCommand({ CommandId: command!.CommandId, InstanceId: target.instanceId }),
        )
      ).Status,
      'Pending',
    );
    lost.sandbox.setPingStatus(target.instanceId, 'Online');
    const online = await client.send(
      new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [target.instanceId] }] }),
    );
    assert.equal(online.InstanceInformationList![0].PingStatus, 'Online');
    assert.equal(
      (await waitForInvocation(client, command!.CommandId!, target.instanceId)).StandardOutputContent,
      'back\n',
    );
  });

  test('a ConnectionLost instance never starts the command: TimedOut / DeliveryTimedOut after the delivery timeout', async () => {
    const quick = await withSandbox({ deliveryTimeoutMs: 400 });
    const client = new SSMClient(quick.clientConfig);
    const target = quick.info.instances[2];
    const { Command: command } = await client.send(
      new SendCommandCommand({
        DocumentName: RUN,
        InstanceIds: [target.instanceId],
        Parameters: { commands: ['echo never'] },
        TimeoutSeconds: 30,
      }),
    );
    const result = await waitForInvocation(client, command!.CommandId!, target.instanceId);
    assert.deepEqual(
      [result.Status, result.StatusDetails, result.ResponseCode, result.StandardOutputContent],
      ['TimedOut', 'DeliveryTimedOut', -1, ''],
    );
    const listed = (await client.send(new ListCommandsCommand({ CommandId: command!.CommandId }))).Commands![0];
    assert.deepEqual(
      [listed.Status, listed.StatusDetails, listed.DeliveryTimedOutCount, listed.CompletedCount],
      ['TimedOut', 'Delivery Timed Out', 1, 1],
    );
  });

  test('sandbox.stats() counts SSM calls by operation', async () => {
    const counted = await withSandbox();
    const client = new SSMClient(counted.clientConfig);
    counted.sandbox.resetStats();
    await client.send(new DescribeInstanceInformationCommand({}));
    await client.send(new DescribeInstanceInformationCommand({}));
    await client.send(new ListCommandsCommand({}));
    assert.deepEqual(counted.sandbox.stats(), { 'ssm:DescribeInstanceInformation': 2, 'ssm:ListCommands': 1 });
    counted.sandbox.resetStats();
    assert.deepEqual(counted.sandbox.stats(), {});
    assert.ok(sandbox.stats()['ssm:SendCommand'] >= 1);
  });
});

describe('sandbox CancelCommand of a running command', async () => {
  const { info, clientConfig } = await withSandbox({ deliveryDelayMs: 400 });
  const ssm = new SSMClient(clientConfig);
  const instanceId = info.instances[0].instanceId;

  test('goes Cancelling then Cancelled, and SIGKILLs the process group', async () => {
    // The group id also goes to a file (cwd: the instance's root): cancel only once the script has written it.
    const lines = [
      'echo "pgid=$(cut -d" " -f5 /proc/$$/stat)"',
      'cut -d" " -f5 /proc/$$/stat > tmp/cancel-pgid',
      'sleep 300 &',
      'sleep 300',
    ];
    const { Command: command } = await ssm.send(
      new SendCommandCommand({ DocumentName: RUN, InstanceIds: [instanceId], Parameters: { commands: lines } }),
    );
    await waitForInvocation(ssm, command!.CommandId!, instanceId, { until: (s) => s === 'InProgress' });
    const pgidFile = join(info.dataDir, 'instances', instanceId, 'tmp', 'cancel-pgid');
    await pollUntil(
      'the script to start',
      () => {
        try {
          return readFileSync(pgidFile, 'utf8').trim() || undefined;
        } catch {
          return undefined;
        }
      },
      10_000,
    );
    await ssm.send(new CancelCommandCommand({ CommandId: command!.CommandId }));
    const cancelling = await ssm.send(
      new GetCommandInvocationCommand({ CommandId: command!.CommandId, InstanceId: instanceId }),
    );
    assert.equal(cancelling.Status, 'Cancelling');
    assert.equal(
      (await ssm.send(new ListCommandsCommand({ CommandId: command!.CommandId }))).Commands![0].Status,
      'Cancelling',
    );
    const result = await waitForInvocation(ssm, command!.CommandId!, instanceId);
    assert.deepEqual([result.Status, result.StatusDetails, result.ResponseCode], ['Cancelled', 'Cancelled', 137]);
    await assertGroupGone(Number(/pgid=(\d+)/.exec(result.StandardOutputContent!)?.[1]));
    assert.equal(
      (await ssm.send(new ListCommandsCommand({ CommandId: command!.CommandId }))).Commands![0].Status,
      'Cancelled',
    );
  });
});
