// `ec2-runner status|attach|cancel ID`, `instances`, `bucket`.
import { configuredEncryption, type Engine, type ManagedInstance } from '../core';
import type { ParsedArgs } from './args';
import { EXIT } from './exitCodes';
import type { Streams } from './printer';
import { followInTerminal, jsonDocument } from './report';
import { UsageError } from './usageError';

/** Invocation statuses after which nothing runs any more. */
const FINISHED = new Set([
  'Success',
  'Failed',
  'TimedOut',
  'Cancelled',
  'DeliveryTimedOut',
  'ExecutionTimedOut',
  'Undeliverable',
  'Terminated',
  'InvalidPlatform',
  'AccessDenied',
]);

function commandIdOf(args: ParsedArgs, command: string): string {
  if (args.positionals.length !== 1) throw new UsageError(`Usage: ec2-runner ${command} COMMAND_ID`);
  const id = args.positionals[0];
  if (!/^[0-9a-f-]{36}$/i.test(id))
    throw new UsageError(`"${id}" is not a command id (36 characters, as printed by run --no-wait).`);
  return id;
}

export async function statusCommand(args: ParsedArgs, engine: Engine, streams: Streams): Promise<number> {
  const result = await engine.status(commandIdOf(args, 'status'));
  if (args.values.json) {
    streams.stdout.write(`${jsonDocument(result)}\n`);
    return EXIT.ok;
  }
  streams.stdout.write(`command ${result.commandId}\n`);
  for (const i of result.invocations) {
    const exit = i.exitCode === null ? '' : `  exit ${i.exitCode}`;
    streams.stdout.write(`${i.instanceId}  ${i.status}${exit}${i.reason ? `  (${i.reason})` : ''}\n`);
  }
  if (result.invocations.length === 0) streams.stdout.write('no invocations yet\n');
  return EXIT.ok;
}

export async function attachCommand(args: ParsedArgs, engine: Engine, streams: Streams): Promise<number> {
  const handle = await engine.attach(commandIdOf(args, 'attach'));
  return followInTerminal(handle, streams, { json: Boolean(args.values.json), onInterrupt: 'detach' });
}

export async function cancelCommand(args: ParsedArgs, engine: Engine, streams: Streams): Promise<number> {
  const id = commandIdOf(args, 'cancel');
  // SSM accepts CancelCommand on a finished command without a word: say that there was nothing to cancel.
  const before = await engine.status(id);
  if (before.invocations.length > 0 && before.invocations.every((i) => FINISHED.has(String(i.status)))) {
    const outcomes = before.invocations
      .map((i) => `${i.instanceId} ${i.status}${i.exitCode === null ? '' : ` (exit ${i.exitCode})`}`)
      .join(', ');
    streams.stderr.write(`ec2-runner: command ${id} had already finished (${outcomes}); nothing to cancel\n`);
    return EXIT.ok;
  }
  await engine.cancel(id);
  streams.stderr.write(`ec2-runner: cancellation requested for ${id}\n`);
  return EXIT.ok;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export async function instancesCommand(args: ParsedArgs, engine: Engine, streams: Streams): Promise<number> {
  const instances: ManagedInstance[] = await engine.listInstances(
    args.values.online ? { pingStatus: ['Online'] } : undefined,
  );
  if (args.values.json) {
    streams.stdout.write(`${JSON.stringify(instances, null, 2)}\n`);
    return EXIT.ok;
  }
  if (instances.length === 0) {
    streams.stderr.write(
      'ec2-runner: no SSM managed instances in this account and region (check --profile and --region)\n',
    );
    return EXIT.ok;
  }
  const rows = [['INSTANCE', 'NAME', 'PING', 'PLATFORM', 'IP', 'AGENT']];
  for (const i of instances) {
    const platform = [i.platformName, i.platformVersion].filter(Boolean).join(' ') || i.platformType || '';
    rows.push([i.instanceId, i.name ?? '', String(i.pingStatus), platform, i.ipAddress ?? '', i.agentVersion ?? '']);
  }
  streams.stdout.write(`${table(rows)}\n`);
  return EXIT.ok;
}

export async function bucketCommand(args: ParsedArgs, engine: Engine, streams: Streams): Promise<number> {
  const action = args.positionals[0];
  if (action !== undefined && action !== 'create')
    throw new UsageError(
      `Unknown bucket action "${action}": use \`ec2-runner bucket\` or \`ec2-runner bucket create\`.`,
    );
  const status = await engine.bucketStatus();
  if (action === 'create') {
    if (status.exists) {
      streams.stdout.write(`${status.bucket} already exists\n`);
      return EXIT.ok;
    }
    await engine.createBucket();
    const encryption = configuredEncryption(args.values['kms-key-id']) ? 'SSE-KMS' : 'AES256';
    streams.stdout.write(
      `created ${status.bucket} (public access blocked, ${encryption} encryption, staged objects expire ` +
        `after 7 days)\n`,
    );
    return EXIT.ok;
  }
  const where = status.region ? `exists in ${status.region}` : 'exists';
  streams.stdout.write(
    `${status.bucket}${status.isDefault ? ' (default)' : ''}: ` +
      `${status.exists ? where : 'does not exist; create it with `ec2-runner bucket create`'}\n`,
  );
  return status.exists ? EXIT.ok : EXIT.config;
}
