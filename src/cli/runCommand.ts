// `ec2-runner run FILE` and `ec2-runner exec -- COMMAND`.
import { createInterface } from 'node:readline/promises';
import { RunnerError, type Engine, type RunHandle, type RunRequest, type RunSource, type RunTarget } from '../core';
import { cliMessage } from './advice';
import { parsePairs, parseSeconds, type ParsedArgs } from './args';
import { ARTIFACT_SAVE_CODES, EXIT } from './exitCodes';
import type { Streams } from './printer';
import { followInTerminal, jsonDocument, labelFor } from './report';
import { reportArtifacts, runSourceFrom } from './runSource';
import { colorEnabled, styles } from './styles';
import { UsageError } from './usageError';

function targetFrom(values: ParsedArgs['values']): RunTarget {
  const instanceIds = values.instance ?? [];
  const tags = parsePairs(values.tag, 'Tag');
  if (instanceIds.length && tags.length) throw new UsageError('Give either --instance or --tag targets, not both.');
  if (tags.length) return { kind: 'tags', tags };
  if (instanceIds.length) return { kind: 'instances', instanceIds };
  throw new UsageError('No target: pass --instance ID (see `ec2-runner instances`) or --tag KEY=VALUE.');
}

async function sourceFrom(kind: 'run' | 'exec', args: ParsedArgs): Promise<RunSource> {
  if (kind === 'exec') {
    const words = args.hasRest ? args.rest : args.positionals;
    if (args.hasRest && args.positionals.length)
      throw new UsageError(`Unexpected "${args.positionals[0]}" before --: put the whole command after --.`);
    const command = words.join(' ');
    if (!command.trim()) throw new UsageError('No command: ec2-runner exec --instance ID -- COMMAND...');
    return { kind: 'command', command };
  }
  return runSourceFrom(args);
}

export async function requestFrom(kind: 'run' | 'exec', args: ParsedArgs): Promise<RunRequest> {
  const v = args.values;
  const env = Object.fromEntries(parsePairs(v.env, 'Environment variable').map((p) => [p.key, p.value]));
  return {
    source: await sourceFrom(kind, args),
    target: targetFrom(v),
    workingDirectory: v.cwd,
    env: Object.keys(env).length ? env : undefined,
    timeoutSeconds: parseSeconds(v.timeout, 'Timeout'),
    deliveryTimeoutSeconds: parseSeconds(v['delivery-timeout'], 'Delivery timeout'),
    maxConcurrency: v['max-concurrency'],
    maxErrors: v['max-errors'],
    transferMode: v['instance-role'] ? 'instance-role' : undefined,
    installDependencies: v['no-deps'] ? false : undefined,
    venvRoot: v['venv-root'],
    unwatched: v['no-wait'] ? true : undefined,
  };
}

async function confirm(question: string, streams: Streams): Promise<boolean> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: streams.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/** Starts the run; offers to create the default bucket when it is missing (interactive terminals only). */
async function startOfferingBucket(engine: Engine, request: RunRequest, streams: Streams): Promise<RunHandle> {
  try {
    return await engine.start(request);
  } catch (error) {
    if (!(error instanceof RunnerError) || error.code !== 'NoSuchBucket') throw error;
    const status = await engine.bucketStatus();
    if (
      !status.isDefault ||
      !(await confirm(`ec2-runner: ${cliMessage(error)}\nCreate ${status.bucket} now? [y/N] `, streams))
    )
      throw error;
    await engine.createBucket();
    streams.stderr.write(`ec2-runner: created bucket ${status.bucket}\n`);
    return engine.start(request);
  }
}

async function namesOf(engine: Engine, handle: RunHandle): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  try {
    for (const instance of await engine.listInstances(
      handle.instanceIds.length ? { instanceIds: [...handle.instanceIds] } : undefined,
    )) {
      if (instance.name) names.set(instance.instanceId, instance.name);
    }
  } catch {
    // Names are a nicety: without permission the instance ids are shown.
  }
  return names;
}

export async function runOrExec(
  kind: 'run' | 'exec',
  args: ParsedArgs,
  engine: Engine,
  streams: Streams,
): Promise<number> {
  const request = await requestFrom(kind, args);
  if (args.values['print-aws-cli']) {
    for (const name of ['no-wait', 'json', 'artifacts'] as const) {
      if (args.values[name] !== undefined)
        throw new UsageError(
          `--${name} does not apply with --print-aws-cli (nothing runs; the printed script waits and prints ` +
            `the output).`,
        );
    }
    const file = kind === 'run' && args.positionals[0] !== '-' ? args.positionals[0] : undefined;
    streams.stdout.write(await engine.awsCliCommands(request, { localPath: file }));
    return EXIT.ok;
  }
  // Ctrl-C while staging or sending must not leave a command running unseen: cancel it once it exists.
  let interruptedEarly = false;
  const onEarlySigint = () => {
    interruptedEarly = true;
    streams.stderr.write('\nec2-runner: interrupted; cancelling as soon as the command is sent\n');
  };
  process.on('SIGINT', onEarlySigint);
  let handle: RunHandle;
  try {
    handle = await startOfferingBucket(engine, request, streams);
  } finally {
    process.off('SIGINT', onEarlySigint);
  }
  if (interruptedEarly) await handle.cancel();
  for (const warning of handle.warnings ?? []) streams.stderr.write(`ec2-runner: warning: ${warning}\n`);
  if (args.values['no-wait']) {
    handle.detach();
    if (args.values.json) {
      const pending = handle.instanceIds.map((instanceId) => ({
        instanceId,
        status: 'Pending',
        statusDetails: 'Pending',
        exitCode: null,
        stdout: '',
        stderr: '',
        result: null,
        outputSource: 'live' as const,
      }));
      streams.stdout.write(`${jsonDocument({ commandId: handle.commandId, invocations: pending })}\n`);
    } else {
      streams.stdout.write(`${handle.commandId}\n`);
    }
    return EXIT.ok;
  }
  const several = request.target.kind === 'tags' || handle.instanceIds.length > 1;
  const names = several ? await namesOf(engine, handle) : new Map<string, string>();
  if (!args.values.json) {
    // In CI logs too (the id is what `status`, `attach` and the AWS console need); dim only on a colour terminal.
    const where = several
      ? request.target.kind === 'tags'
        ? 'tagged instances'
        : `${handle.instanceIds.length} instances`
      : labelFor(names, handle.instanceIds[0]);
    const dim = styles(colorEnabled(streams.stderr as { isTTY?: boolean })).dim;
    streams.stderr.write(`${dim(`ec2-runner: command ${handle.commandId} on ${where}`)}\n`);
  }
  const code = await followInTerminal(handle, streams, {
    json: Boolean(args.values.json),
    onInterrupt: 'cancel',
    names,
  });
  try {
    if (args.values.artifacts || !args.values.json) await reportArtifacts(handle, args.values.artifacts, streams);
  } catch (error) {
    // The script ran: its exit code is the run's outcome. A refused or failed save is said on stderr and,
    // when the script succeeded, makes the exit status 251 so CI does not take missing artifacts for success.
    if (!(error instanceof RunnerError) || !ARTIFACT_SAVE_CODES.has(error.code)) throw error;
    streams.stderr.write(
      `ec2-runner: the run ended (exit code ${code}) but its artifacts were not saved: ${error.message}\n`,
    );
    return code === EXIT.ok ? EXIT.artifactsNotSaved : code;
  }
  return code;
}
