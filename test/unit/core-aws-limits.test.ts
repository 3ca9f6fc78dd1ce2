// The AWS limits and names shared by the engine and the sandbox: defined once, in a module that
// imports nothing, and right for the regions and ids AWS really uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { INSTANCE_ID_PATTERN, REGION_PATTERN, defaultBucketName } from '../../src/core/awsLimits';

const ROOT = join(__dirname, '..', '..', '..');

test('the region pattern takes every shape of real region name and refuses what is not one', () => {
  const real = [
    'us-east-1',
    'ap-southeast-1',
    'us-gov-west-1',
    'eu-central-2',
    'cn-northwest-1',
    'us-isob-east-1',
    'il-central-1',
    'ap-southeast-12',
  ];
  for (const region of real) assert.ok(REGION_PATTERN.test(region), region);
  for (const bad of ['us-east', 'US-EAST-1', 'useast1', 'us-east-1 ', 'x-east-1', 'us-east-1a', '../us-east-1', '']) {
    assert.ok(!REGION_PATTERN.test(bad), JSON.stringify(bad));
  }
});

test("the instance id pattern is SSM's: i- with 8 or 17 characters, mi- with 17", () => {
  for (const id of ['i-0123abcd', 'i-0123456789abcdef0', 'mi-0123456789abcdef0'])
    assert.ok(INSTANCE_ID_PATTERN.test(id), id);
  for (const id of ['i-0123abc', 'i-0123456789abcdef', 'mi-0123abcd', 'x-0123456789abcdef0', 'i-0123abcd\n']) {
    assert.ok(!INSTANCE_ID_PATTERN.test(id), JSON.stringify(id));
  }
});

test('the default bucket is one per account and region', () => {
  assert.equal(defaultBucketName('123456789012', 'eu-central-2'), 'ec2-runner-123456789012-eu-central-2');
});

test('the shared limits module imports nothing, and engine and sandbox define none of its figures again', () => {
  const shared = readFileSync(join(ROOT, 'src', 'core', 'awsLimits.ts'), 'utf8');
  assert.doesNotMatch(shared, /^\s*(import|export\s[^;]*\sfrom)\s/m, 'awsLimits.ts must stay dependency-free');
  const copies: Array<[string, RegExp]> = [
    ['src/sandbox/index.ts', /function defaultBucketName/],
    ['src/core/bucket.ts', /function defaultBucketName/],
    ['src/sandbox/sigv4.ts', /REGION_PATTERN\s*=/],
    ['src/sandbox/limits.ts', /2_592_000|=\s*'AWS-RunShellScript'|=\s*100;|=\s*5;/],
    ['src/core/defaults.ts', /2_592_000|=\s*'AWS-RunShellScript'|=\s*194;|7 \* 24 \* 3600/],
    ['src/core/request.ts', /MAX_TAG_TARGETS\s*=|2_592_000|\\w\{17\}/],
    ['src/sandbox/ssmApi.ts', /INSTANCE_ID\s*=/],
  ];
  for (const [file, copy] of copies)
    assert.doesNotMatch(readFileSync(join(ROOT, file), 'utf8'), copy, `${file} repeats a shared AWS limit`);
});
