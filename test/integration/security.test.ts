// Security properties end to end on the sandbox: arguments arrive byte for byte whatever they hold,
// a tampered staged object never runs, no secret reaches a command text / Comment / output / log,
// presigned URLs and the POST policy expire shortly after the run's timeout, and the sandbox
// refuses what AWS refuses.
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ListCommandsCommand, SSMClient } from '@aws-sdk/client-ssm';
import { RunnerError, type Engine } from '../../src/core';
import { LIVE_POLICY_SLACK_SECONDS } from '../../src/core/defaults';
import { sha256Hex, stagedKey } from '../../src/core/staging';
import { fileRequest, runCollecting } from '../soak/referenceRuns';
import { seededRandom } from '../support/remoteWrapperSuite';
import { nothingLeftRunning, runCli } from '../support/runChecks';
import { specOf, wrapperTextOf } from '../support/commandSpec';
import { engineOnSandbox } from '../support/engineOnSandbox';
import type { SandboxFixture } from '../support/sandbox';

const sandboxReady = engineOnSandbox({ instances: 3 });

const NASTY = [
  '"',
  "'",
  '`',
  '$',
  '$(id)',
  '${HOME}',
  '\\',
  '\n',
  '\r',
  '\t',
  ' ',
  ';',
  '|',
  '&',
  '*',
  '?',
  '~',
  '#',
  '!',
  '-',
  '--',
  '\u0001',
  '\u001b[31m',
  '\u007f',
  'é',
  '€',
  '😀',
  '中文',
  '\u200b',
  '\ufeff',
];

function randomArg(next: () => number): string {
  const length = Math.floor(next() * 12);
  let text = '';
  for (let i = 0; i < length; i++) {
    const pick = next();
    if (pick < 0.5) text += NASTY[Math.floor(next() * NASTY.length)];
    else if (pick < 0.8) text += String.fromCharCode(0x20 + Math.floor(next() * 95));
    else {
      // Any BMP code point except NUL and surrogates.
      let code = 1 + Math.floor(next() * 0xfffe);
      if (code >= 0xd800 && code <= 0xdfff) code = 0x2603;
      text += String.fromCharCode(code);
    }
  }
  return text;
}

/** The script prints each argument as hex on its own line (plus the count), so any byte difference shows. */
const ECHO_ARGS = {
  fileName: 'args.py',
  content: 'import sys, os\nargs = sys.argv[1:]\nprint(len(args))\nfor a in args:\n    print(os.fsencode(a).hex())\n',
};

function expectedEcho(args: string[]): string {
  return `${args.length}\n${args.map((a) => `${Buffer.from(a, 'utf8').toString('hex')}\n`).join('')}`;
}

describe('security', () => {
  let fx: SandboxFixture;
  let engine: Engine;
  let online: string[];
  let s3: S3Client;
  let ssm: SSMClient;
  let dir: string;
  before(async () => {
    ({ fx, engine } = await sandboxReady);
    online = fx.onlineInstanceIds;
    s3 = new S3Client({ ...fx.clientConfig, forcePathStyle: true });
    ssm = new SSMClient(fx.clientConfig);
    dir = mkdtempSync(join(tmpdir(), 'ec2-runner-security-'));
  });
  after(() => {
    s3?.destroy();
    ssm?.destroy();
  });

  test('1,000 random argument vectors arrive byte for byte through SendCommand (batched per run)', async () => {
    const seed = Number(process.env.EC2_RUNNER_ARGS_SEED ?? Date.now() % 1_000_000);
    const next = seededRandom(seed);
    const vectors = Array.from({ length: 1000 }, () =>
      Array.from({ length: Math.floor(next() * 5) }, () => randomArg(next)),
    );
    // Arguments are independent argv elements, so several vectors travel in one run; a batch that
    // would exceed the command budget is split in two.
    const batches: string[][] = [];
    for (let i = 0; i < vectors.length; i += 40) batches.push(vectors.slice(i, i + 40).flat());
    let runs = 0;
    async function check(args: string[]): Promise<void> {
      let run;
      try {
        run = await runCollecting(engine, fileRequest({ ...ECHO_ARGS, args }, online[runs++ % online.length]));
      } catch (error) {
        if (!(error instanceof RunnerError && error.code === 'CommandTooLarge') || args.length < 2) throw error;
        await check(args.slice(0, args.length >> 1));
        await check(args.slice(args.length >> 1));
        return;
      }
      assert.equal(run.result.invocations[0].status, 'Success', run.result.invocations[0].reason);
      assert.equal(run.stdout.toString('utf8'), expectedEcho(args), `seed ${seed}: an argument changed on the way`);
    }
    const queue = [...batches];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let batch = queue.shift(); batch; batch = queue.shift()) await check(batch);
      }),
    );
    assert.ok(runs >= batches.length);
  });

  test('a staged object tampered with after upload is refused by the checksum; nothing runs', async () => {
    const marker = join(dir, 'tamper-ran');
    const evil = join(dir, 'evil-ran');
    const content =
      `# ${randomBytes(40 * 1024).toString('base64')} (too large to inline: staged)\ntouch ${marker}; echo ` +
      `genuine\n`;
    const request = fileRequest({ fileName: 'tamper.sh', content }, online[0]);
    const first = await runCollecting(engine, request);
    assert.equal(first.stdout.toString(), 'genuine\n');
    rmSync(marker);
    // An attacker with s3:PutObject overwrites the object, keeping its size and recorded sha256.
    const sha256 = sha256Hex(Buffer.from(content));
    const forged = `touch ${evil};echo evil!!\n`.padEnd(content.length, '#');
    assert.equal(forged.length, content.length);
    await s3.send(
      new PutObjectCommand({
        Bucket: fx.info.bucket,
        Key: stagedKey('ec2-runner/', sha256, 'tamper.sh'),
        Body: forged,
        Metadata: { sha256 },
      }),
    );
    const second = await runCollecting(engine, request);
    const invocation = second.result.invocations[0];
    assert.equal(invocation.status, 'Failed');
    assert.equal(invocation.exitCode, 125);
    assert.match(
      invocation.reason ?? '',
      new RegExp(`checksum mismatch: expected ${sha256} got ${sha256Hex(Buffer.from(forged))}`),
    );
    assert.equal(second.stdout.length, 0);
    assert.equal(existsSync(evil), false, 'the tampered file ran');
    assert.equal(existsSync(marker), false);
    await nothingLeftRunning(second.commandId);
    // A plain overwrite (without our recorded sha256) is replaced by the next run, which then works.
    await s3.send(
      new PutObjectCommand({
        Bucket: fx.info.bucket,
        Key: stagedKey('ec2-runner/', sha256, 'tamper.sh'),
        Body: forged,
      }),
    );
    const third = await runCollecting(engine, request);
    assert.equal(third.stdout.toString(), 'genuine\n');
    assert.equal(existsSync(evil), false);
  });

  test('no secret key or session token in command texts, Comments, CLI output, logs or the instance environment', async () => {
    const sessionToken = `FwoGZXIvYXdzE${'Q'.repeat(40)}sessiontoken`;
    const env = { ...fx.env, AWS_SESSION_TOKEN: sessionToken, EC2_RUNNER_DEBUG: '1' };
    const file = join(dir, 'secrets.py');
    writeFileSync(file, 'import os\nprint(sorted(os.environ))\nprint(" ".join(os.environ.values()))\n');
    const outputs = [
      await runCli(['run', file, '--instance', online[0], '--json', '--timeout', '60', '--', 'arg'], env),
      await runCli(['exec', '--instance', online[1], '--', 'env; echo done'], env),
      await runCli(['run', file, '--instance', 'i-0123456789abcdef0'], env),
      await runCli(['status', '00000000-0000-0000-0000-000000000000'], env),
    ];
    const listed = await ssm.send(new ListCommandsCommand({ MaxResults: 50 }));
    const texts: string[] = [];
    for (const command of listed.Commands ?? []) {
      const commands = command.Parameters?.commands ?? [];
      texts.push(command.Comment ?? '', commands.join('\n'));
      if (/b64decode/.test(commands.join('\n'))) texts.push(wrapperTextOf(commands), JSON.stringify(specOf(commands)));
    }
    for (const o of outputs) texts.push(o.stdout.toString('utf8'), o.stderr);
    const all = texts.join('\n');
    assert.ok(all.includes('done'), 'the runs happened');
    assert.ok(!all.includes(fx.info.secretAccessKey), 'the secret access key leaked');
    // A session token only ever appears where a presigned URL / POST policy inherently carries it.
    const withoutPresigned = all
      .replace(/X-Amz-Security-Token=[^&"\s]+/g, '')
      .replace(/"x-amz-security-token","[^"]+"/gi, '')
      .replace(/\\"X-Amz-Security-Token\\",\\"[^\\]+\\"/g, '');
    assert.ok(!withoutPresigned.includes(sessionToken), 'the session token appears outside presigned credentials');
  });

  test('the presigned GET expires at delivery timeout + slack, the POST policy at delivery + execution timeout + slack, covering only the instance', async () => {
    const before = Date.now();
    const handle = await engine.start(
      fileRequest(
        {
          fileName: 'expiry.py',
          content: `# ${randomBytes(40 * 1024).toString('base64')} (too large to inline)\nprint("x")\n`,
        },
        online[0],
        { timeoutSeconds: 60, deliveryTimeoutSeconds: 30 },
      ),
    );
    await handle.wait();
    const command = (await ssm.send(new ListCommandsCommand({ CommandId: handle.commandId }))).Commands![0];
    const spec = specOf(command.Parameters!.commands!);
    const lifetime = 30 + 60 + LIVE_POLICY_SLACK_SECONDS;
    const url = new URL(spec.file!.fetch.url!);
    assert.equal(Number(url.searchParams.get('X-Amz-Expires')), 30 + LIVE_POLICY_SLACK_SECONDS);
    const policy = JSON.parse(
      Buffer.from(Object.fromEntries(spec.output!.fields)['Policy'], 'base64').toString('utf8'),
    ) as { expiration: string; conditions: unknown[] };
    const keyCondition = policy.conditions.find((c) => Array.isArray(c) && c[1] === '$key') as string[];
    assert.match(
      keyCondition[2],
      new RegExp(`runs/[0-9a-f]{16}/${online[0]}/$`),
      "a single-instance run's policy covers only its instance",
    );
    const expiresIn = (Date.parse(policy.expiration) - before) / 1000;
    assert.ok(Math.abs(expiresIn - lifetime) < 15, `POST policy expires in ${expiresIn} s, expected about ${lifetime}`);
    assert.ok(!JSON.stringify(spec).includes(fx.info.secretAccessKey));
  });

  test('the sandbox refuses what AWS refuses: unsigned, wrong secret, expired or altered presigned requests, expired POST policy', async () => {
    const unsigned = await fetch(fx.info.endpoint, {
      method: 'POST',
      headers: { 'x-amz-target': 'AmazonSSM.ListCommands', 'content-type': 'application/x-amz-json-1.1' },
      body: '{}',
    });
    assert.equal(unsigned.status, 400);
    assert.equal(((await unsigned.json()) as { __type: string }).__type, 'MissingAuthenticationTokenException');
    const unsignedS3 = await fetch(`${fx.info.endpoint}/${fx.info.bucket}/ec2-runner/`);
    assert.equal(unsignedS3.status, 403);

    const wrong = {
      ...fx.clientConfig,
      credentials: { accessKeyId: fx.info.accessKeyId, secretAccessKey: 'not-the-secret' },
    };
    const wrongSsm = new SSMClient({ ...wrong, maxAttempts: 1 });
    const wrongS3 = new S3Client({ ...wrong, forcePathStyle: true, maxAttempts: 1 });
    try {
      await assert.rejects(wrongSsm.send(new ListCommandsCommand({})), { name: 'InvalidSignatureException' });
      await assert.rejects(wrongS3.send(new GetObjectCommand({ Bucket: fx.info.bucket, Key: 'x' })), {
        name: 'SignatureDoesNotMatch',
      });
    } finally {
      wrongSsm.destroy();
      wrongS3.destroy();
    }

    await s3.send(new PutObjectCommand({ Bucket: fx.info.bucket, Key: 'ec2-runner/probe', Body: 'probe' }));
    const get = new GetObjectCommand({ Bucket: fx.info.bucket, Key: 'ec2-runner/probe' });
    const valid = await getSignedUrl(s3, get, { expiresIn: 60 });
    assert.equal((await fetch(valid)).status, 200);
    const expired = await getSignedUrl(s3, get, { expiresIn: 60, signingDate: new Date(Date.now() - 3600_000) });
    assert.equal((await fetch(expired)).status, 403);
    const altered = valid.replace('ec2-runner/probe', 'ec2-runner/other');
    assert.equal((await fetch(altered)).status, 403);

    const post = await createPresignedPost(s3, {
      Bucket: fx.info.bucket,
      Key: 'ec2-runner/runs/x/${filename}',
      Expires: 1,
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const form = new FormData();
    for (const [k, v] of Object.entries(post.fields)) form.append(k, v);
    form.append('key', 'ec2-runner/runs/x/late');
    form.append('file', new Blob(['late']), 'late');
    const late = await fetch(post.url, { method: 'POST', body: form });
    assert.equal(late.status, 403);
    assert.match(await late.text(), /Policy expired/);
  });
});
