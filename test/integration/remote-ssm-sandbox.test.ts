// The command text sent through the sandbox's real SSM SendCommand: its agent runs it like the SSM
// agent (_script.sh via sh -c, AWS_SSM_INSTANCE_ID set, systemd PATH), the live output lands in
// the sandbox's S3 under the instance's id, and SSM's own output carries the teed copy.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import {
  GetCommandInvocationCommand,
  type GetCommandInvocationCommandOutput,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { buildRemoteCommands, parseRemoteHeader } from '../../src/core/remote';
import { HOSTILE_ARGS, type RemoteTransport, waitFor } from '../support/remoteHarness';
import { assembleLiveOutput } from '../support/remoteRun';
import { sandboxTransport } from '../support/remoteSandboxTransport';
import { withSandbox } from '../support/sandbox';

const fixture = withSandbox({ instances: 1 });

test('a file run through SendCommand: hostile arguments, exit code, live output and SSM output agree', async () => {
  const sandbox = await fixture;
  const instanceId = sandbox.info.instances[0].instanceId;
  const { transport, s3 } = sandboxTransport(sandbox);
  const ssm = new SSMClient(sandbox.clientConfig);
  try {
    await sendAndCheck(instanceId, transport, ssm);
  } finally {
    s3.destroy();
    ssm.destroy();
  }
});

async function sendAndCheck(instanceId: string, transport: RemoteTransport, ssm: SSMClient): Promise<void> {
  const script = Buffer.from(
    'import json, os, sys\nprint(json.dumps([os.fsencode(a).hex() for a in sys.argv[1:]]))\nprint("to ' +
      'stderr", file=sys.stderr)\nsys.exit(3)\n',
  );
  const runId = randomBytes(8).toString('hex');
  const { target, outputLocation } = await transport.liveOutput(runId);
  const commands = buildRemoteCommands({
    runId,
    outputLocation,
    output: target,
    payload: {
      fileName: 'hostile args é.py',
      sha256: createHash('sha256').update(script).digest('hex'),
      interpreter: 'python3',
      args: HOSTILE_ARGS,
      fetch: await transport.stage(script, 'hostile args é.py'),
    },
  });
  const sent = await ssm.send(
    new SendCommandCommand({ DocumentName: 'AWS-RunShellScript', InstanceIds: [instanceId], Parameters: { commands } }),
  );
  const commandId = sent.Command!.CommandId!;
  assert.deepEqual(parseRemoteHeader(sent.Command!.Parameters!.commands!), { runId, outputLocation });

  let invocation: GetCommandInvocationCommandOutput | undefined;
  await waitFor(
    async () => {
      try {
        invocation = await ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }));
      } catch (error) {
        if ((error as Error).name === 'InvocationDoesNotExist') return false;
        throw error;
      }
      return !['Pending', 'InProgress', 'Delayed'].includes(invocation.Status!);
    },
    20_000,
    'the command to finish',
  );

  const expectedStdout = `${JSON.stringify(HOSTILE_ARGS.map((arg) => Buffer.from(arg).toString('hex'))).replace(/","/g, '", "')}\n`;
  assert.equal(invocation!.ResponseCode, 3);
  assert.equal(invocation!.Status, 'Failed');
  const live = assembleLiveOutput(await transport.objects(target.keyPrefix), target.keyPrefix, instanceId);
  assert.deepEqual(live.exit, { exitCode: 3 });
  assert.equal(live.stdout.toString(), expectedStdout);
  assert.equal(live.stderr.toString(), 'to stderr\n');
  assert.equal(invocation!.StandardOutputContent, expectedStdout, 'SSM output is the teed copy');
  assert.equal(invocation!.StandardErrorContent, 'to stderr\n');
}
