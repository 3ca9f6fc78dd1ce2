// BucketRegions against scripted S3 answers: which client each bucket's requests use, and the one
// sentence naming both regions when a redirect cannot be followed.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { S3Client } from '@aws-sdk/client-s3';
import { RunnerError } from '../../src/core/api';
import { BucketRegions } from '../../src/core/bucketRegion';
import type { AwsClients } from '../../src/core/clients';
import { cliMessage } from '../../src/cli/advice';

type Answer = { region?: string; status: number; name?: string };

/** Fake clients: HeadBucket in `region` answers `answers[region]` (a 301/404 error or 200 with BucketRegion). */
function clientsAnswering(home: string, answers: Record<string, Answer>): { clients: AwsClients; sentFrom: string[] } {
  const sentFrom: string[] = [];
  const s3For = (region: string) =>
    ({
      send: async () => {
        sentFrom.push(region);
        const answer = answers[region];
        if (answer.status === 200) return { BucketRegion: answer.region };
        throw Object.assign(new Error(answer.name ?? 'UnknownError'), {
          name: answer.name ?? 'Unknown',
          $metadata: { httpStatusCode: answer.status },
          $response: { headers: answer.region ? { 'x-amz-bucket-region': answer.region } : {} },
        });
      },
    }) as unknown as S3Client;
  const clients = { s3: s3For(home), s3In: s3For, region: async () => home } as unknown as AwsClients;
  return { clients, sentFrom };
}

describe('bucket regions', () => {
  test("a 301 naming the bucket's region is followed once, then remembered", async () => {
    const { clients, sentFrom } = clientsAnswering('us-west-2', {
      'us-west-2': { status: 301, region: 'eu-west-1' },
      'eu-west-1': { status: 200, region: 'eu-west-1' },
    });
    const regions = new BucketRegions(clients);
    assert.deepEqual(await regions.locate('b'), { exists: true, region: 'eu-west-1' });
    assert.deepEqual(await regions.locate('b'), { exists: true, region: 'eu-west-1' });
    assert.deepEqual(sentFrom, ['us-west-2', 'eu-west-1', 'eu-west-1']);
    assert.equal(regions.regionOf('b'), 'eu-west-1');
  });

  test('a missing bucket is not an error', async () => {
    const { clients } = clientsAnswering('us-west-2', { 'us-west-2': { status: 404, name: 'NotFound' } });
    assert.deepEqual(await new BucketRegions(clients).locate('b'), { exists: false, region: 'us-west-2' });
  });

  for (const [what, answers, pattern] of [
    [
      'a 301 that names no region',
      { 'us-west-2': { status: 301 } },
      /S3 bucket b is in another region \(S3 did not say which\), not in us-west-2 where SSM runs/,
    ],
    [
      'a region that redirects again',
      { 'us-west-2': { status: 301, region: 'eu-west-1' }, 'eu-west-1': { status: 301, region: 'eu-west-1' } },
      /S3 bucket b is in region eu-west-1, not in us-west-2 where SSM runs/,
    ],
  ] as const) {
    test(`${what}: one sentence naming both regions`, async () => {
      const { clients } = clientsAnswering('us-west-2', answers as Record<string, Answer>);
      await assert.rejects(new BucketRegions(clients).locate('b'), (error: unknown) => {
        assert.ok(error instanceof RunnerError);
        assert.equal(error.code, 'BucketInOtherRegion');
        assert.match(error.message, pattern);
        assert.match(error.message, /use a bucket in us-west-2 \(another one, or the default one created\)\.$/);
        assert.match(
          cliMessage(error),
          /use a bucket in us-west-2 \(pass --bucket, or create the default one with `ec2-runner bucket create`\)/,
        );
        return true;
      });
    });
  }
});
