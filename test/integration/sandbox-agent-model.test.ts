// The sandbox models what real instances and agents do (through the real SDK): exit code 194 reboots
// and reruns, background children outlive the script, the bare agent environment, agents without
// AWS_SSM_INSTANCE_ID, and instances whose connections to S3 get no answer.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { REBOOT_DURATION_MS } from '../../src/sandbox/agentRules';
import { pollUntil, waitForInvocation, withSandbox } from '../support/sandbox';

const RUN = 'AWS-RunShellScript';
/** Scripts run at the lowest CPU priority: on a busy machine their start-up alone can take seconds. */
const BUSY_MACHINE_MS = 60_000;

describe('sandbox: the agent as on a real instance', async () => {
  const fx = await withSandbox({ deliveryDelayMs: 50 });
  const ssm = new SSMClient(fx.clientConfig);
  const [first, second] = fx.onlineInstanceIds;
  const instanceDir = (id: string) => join(fx.info.dataDir, 'instances', id);
  const send = async (commands: string[], instanceId = first) =>
    (await ssm.send(new SendCommandCommand({ DocumentName: RUN, InstanceIds: [instanceId], Parameters: { commands } })))
      .Command!.CommandId!;

  test('exit code 194: the agent "reboots" and runs the whole command again under the same id, InProgress meanwhile', async () => {
    const commandId = await send([
      'n=$(cat tmp/runs-194 2>/dev/null || echo 0); n=$((n + 1)); echo $n > tmp/runs-194',
      'echo "run $n"',
      '[ "$n" -ge 2 ] || exit 194',
      'echo done',
    ]);
    const counter = join(instanceDir(first), 'tmp', 'runs-194');
    await pollUntil('the first execution', () =>
      existsSync(counter) && readFileSync(counter, 'utf8') === '1\n' ? true : undefined,
    );
    // The first execution can end inside SSM's consistency window (InvocationDoesNotExist): poll.
    const rebooting = await waitForInvocation(ssm, commandId, first, { until: (status) => status !== '' });
    assert.deepEqual([rebooting.Status, rebooting.ResponseCode], ['InProgress', -1]);
    const done = await waitForInvocation(ssm, commandId, first, { timeoutMs: BUSY_MACHINE_MS + REBOOT_DURATION_MS });
    assert.deepEqual([done.Status, done.ResponseCode], ['Success', 0]);
    assert.equal(readFileSync(counter, 'utf8'), '2\n', 'ran exactly twice');
    assert.equal(done.StandardOutputContent, 'run 1\nrun 2\ndone\n', "both runs' output, appended as the agent does");
  });

  test('the script ends when its shell ends: a background child is neither waited for nor killed', async () => {
    const started = Date.now();
    const commandId = await send([
      'sleep 4 >/dev/null 2>&1 &',
      'echo "child=$!"',
      '(sleep 1; echo late > tmp/late-child) &',
      'echo quick',
    ]);
    const done = await waitForInvocation(ssm, commandId, first);
    assert.equal(done.Status, 'Success');
    assert.ok(
      Date.now() - started < 3_500,
      `ended after ${Date.now() - started} ms: the agent does not wait for background children`,
    );
    const child = Number(/child=(\d+)/.exec(done.StandardOutputContent!)?.[1]);
    assert.ok(child > 0);
    assert.doesNotThrow(() => process.kill(child, 0), 'the detached child still runs after the command ended');
    await pollUntil('the background child to finish its work', () =>
      existsSync(join(instanceDir(first), 'tmp', 'late-child')) ? true : undefined,
    );
    process.kill(child, 'SIGKILL');
  });

  test('the bare agent environment; agentWithoutInstanceId drops AWS_SSM_INSTANCE_ID', async () => {
    const probe = [
      'echo "id=${AWS_SSM_INSTANCE_ID-unset} home=${HOME-unset} lang=${LANG-unset} tmpdir=${TMPDIR-unset} region=$AWS_SSM_REGION_NAME"',
    ];
    const normal = await waitForInvocation(ssm, await send(probe), first);
    assert.equal(
      normal.StandardOutputContent,
      `id=${first} home=unset lang=unset tmpdir=unset region=${fx.info.region}\n`,
    );
    fx.sandbox.configure({ agentWithoutInstanceId: true });
    try {
      const old = await waitForInvocation(ssm, await send(probe), first);
      assert.equal(old.StandardOutputContent, `id=unset home=unset lang=unset tmpdir=unset region=${fx.info.region}\n`);
    } finally {
      fx.sandbox.configure({ agentWithoutInstanceId: false });
    }
  });

  test('s3UnreachableInstances: those instances get no answer from S3 (a hang, not a refusal); the others do', async () => {
    // What the wrapper does: an HTTP request to the S3 endpoint with a short timeout.
    const probe = [
      `python3 -c 'import sys, urllib.request, urllib.error, time
t = time.time()
try:
    urllib.request.urlopen(sys.argv[1], timeout=1.5); print("answered")
except urllib.error.HTTPError as e: print("answered", e.code)
except Exception as e: print("no answer" if "timed out" in str(e) else "other %r" % (e,), round(time.time() - t))' '${fx.info.endpoint}/${fx.info.bucket}'`,
    ];
    fx.sandbox.configure({ s3UnreachableInstances: [first] });
    try {
      const [cut, fine] = await Promise.all([
        send(probe, first).then((id) => waitForInvocation(ssm, id, first, { timeoutMs: BUSY_MACHINE_MS })),
        send(probe, second).then((id) => waitForInvocation(ssm, id, second, { timeoutMs: BUSY_MACHINE_MS })),
      ]);
      // It waited for the whole timeout (a hang, not a refusal), however slow the machine.
      assert.match(cut.StandardOutputContent!, /^no answer [1-9]\d*\n$/);
      assert.match(fine.StandardOutputContent!, /^answered 403\n$/);
      fx.sandbox.configure({ s3UnreachableInstances: [], s3Unreachable: true });
      const all = await waitForInvocation(ssm, await send(probe, second), second, { timeoutMs: BUSY_MACHINE_MS });
      assert.match(all.StandardOutputContent!, /^no answer [1-9]\d*\n$/);
    } finally {
      fx.sandbox.configure({ s3UnreachableInstances: [], s3Unreachable: false });
    }
  });
});
