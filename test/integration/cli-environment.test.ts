// The CLI meets the AWS environment a newcomer's shell really has: AWS_DEFAULT_REGION only, a
// profile that does not exist, a profile left set next to the sandbox's keys.
import { before, after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/runChecks';
import { withSandbox, type SandboxFixture } from '../support/sandbox';

const sandboxReady = withSandbox({ instances: 1 });

describe('ec2-runner and the AWS environment', () => {
  let fx: SandboxFixture;
  let dir: string;
  before(async () => {
    fx = await sandboxReady;
    dir = mkdtempSync(join(tmpdir(), 'ec2-runner-cli-env-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('AWS_DEFAULT_REGION is honoured when AWS_REGION is not set (as the AWS CLI does)', async () => {
    const { AWS_REGION: _region, AWS_DEFAULT_REGION: _default, ...noRegion } = fx.env;
    const without = await runCli(['instances'], noRegion);
    assert.notEqual(without.code, 0);
    assert.match(without.stderr, /No AWS region configured/);
    const withDefault = await runCli(['instances'], { ...noRegion, AWS_DEFAULT_REGION: fx.info.region });
    assert.equal(withDefault.code, 0, withDefault.stderr);
    assert.match(withDefault.stdout.toString(), new RegExp(fx.onlineInstanceIds[0]));
  });

  test('--profile nosuch says the profile does not exist and which files were read', async () => {
    const config = join(dir, 'config');
    writeFileSync(config, '[default]\nregion = us-west-2\n[profile dev]\n');
    const r = await runCli(['instances', '--profile', 'nosuch'], { ...fx.env, AWS_CONFIG_FILE: config });
    assert.notEqual(r.code, 0);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(
      lines[0],
      /^ec2-runner: The AWS profile "nosuch" does not exist \(read .*config and \/dev\/null; profiles there: default, dev\)/,
    );
  });

  test("a profile left set next to static keys: one reworded warning line, not the SDK's block", async () => {
    const config = join(dir, 'config-sb');
    writeFileSync(
      config,
      `[profile sb]\nregion = ${fx.info.region}\naws_access_key_id = ` +
        `${fx.info.accessKeyId}\naws_secret_access_key = ${fx.info.secretAccessKey}\n`,
    );
    const r = await runCli(['instances'], { ...fx.env, AWS_CONFIG_FILE: config, AWS_PROFILE: 'sb' });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /Multiple credential sources detected|@aws-sdk/);
    const warnings = r.stderr.split('\n').filter((l) => l.includes('warning'));
    assert.equal(warnings.length, 1, r.stderr);
    assert.match(
      warnings[0],
      /^ec2-runner: warning: both AWS_PROFILE \("sb"\) and AWS_ACCESS_KEY_ID\/AWS_SECRET_ACCESS_KEY are set; using the profile/,
    );
  });
});
