// An AWS Lambda handler that runs a shell command or a small script on EC2 instances through
// ec2-runner's engine, with nothing but the AWS SDK underneath.
//
// Deploy: zip this file with dist/engine.js (from `npm run build`) and import that file instead of
// 'ec2-runner', or install the ec2-runner package. Runtime Node.js 20+; handler lambda-handler.handler.
// Environment: EC2_RUNNER_BUCKET (staging bucket; default ec2-runner-<account>-<region>).
// Execution role: ssm:SendCommand, ssm:GetCommandInvocation, ssm:ListCommands,
// ssm:ListCommandInvocations, ssm:CancelCommand, ssm:DescribeInstanceInformation, and
// s3:GetObject, s3:PutObject, s3:ListBucket on the staging bucket. Instances need no S3 permission.
//
// Event: { "instanceIds": ["i-..."] | "tags": {"Role": "web"},
//          "command": "uptime" | "script": {"fileName": "job.py", "content": "...", "args": []},
//          "timeoutSeconds": 600, "wait": true }
// Returns: { commandId, invocations: [{ instanceId, status, exitCode, stdout, stderr, result, ... }] },
// or { commandId, pending: true } when the run outlives this invocation (pick it up with
// `ec2-runner status|attach <commandId>` or a later invocation with { "statusOf": commandId }).
import engineLibrary from 'ec2-runner';

const { createEngine, fileSource } = engineLibrary;

// Created once per container and reused by warm invocations; credentials and region come from the
// Lambda environment like any SDK client.
const engine = createEngine({});

/** Time kept back to return before Lambda's own timeout. */
const SAFETY_MARGIN_MS = 5_000;

function requestFrom(event) {
  const target = event.tags
    ? { kind: 'tags', tags: Object.entries(event.tags).map(([key, value]) => ({ key, value: String(value) })) }
    : { kind: 'instances', instanceIds: event.instanceIds ?? [] };
  const source = event.script
    ? fileSource(event.script.fileName, event.script.content, event.script.args ?? [])
    : { kind: 'command', command: String(event.command ?? '') };
  return { source, target, timeoutSeconds: event.timeoutSeconds ?? 600 };
}

export const handler = async (event, context) => {
  if (event.statusOf) return engine.status(event.statusOf);
  const handle = await engine.start(requestFrom(event));
  if (event.wait === false) {
    handle.detach();
    return { commandId: handle.commandId, pending: true };
  }
  const remainingMs = (context?.getRemainingTimeInMillis?.() ?? 900_000) - SAFETY_MARGIN_MS;
  let timer;
  const outOfTime = new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, remainingMs), 'out of time')));
  const finished = await Promise.race([handle.wait(), outOfTime]);
  clearTimeout(timer);
  if (finished === 'out of time') {
    handle.detach();
    return { commandId: handle.commandId, pending: true };
  }
  return finished;
};
