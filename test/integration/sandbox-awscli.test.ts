// The same flows through a client nobody here wrote: the AWS CLI with --endpoint-url, env
// credentials and no config files. `aws` is installed on these machines and in CI; without it
// these tests fail (they never skip).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SSMClient } from '@aws-sdk/client-ssm';
import { pollUntil, waitForInvocation, withSandbox } from '../support/sandbox';

const execFileAsync = promisify(execFile);

describe('sandbox through the AWS CLI', { concurrency: true }, async () => {
  const { info, env, clientConfig } = await withSandbox({ deliveryDelayMs: 50 });
  const ssm = new SSMClient(clientConfig);
  const s3 = new S3Client({ ...clientConfig, forcePathStyle: true });
  const instanceId = info.instances[0].instanceId;
  const work = mkdtempSync(join(tmpdir(), 'sandbox-awscli-'));
  after(() => rmSync(work, { recursive: true, force: true }));

  async function aws(...args: string[]): Promise<string> {
    const { stdout } = await execFileAsync('aws', ['--endpoint-url', info.endpoint, '--output', 'json', ...args], {
      env,
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  }
  const awsJson = async (...args: string[]) => JSON.parse(await aws(...args)) as Record<string, any>;

  before(async () => {
    try {
      await execFileAsync('aws', ['--version'], { env });
    } catch (error) {
      throw new Error(
        `The AWS CLI is required for these tests but \`aws --version\` failed (${(error as Error).message}). ` +
          `Install it (apt-get install awscli, or pip install awscli) and rerun.`,
      );
    }
  });

  // Each `aws` run costs about a second of CPU: the tests make as few as the flows need.
  test('aws ssm describe-instance-information', async () => {
    const all = await awsJson('ssm', 'describe-instance-information');
    assert.deepEqual(
      all.InstanceInformationList.map((i: { InstanceId: string; PingStatus: string }) => [i.InstanceId, i.PingStatus]),
      info.instances.map((i) => [i.instanceId, i.pingStatus]),
    );
  });

  test('aws ssm send-command, get-command-invocation, list-command-invocations --details', async () => {
    const sent = await awsJson(
      'ssm',
      'send-command',
      '--instance-ids',
      instanceId,
      '--document-name',
      'AWS-RunShellScript',
      '--comment',
      'from the aws cli',
      '--parameters',
      JSON.stringify({ commands: ['echo "hello from $AWS_SSM_INSTANCE_ID"'] }),
    );
    const commandId = sent.Command.CommandId as string;
    assert.equal(sent.Command.Status, 'Pending');
    await waitForInvocation(ssm, commandId, instanceId);
    const invocation = await awsJson(
      'ssm',
      'get-command-invocation',
      '--command-id',
      commandId,
      '--instance-id',
      instanceId,
    );
    assert.equal(invocation.Status, 'Success');
    assert.equal(invocation.StandardOutputContent, `hello from ${instanceId}\n`);
    assert.equal(invocation.ResponseCode, 0);
    const listed = await awsJson('ssm', 'list-command-invocations', '--command-id', commandId, '--details');
    assert.equal(listed.CommandInvocations[0].CommandPlugins[0].Output, `hello from ${instanceId}\n`);
    assert.equal(listed.CommandInvocations[0].Comment, 'from the aws cli');
  });

  test('aws ssm cancel-command stops a running command', async () => {
    const sent = await awsJson(
      'ssm',
      'send-command',
      '--instance-ids',
      instanceId,
      '--document-name',
      'AWS-RunShellScript',
      '--parameters',
      JSON.stringify({ commands: ['sleep 300'] }),
    );
    const commandId = sent.Command.CommandId as string;
    await waitForInvocation(ssm, commandId, instanceId, { until: (s) => s === 'InProgress' });
    // an empty answer ({}) prints nothing
    assert.equal((await aws('ssm', 'cancel-command', '--command-id', commandId)).trim(), '');
    const result = await waitForInvocation(ssm, commandId, instanceId);
    assert.equal(result.Status, 'Cancelled');
  });

  test('aws s3 cp both ways and aws s3 ls', async () => {
    const local = join(work, 'upload.txt');
    writeFileSync(local, 'uploaded by the aws cli\n');
    await aws('s3', 'cp', local, `s3://${info.bucket}/cli/upload.txt`);
    const got = await s3.send(new GetObjectCommand({ Bucket: info.bucket, Key: 'cli/upload.txt' }));
    assert.equal(await got.Body!.transformToString(), 'uploaded by the aws cli\n');
    await s3.send(
      new PutObjectCommand({ Bucket: info.bucket, Key: 'cli/download.txt', Body: 'downloaded by the aws cli\n' }),
    );
    const target = join(work, 'download.txt');
    await aws('s3', 'cp', `s3://${info.bucket}/cli/download.txt`, target);
    assert.equal(readFileSync(target, 'utf8'), 'downloaded by the aws cli\n');
    const listing = await aws('s3', 'ls', `s3://${info.bucket}/cli/`);
    assert.match(listing, /upload\.txt/);
    assert.match(listing, /download\.txt/);
  });

  test('aws s3 presign gives a URL that works until it expires', async () => {
    await s3.send(
      new PutObjectCommand({ Bucket: info.bucket, Key: 'cli/presigned.txt', Body: 'presigned by the aws cli' }),
    );
    const url = (await aws('s3', 'presign', `s3://${info.bucket}/cli/presigned.txt`, '--expires-in', '120')).trim();
    const response = await fetch(url);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), 'presigned by the aws cli');
    const tampered = await fetch(url.replace('presigned.txt', 'upload.txt'));
    assert.equal(tampered.status, 403);
    const shortLived = (
      await aws('s3', 'presign', `s3://${info.bucket}/cli/presigned.txt`, '--expires-in', '1')
    ).trim();
    const expired = await pollUntil(
      'the 1-second URL to expire',
      async () => {
        const answer = await fetch(shortLived);
        return answer.status === 403 ? answer.text() : undefined;
      },
      5_000,
      250,
    );
    assert.match(expired, /Request has expired/);
  });
});
