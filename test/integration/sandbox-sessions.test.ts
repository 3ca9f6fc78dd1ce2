// Temporary credentials on the sandbox: sts:AssumeRole of the info file's roleArn answers session
// credentials that live `sessionLifetimeS` seconds; once expired every request signed with them is
// refused as AWS refuses it (SSM ExpiredTokenException, S3 400 ExpiredToken), presigned GET URLs and
// presigned POST uploads included. A role profile works through the SDK's own credential chain.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeInstanceInformationCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { fromIni } from '@aws-sdk/credential-providers';
import { parseSandboxArgs } from '../../src/sandbox/cli';
import { withSandbox } from '../support/sandbox';
import { ROLE_PROFILE, writeRoleProfile } from '../support/roleProfile';

const LIFETIME_S = 5;

async function postForm(
  url: string,
  fields: Record<string, string>,
  key: string,
  body: string,
): Promise<{ status: number; text: string }> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, name === 'key' ? key : value);
  form.append('file', new Blob([body]), 'x');
  const response = await fetch(url, { method: 'POST', body: form });
  return { status: response.status, text: await response.text() };
}

describe('sandbox: temporary credentials (sts:AssumeRole, --session-lifetime-s)', async () => {
  const fx = await withSandbox({ sessionLifetimeS: LIFETIME_S });
  const sts = new STSClient(fx.clientConfig);

  async function assumed() {
    const out = await sts.send(new AssumeRoleCommand({ RoleArn: fx.info.roleArn, RoleSessionName: 'test' }));
    const c = out.Credentials!;
    return {
      accessKeyId: c.AccessKeyId!,
      secretAccessKey: c.SecretAccessKey!,
      sessionToken: c.SessionToken!,
      expiration: c.Expiration!,
    };
  }

  test('AssumeRole answers credentials valid sessionLifetimeS seconds; they work with their token and identify the role', async () => {
    const credentials = await assumed();
    const lifetimeMs = credentials.expiration.getTime() - Date.now();
    assert.ok(lifetimeMs > (LIFETIME_S - 2) * 1000 && lifetimeMs <= LIFETIME_S * 1000, `lifetime ${lifetimeMs} ms`);
    const who = await new STSClient({ ...fx.clientConfig, credentials }).send(new GetCallerIdentityCommand({}));
    assert.equal(who.Account, fx.info.accountId);
    assert.match(who.Arn!, /^arn:aws:sts::\d{12}:assumed-role\/ec2-runner-sandbox\/test$/);
    const withoutToken = new SSMClient({
      ...fx.clientConfig,
      credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
      maxAttempts: 1,
    });
    await assert.rejects(withoutToken.send(new DescribeInstanceInformationCommand({})), {
      name: 'UnrecognizedClientException',
    });
  });

  test('another role is refused: AccessDenied naming the sandbox role', async () => {
    await assert.rejects(
      sts.send(
        new AssumeRoleCommand({
          RoleArn: `arn:aws:iam::${fx.info.accountId}:role/other`,
          RoleSessionName: 'other-session',
        }),
      ),
      (error: Error) => error.name === 'AccessDenied' && error.message.includes(fx.info.roleArn),
    );
  });

  test('expired session credentials: API calls, presigned GET and presigned POST are refused as AWS refuses them', async () => {
    const credentials = await assumed();
    const s3 = new S3Client({ ...fx.clientConfig, credentials, forcePathStyle: true, maxAttempts: 1 });
    const ssm = new SSMClient({ ...fx.clientConfig, credentials, maxAttempts: 1 });
    const key = 'ec2-runner/sessions/object';
    await s3.send(new PutObjectCommand({ Bucket: fx.info.bucket, Key: key, Body: 'hello' }));
    const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: fx.info.bucket, Key: key }), {
      expiresIn: 3600,
    });
    const post = await createPresignedPost(s3, {
      Bucket: fx.info.bucket,
      Key: 'ec2-runner/sessions/${filename}',
      Conditions: [['starts-with', '$key', 'ec2-runner/sessions/']],
      Expires: 3600,
    });
    // Valid while the session lasts.
    assert.equal((await fetch(getUrl)).status, 200);
    assert.equal((await postForm(post.url, post.fields, 'ec2-runner/sessions/before', 'x')).status, 204);
    await ssm.send(new DescribeInstanceInformationCommand({}));

    await new Promise((resolve) => setTimeout(resolve, credentials.expiration.getTime() - Date.now() + 200));
    await assert.rejects(
      ssm.send(new DescribeInstanceInformationCommand({})),
      (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
        assert.equal(error.name, 'ExpiredTokenException');
        assert.equal(error.message, 'The security token included in the request is expired');
        assert.equal(error.$metadata?.httpStatusCode, 400);
        return true;
      },
    );
    await assert.rejects(s3.send(new GetObjectCommand({ Bucket: fx.info.bucket, Key: key })), (error: Error) => {
      assert.equal(error.name, 'ExpiredToken');
      assert.equal(error.message, 'The provided token has expired.');
      return true;
    });
    const get = await fetch(getUrl);
    assert.equal(get.status, 400, 'presigned GET (its own X-Amz-Expires is an hour)');
    assert.match(await get.text(), /<Code>ExpiredToken<\/Code><Message>The provided token has expired\.<\/Message>/);
    const posted = await postForm(post.url, post.fields, 'ec2-runner/sessions/after', 'x');
    assert.equal(posted.status, 400, 'presigned POST (its policy lives an hour)');
    assert.match(posted.text, /<Code>ExpiredToken<\/Code>/);
  });

  test('a role_arn + source_profile profile works through the SDK credential chain and keeps working past one session', async () => {
    const profile = writeRoleProfile(fx.info);
    const credentials = fromIni({
      profile: ROLE_PROFILE,
      filepath: '/dev/null',
      configFilepath: profile.configFile,
      clientConfig: { region: fx.info.region, endpoint: fx.info.endpoint },
    });
    const ssm = new SSMClient({ region: fx.info.region, endpoint: fx.info.endpoint, credentials });
    const before = fx.sandbox.stats()['sts:AssumeRole'] ?? 0;
    assert.equal(
      (await ssm.send(new DescribeInstanceInformationCommand({}))).InstanceInformationList!.length,
      fx.info.instances.length,
    );
    await new Promise((resolve) => setTimeout(resolve, (LIFETIME_S + 0.5) * 1000));
    assert.equal(
      (await ssm.send(new DescribeInstanceInformationCommand({}))).InstanceInformationList!.length,
      fx.info.instances.length,
    );
    assert.ok((fx.sandbox.stats()['sts:AssumeRole'] ?? 0) - before >= 2, 'the SDK assumed the role again');
  });

  test('--session-lifetime-s and sessionLifetimeS in --config; below 5 s is refused', async () => {
    assert.equal(parseSandboxArgs(['--session-lifetime-s', '20']).options.sessionLifetimeS, 20);
    assert.throws(() => fx.sandbox.configure({ sessionLifetimeS: 3 }), /sessionLifetimeS must be .* at least 5/);
    fx.sandbox.configure({ sessionLifetimeS: 7 });
    const credentials = await assumed();
    assert.ok(credentials.expiration.getTime() - Date.now() > 5_000);
    fx.sandbox.configure({ sessionLifetimeS: LIFETIME_S });
  });
});
