// Per-instance upload policies (issue 13.5): the policy a single-instance run carries, and every
// renewal, covers only `<runPrefix><instanceId>/`, so one instance cannot write another instance's
// live output; the sandbox refuses it as S3 does (the POST policy's key condition fails). Renewal
// commands carry one instance's policy each.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { S3Client } from '@aws-sdk/client-s3';
import { buildRenewalCommands, chunkKey, parseChunkKey } from '../../src/core/remote';
import { createLiveOutputTarget, runPrefixOf } from '../../src/core/transfer';
import { specOf } from '../support/commandSpec';
import { withSandbox } from '../support/sandbox';

async function post(
  url: string,
  fields: Record<string, string>,
  key: string,
): Promise<{ status: number; text: string }> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, name === 'key' ? key : value);
  form.append('file', new Blob(['forged output']), 'output');
  const response = await fetch(url, { method: 'POST', body: form });
  return { status: response.status, text: await response.text() };
}

describe('per-instance upload policies', async () => {
  const fx = await withSandbox();
  const s3 = new S3Client({ ...fx.clientConfig, forcePathStyle: true });
  const [a, b] = fx.onlineInstanceIds;
  const runPrefix = runPrefixOf('ec2-runner/', '0123456789abcdef');

  test("one instance's policy writes its own keys and is refused for another instance's keys", async () => {
    const target = await createLiveOutputTarget(s3, fx.info.bucket, runPrefix, 600, a);
    assert.equal(target.keyPrefix, runPrefix, 'the wrapper still appends <instanceId>/<seq> (chunkKeys.ts layout)');
    const own = chunkKey(target.keyPrefix, a, 0);
    assert.deepEqual(parseChunkKey(runPrefix, own), { instanceId: a, seq: 0 });
    assert.equal((await post(target.url, target.fields, own)).status, 204);
    const forged = await post(target.url, target.fields, chunkKey(target.keyPrefix, b, 0));
    assert.equal(forged.status, 403);
    assert.match(
      forged.text,
      /<Code>AccessDenied<\/Code><Message>Invalid according to Policy: Policy Condition failed/,
    );
    const outside = await post(target.url, target.fields, `${runPrefix}${a}x/00000000`);
    assert.equal(outside.status, 403, 'a sibling prefix that merely starts with the id is refused too');
  });

  test('a shared (tag-target) policy covers every instance of the run, and no other run', async () => {
    const target = await createLiveOutputTarget(s3, fx.info.bucket, runPrefix, 600);
    assert.equal((await post(target.url, target.fields, chunkKey(runPrefix, b, 1))).status, 204);
    assert.equal(
      (await post(target.url, target.fields, chunkKey(runPrefixOf('ec2-runner/', 'ffffffffffffffff'), b, 1))).status,
      403,
    );
  });

  test("a renewal command carries exactly one instance's policy", async () => {
    const target = await createLiveOutputTarget(s3, fx.info.bucket, runPrefix, 600, b);
    const spec = specOf(buildRenewalCommands('0123456789abcdef', target)) as {
      mode?: string;
      output?: { fields: Array<[string, string]> };
    };
    assert.equal(spec.mode, 'renew');
    const policy = JSON.parse(
      Buffer.from(Object.fromEntries(spec.output!.fields)['Policy'], 'base64').toString('utf8'),
    ) as { conditions: unknown[] };
    assert.ok(
      policy.conditions.some(
        (c) => Array.isArray(c) && c[0] === 'starts-with' && c[1] === '$key' && c[2] === `${runPrefix}${b}/`,
      ),
      JSON.stringify(policy.conditions),
    );
  });
});
