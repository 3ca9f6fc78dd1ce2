// `ec2-runner sandbox` as a process (through runSandboxCommand, independent of the CLI entry):
// info file once listening, env vars on stderr, flags and --config, SIGTERM leaves no child behind.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeInstanceInformationCommand, SSMClient, SendCommandCommand } from '@aws-sdk/client-ssm';
import type { SandboxInfo } from '../../src/sandbox/index';
import { parseSandboxArgs } from '../../src/sandbox/cli';
import { pollUntil, waitForInvocation } from '../support/sandbox';

const CLI_MODULE = join(__dirname, '..', '..', 'src', 'sandbox', 'cli.js');

function startCli(args: string[]): { child: ChildProcess; stderr: () => string; exited: Promise<number | null> } {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `require(${JSON.stringify(CLI_MODULE)}).runSandboxCommand(process.argv.slice(1)).then((c) => process.exit(c))`,
      '--',
      ...args,
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  // 'close', not 'exit': only then has all of stderr been read (on a busy machine 'exit' comes first).
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, stderr: () => stderr, exited };
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    const stat = readFileSync(`/proc/${pgid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('ec2-runner sandbox command', { concurrency: true }, () => {
  test('writes the info file once listening, prints the env vars, and on SIGTERM kills running commands and exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-cli-'));
    let cli: ReturnType<typeof startCli> | undefined;
    try {
      const infoFile = join(dir, 'info.json');
      const config = join(dir, 'config.json');
      writeFileSync(config, JSON.stringify({ instances: 4, latencyMs: 0 }));
      cli = startCli([
        '--config',
        config,
        '--data-dir',
        join(dir, 'data'),
        '--info-file',
        infoFile,
        '--delivery-delay-ms',
        '10',
      ]);
      const info = await pollUntil(
        'the info file',
        () => (existsSync(infoFile) ? (JSON.parse(readFileSync(infoFile, 'utf8')) as SandboxInfo) : undefined),
        20_000,
      );
      assert.match(info.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(info.instances.length, 4);
      assert.match(info.bucket, /^ec2-runner-\d{12}-us-west-2$/);
      for (const name of [
        'AWS_ENDPOINT_URL',
        'AWS_ACCESS_KEY_ID',
        'AWS_SECRET_ACCESS_KEY',
        'AWS_REGION',
        'EC2_RUNNER_BUCKET',
      ]) {
        assert.match(cli.stderr(), new RegExp(`export ${name}=`));
      }
      // Pasted into a shell that has a profile and a session token, the lines leave only the sandbox's credentials.
      const lines = cli
        .stderr()
        .split('\n')
        .filter((l) => /^\s+(unset|export) /.test(l))
        .join('\n');
      const shell = spawnSync('sh', ['-c', `${lines}\nenv`], {
        env: { PATH: process.env.PATH, AWS_PROFILE: 'corp-sso', AWS_SESSION_TOKEN: 'stale' },
        encoding: 'utf8',
      });
      assert.doesNotMatch(shell.stdout, /^AWS_PROFILE=|^AWS_SESSION_TOKEN=/m);
      assert.match(shell.stdout, new RegExp(`^AWS_ENDPOINT_URL=${info.endpoint}$`, 'm'));
      const ssm = new SSMClient({
        region: info.region,
        endpoint: info.endpoint,
        credentials: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey },
      });
      assert.equal((await ssm.send(new DescribeInstanceInformationCommand({}))).InstanceInformationList?.length, 4);
      const instance = info.instances[0];
      const { Command: command } = await ssm.send(
        new SendCommandCommand({
          DocumentName: 'AWS-RunShellScript',
          InstanceIds: [instance.instanceId],
          Parameters: { commands: ['cut -d" " -f5 /proc/$$/stat > tmp/pgid', 'sleep 300'] }, // cwd: the instance's root
        }),
      );
      await waitForInvocation(ssm, command!.CommandId!, instance.instanceId, { until: (s) => s === 'InProgress' });
      const pgidFile = join(info.dataDir, 'instances', instance.instanceId, 'tmp', 'pgid');
      const pgid = await pollUntil('the script to record its process group', () =>
        existsSync(pgidFile) && readFileSync(pgidFile, 'utf8').trim()
          ? Number(readFileSync(pgidFile, 'utf8'))
          : undefined,
      );
      assert.ok(groupAlive(pgid));
      cli.child.kill('SIGTERM');
      assert.equal(await cli.exited, 0);
      await pollUntil(`process group ${pgid} to be gone`, () => (groupAlive(pgid) ? undefined : true), 5_000);
      assert.equal(existsSync(infoFile), false, 'the info file is removed on exit');
      assert.ok(existsSync(join(dir, 'data', 'identity.json')), 'a given --data-dir is kept');
    } finally {
      // A failed assertion must not leave the sandbox running (the test would never end).
      if (cli && cli.child.exitCode === null) cli.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a bad flag exits 2 with the reason and the usage', async () => {
    const cli = startCli(['--instances', 'many']);
    assert.equal(await cli.exited, 2);
    assert.match(cli.stderr(), /--instances needs a non-negative number, got "many"/);
    assert.match(cli.stderr(), /Usage: ec2-runner sandbox/);
  });

  test('--bucket-region and --bucket-policy (and bucketRegion / bucketPolicy in --config): listed by --help, in the info file', async () => {
    const help = startCli(['--help']);
    assert.equal(await help.exited, 0);
    assert.match(help.stderr(), /--bucket-region R .*\n.*301 PermanentRedirect/);
    assert.match(help.stderr(), /--bucket-policy P .*require-kms/);
    const bad = startCli(['--bucket-policy', 'require-aes']);
    assert.equal(await bad.exited, 2);
    assert.match(bad.stderr(), /--bucket-policy must be one of require-kms, got "require-aes"/);
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-cli-bucket-'));
    try {
      const config = join(dir, 'c.json');
      writeFileSync(config, JSON.stringify({ bucketRegion: 'eu-west-1', bucketPolicy: 'require-kms' }));
      assert.deepEqual(parseSandboxArgs(['--config', config]).options, {
        bucketRegion: 'eu-west-1',
        bucketPolicy: 'require-kms',
      });
      assert.deepEqual(parseSandboxArgs(['--config', config, '--bucket-region', 'ap-south-1']).options, {
        bucketRegion: 'ap-south-1',
        bucketPolicy: 'require-kms',
      });
      const infoFile = join(dir, 'info.json');
      const cli = startCli(['--config', config, '--info-file', infoFile, '--instances', '1']);
      const info = await pollUntil(
        'the info file',
        () => (existsSync(infoFile) ? (JSON.parse(readFileSync(infoFile, 'utf8')) as SandboxInfo) : undefined),
        20_000,
      );
      assert.deepEqual([info.region, info.bucketRegion], ['us-west-2', 'eu-west-1']);
      assert.match(info.kmsKeyArn, /^arn:aws:kms:us-west-2:\d{12}:key\//);
      await pollUntil('the announcement', () => (/Stop with Ctrl\+C/.test(cli.stderr()) ? true : undefined));
      assert.match(cli.stderr(), /Staging bucket: \S+ in eu-west-1 \(bucket policy require-kms; KMS key arn:aws:kms:/);
      cli.child.kill('SIGTERM');
      assert.equal(await cli.exited, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('flags override --config; unknown config keys are refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-cli-args-'));
    try {
      const config = join(dir, 'c.json');
      writeFileSync(config, JSON.stringify({ instances: 5, faultRate: 0.1, infoFile: 'from-config.json' }));
      const parsed = parseSandboxArgs(['--config', config, '--instances=7', '--throttle-rps', '3']);
      assert.deepEqual(parsed.options, { instances: 7, faultRate: 0.1, throttleRps: 3 });
      assert.equal(parsed.infoFile, 'from-config.json');
      writeFileSync(config, JSON.stringify({ instancez: 5 }));
      assert.throws(() => parseSandboxArgs(['--config', config]), /unknown setting\(s\) instancez/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
