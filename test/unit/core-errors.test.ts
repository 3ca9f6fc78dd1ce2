// Error mapping: each failure becomes one actionable line with a stable code.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { RunnerError } from '../../src/core/api';
import { iamActionOf, toRunnerError } from '../../src/core/errors';
import { annotateFailedOperation } from '../../src/core/operationTag';
import { cliMessage } from '../../src/cli/advice';

const named = (name: string, message = '', extra: object = {}) => Object.assign(new Error(message), { name, ...extra });

/** A real SDK client whose every request gets this HTTP answer (no network). */
function answering<T extends SSMClient | S3Client>(
  make: (handler: unknown) => T,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): T {
  const requestHandler = {
    handle: async () => ({
      response: {
        statusCode: status,
        headers: { 'content-type': 'application/x-amz-json-1.1', ...headers },
        body: Readable.from([Buffer.from(body)]),
      },
    }),
  };
  return annotateFailedOperation(make(requestHandler));
}

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };

describe('error mapping', () => {
  test('AccessDenied names the IAM action of the failed call', async () => {
    const ssm = answering(
      (requestHandler) =>
        new SSMClient({ region: 'us-east-1', credentials, requestHandler: requestHandler as never, maxAttempts: 1 }),
      400,
      JSON.stringify({ __type: 'AccessDeniedException', message: 'User is not authorized' }),
    );
    const error = await ssm
      .send(new SendCommandCommand({ DocumentName: 'AWS-RunShellScript', InstanceIds: ['i-0123456789abcdef0'] }))
      .catch((e) => e);
    assert.equal(iamActionOf(error), 'ssm:SendCommand');
    const mapped = toRunnerError(error);
    assert.equal(mapped.code, 'AccessDenied');
    assert.match(mapped.message, /Access denied for ssm:SendCommand: grant your IAM identity ssm:SendCommand/);
  });

  test('S3 operations map to their IAM action names', async () => {
    const s3 = answering(
      (requestHandler) =>
        new S3Client({ region: 'us-east-1', credentials, requestHandler: requestHandler as never, maxAttempts: 1 }),
      403,
      '',
      { 'content-type': 'application/xml' },
    );
    const error = await s3.send(new HeadObjectCommand({ Bucket: 'b', Key: 'k' })).catch((e) => e);
    assert.equal(iamActionOf(error), 's3:GetObject');
    const mapped = toRunnerError(error, { bucket: 'b' });
    assert.equal(mapped.code, 'AccessDenied');
    assert.match(mapped.message, /s3:GetObject on bucket b/);
  });

  // The profile the cases name exists (in a config file of this test's own); a missing one is its own case.
  const saved = { config: process.env.AWS_CONFIG_FILE, credentials: process.env.AWS_SHARED_CREDENTIALS_FILE };
  let awsDir = '';
  before(() => {
    awsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ec2-runner-errors-'));
    process.env.AWS_CONFIG_FILE = path.join(awsDir, 'config');
    process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(awsDir, 'credentials');
    fs.writeFileSync(process.env.AWS_CONFIG_FILE, '[profile dev]\nsso_session = corp\n');
  });
  after(() => {
    for (const [key, value] of [
      ['AWS_CONFIG_FILE', saved.config],
      ['AWS_SHARED_CREDENTIALS_FILE', saved.credentials],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    fs.rmSync(awsDir, { recursive: true, force: true });
  });

  test('a profile that is not in the shared files is named as missing, not as "no credentials" or "no region"', () => {
    for (const error of [
      named(
        'CredentialsProviderError',
        'Could not resolve credentials using profile: [nosuch] in configuration/credentials file(s).',
      ),
      new Error('Region is missing'),
    ]) {
      const mapped = toRunnerError(error, { profile: 'nosuch' });
      assert.equal(mapped.code, 'ProfileNotFound');
      assert.match(
        mapped.message,
        /The AWS profile "nosuch" does not exist \(read .*config and .*credentials; profiles there: dev\)/,
      );
    }
  });

  const cases: Array<[string, unknown, string, RegExp]> = [
    [
      'no credentials',
      named('CredentialsProviderError', 'Could not load credentials from any providers'),
      'NoCredentials',
      /No AWS credentials found.*aws configure.*aws sso login.*sandbox/,
    ],
    [
      'expired SSO',
      named('CredentialsProviderError', 'The SSO session associated with this profile has expired'),
      'CredentialsExpired',
      /aws sso login --profile dev/,
    ],
    [
      'expired token',
      named('ExpiredTokenException', 'The security token included in the request is expired'),
      'CredentialsExpired',
      /expired/,
    ],
    [
      'bad keys',
      named('UnrecognizedClientException', 'The security token included in the request is invalid.'),
      'InvalidCredentials',
      /rejected the credentials/,
    ],
    [
      'missing bucket',
      named('NoSuchBucket', 'The specified bucket does not exist'),
      'NoSuchBucket',
      /bucket create.*--bucket/,
    ],
    [
      'unknown instance',
      named('InvalidInstanceId', 'Instances [[i-0123456789abcdef0]] not in a valid state'),
      'InvalidInstanceId',
      /unknown.*not SSM-managed.*offline.*ec2-runner instances/,
    ],
    ['throttling', named('ThrottlingException', 'Rate exceeded'), 'Throttled', /throttling.*retry/],
    [
      'unreachable endpoint',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
      'EndpointUnreachable',
      /Cannot reach.*127\.0\.0\.1:1.*sandbox running/,
    ],
    ['no region', new Error('Region is missing'), 'NoRegion', /--region.*AWS_REGION/],
  ];
  for (const [what, error, code, pattern] of cases) {
    test(what, () => {
      const mapped = toRunnerError(error, { profile: 'dev', endpointUrl: 'http://127.0.0.1:1', bucket: 'my-bucket' });
      assert.ok(mapped instanceof RunnerError);
      assert.equal(mapped.code, code);
      assert.match(cliMessage(mapped), pattern, 'the CLI words its advice (flags, commands)');
      assert.ok(mapped.message.startsWith(mapped.problem), "the engine's own message starts with the problem");
      assert.ok(!mapped.message.includes('\n'), 'one line');
    });
  }

  test('RunnerErrors pass through unchanged', () => {
    const original = new RunnerError('x', 'Custom');
    assert.equal(toRunnerError(original), original);
  });
});
