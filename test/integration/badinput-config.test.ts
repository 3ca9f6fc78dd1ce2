// The bad-input catalogue, configuration and permissions (docs/errors.md): each input gives one clear message or a
// documented
// behaviour, leaves nothing running and stages nothing outside the expiring key prefix.
import { afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunnerError, type Engine, type RunRequest } from '../../src/core';
import { CALM_KNOBS, fileRequest } from '../soak/referenceRuns';
import { nothingLeftRunning, runCli } from '../support/runChecks';
import { engineOnSandbox } from '../support/engineOnSandbox';
import type { SandboxFixture } from '../support/sandbox';
import { makeTempDir } from '../support/tempDirs';

const sandboxReady = engineOnSandbox({ instances: 3 });

function assertOneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line, got: ${stderr}`);
  assert.match(lines[0], /^ec2-runner: /);
  assert.match(lines[0], pattern);
}

describe('bad input: credentials, region, bucket, targets', () => {
  let fx: SandboxFixture;
  let dir: string;
  let online: string;
  let script: string;
  before(async () => {
    ({ fx } = await sandboxReady);
    dir = makeTempDir('ec2-runner-badinput-');
    online = fx.onlineInstanceIds[0];
    script = join(dir, 'hello.py');
    writeFileSync(script, 'print("hello")\n');
  });

  test('no credentials at all: one line naming the ways to get some', async () => {
    const env = { ...fx.env, AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, HOME: dir };
    const r = await runCli(['run', script, '--instance', online], env);
    assert.equal(r.code, 253);
    assertOneLine(r.stderr, /No AWS credentials found: run `aws configure`, `aws sso login/);
  });

  test('an SSO profile whose cached token has expired: one line telling to `aws sso login --profile`', async () => {
    const home = join(dir, 'sso-home');
    const startUrl = 'https://example.awsapps.com/start';
    mkdirSync(join(home, '.aws', 'sso', 'cache'), { recursive: true });
    writeFileSync(
      join(home, '.aws', 'config'),
      `[profile expired-sso]\nsso_start_url = ${startUrl}\nsso_region = ${fx.info.region}\nsso_account_id = ` +
        `${fx.info.accountId}\nsso_role_name = Dev\nregion = ${fx.info.region}\n`,
    );
    const cacheFile = `${createHash('sha1').update(startUrl).digest('hex')}.json`;
    writeFileSync(
      join(home, '.aws', 'sso', 'cache', cacheFile),
      JSON.stringify({
        startUrl,
        region: fx.info.region,
        accessToken: 'expired-token',
        expiresAt: '2020-01-01T00:00:00Z',
      }),
    );
    const env = {
      ...fx.env,
      AWS_ACCESS_KEY_ID: undefined,
      AWS_SECRET_ACCESS_KEY: undefined,
      HOME: home,
      AWS_CONFIG_FILE: join(home, '.aws', 'config'),
    };
    const r = await runCli(['instances', '--profile', 'expired-sso'], env);
    assert.equal(r.code, 253);
    assertOneLine(r.stderr, /SSO .*(expired|missing).*aws sso login --profile expired-sso/);
  });

  test('credentials signed for another region than the endpoint serves: refused, the message points at the region', async () => {
    const r = await runCli(['run', script, '--instance', online, '--region', 'eu-west-1'], fx.env);
    assert.equal(r.code, 253);
    assertOneLine(r.stderr, /rejected the credentials.*region/i);
  });

  test('a missing bucket: one line, nothing sent', async () => {
    const r = await runCli(['run', script, '--instance', online, '--bucket', 'no-such-bucket-here'], fx.env);
    assert.equal(r.code, 253);
    assertOneLine(r.stderr, /S3 bucket no-such-bucket-here does not exist.*--bucket/);
  });

  test('an unknown instance and an offline instance: one line each, nothing sent', async () => {
    const unknown = await runCli(['run', script, '--instance', 'i-0123456789abcdef0'], fx.env);
    assertOneLine(unknown.stderr, /i-0123456789abcdef0 is not an SSM managed instance in us-west-2/);
    const offline = fx.info.instances.find((i) => i.pingStatus !== 'Online')!.instanceId;
    const down = await runCli(['run', script, '--instance', offline], fx.env);
    assertOneLine(down.stderr, new RegExp(`${offline} is offline to SSM \\(PingStatus ConnectionLost`));
    assert.deepEqual([unknown.code, down.code], [254, 254]);
  });

  test('file names: quotes and spaces run; a newline is refused with one line', async () => {
    const quoted = join(dir, `it's a "quoted" $(name).sh`);
    writeFileSync(quoted, 'echo "$0" | sed "s|.*/||"\n');
    const ok = await runCli(['run', quoted, '--instance', online], fx.env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout.toString(), `it's a "quoted" $(name).sh\n`);
    const newline = join(dir, 'two\nlines.sh');
    writeFileSync(newline, 'echo never\n');
    const bad = await runCli(['run', newline, '--instance', online], fx.env);
    assert.equal(bad.code, 252);
    assertOneLine(bad.stderr, /Invalid file name "two\\nlines.sh": give a plain file name/);
  });
});

// IAM action denied -> what a file run does (engine in-process). `before send` = refused with the
// action named before SendCommand; `completes` = the run still ends normally; `ssm fallback` = the
// run ends with SSM's output and the live-output note.
const DENIALS: Array<{
  action: string;
  outcome: 'before send' | 'completes' | 'ssm fallback' | 'wait fails';
  stagedFirst?: boolean;
}> = [
  { action: 's3:ListBucket', outcome: 'before send' }, // HeadBucket
  { action: 's3:GetObject', outcome: 'before send' }, // HeadObject while staging
  { action: 's3:PutObject', outcome: 'before send' }, // staging upload
  // already staged: only the live POST is refused
  { action: 's3:PutObject', outcome: 'ssm fallback', stagedFirst: true },
  { action: 'ssm:SendCommand', outcome: 'before send' },
  { action: 'ssm:DescribeInstanceInformation', outcome: 'completes' }, // the pre-check is best effort
  { action: 'tag:GetResources', outcome: 'completes' }, // names only
  { action: 'ssm:GetCommandInvocation', outcome: 'wait fails' },
];

const STAGED_FILLER = randomBytes(40 * 1024).toString('base64');

describe('bad input: AccessDenied on each API names the IAM action', () => {
  let fx: SandboxFixture;
  let engine: Engine;
  let online: string;
  before(async () => {
    ({ fx, engine } = await sandboxReady);
    online = fx.onlineInstanceIds[0];
  });
  afterEach(() => fx.sandbox.configure(CALM_KNOBS));

  for (const { action, outcome, stagedFirst } of DENIALS) {
    test(`${action} denied${stagedFirst ? ' (file already staged)' : ''}: ${outcome}`, async () => {
      // Random filler does not compress: too large to travel inline, so the file is staged in S3.
      const printed = `denied ${action} ${stagedFirst ? 'staged' : ''}`;
      const content = `# ${STAGED_FILLER}\nprint("${printed}")\n`;
      const request: RunRequest = fileRequest({ fileName: 'denial.py', content }, online);
      if (stagedFirst) await (await engine.start(request)).wait();
      fx.sandbox.configure({ deny: [action] });
      if (outcome === 'before send') {
        fx.sandbox.resetStats();
        await assert.rejects(engine.start(request), (error: unknown) => {
          assert.ok(error instanceof RunnerError);
          assert.equal(error.code, 'AccessDenied');
          assert.match(error.message, new RegExp(`Access denied for ${action}.*grant your IAM identity ${action}`));
          return true;
        });
        assert.equal(fx.sandbox.stats()['ssm:SendCommand'] ?? 0, action === 'ssm:SendCommand' ? 1 : 0, 'nothing sent');
        return;
      }
      const handle = await engine.start(request);
      if (outcome === 'wait fails') {
        await assert.rejects(handle.wait(), new RegExp(`Access denied for ${action}`));
        fx.sandbox.configure(CALM_KNOBS);
        await nothingLeftRunning(handle.commandId, 10_000);
        return;
      }
      const invocation = (await handle.wait()).invocations[0];
      assert.equal(invocation.status, 'Success', invocation.reason);
      assert.equal(invocation.stdout, `${printed}\n`);
      assert.equal(invocation.outputSource, outcome === 'completes' ? 'live' : 'ssm');
      if (outcome === 'ssm fallback') assert.match(invocation.reason ?? '', /live output unavailable/);
    });
  }
});
