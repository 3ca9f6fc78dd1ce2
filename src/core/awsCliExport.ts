// The engine's half of "Copy as AWS CLI Command": a run request as the script awsCli.ts writes, with
// the file inline in the command text when it fits SSM's budget, else staged in S3 from the local
// file (the script uploads it; the instance fetches it with its instance role).
import { RunnerError, type EngineSettings, type RunRequest } from './api';
import { awsCliScript, type AwsCliScriptInput } from './awsCli';
import type { AwsClients } from './clients';
import { mapErrors, type ErrorContext } from './errors';
import { inlinePayload, sendCommandInput } from './launch';
import { buildRemoteCommands, type RemotePayload, type RemoteRunSpec } from './remote';
import { isInstanceId } from './remote/chunkKeys';
import { normalizeRequest } from './request';
import { stagedContentOf } from './sources';
import { stagedKey } from './staging';
import type { StagingBuckets } from './stagingBuckets';
import { randomBytes } from 'node:crypto';

export interface AwsCliExportContext {
  clients: AwsClients;
  buckets: StagingBuckets;
  settings: Pick<EngineSettings, 'endpointUrl' | 'profile'>;
  /** The error context for calls about `bucket`. */
  errorContext: (bucket: string) => ErrorContext;
}

export interface AwsCliExportOptions {
  /** The file on disk (a large file is staged from it). */
  localPath?: string;
  /** The script's first comment line; the source by default. */
  label?: string;
}

export async function awsCliExport(
  context: AwsCliExportContext,
  request: RunRequest,
  options: AwsCliExportOptions = {},
): Promise<string> {
  const normalized = normalizeRequest(request);
  const source = normalized.source;
  if (source.kind === 'project') {
    throw new RunnerError(
      'An AWS CLI export covers files, selections and shell commands, ' +
        'not a project folder (EC2 Runner packs those itself)',
      'AwsCliUnsupported',
      { advice: 'run the project with EC2 Runner.' },
    );
  }
  const { clients, buckets } = context;
  const region = await clients.region();
  const only =
    normalized.target.kind === 'instances' && normalized.target.instanceIds.length === 1
      ? normalized.target.instanceIds[0]
      : undefined;
  const spec: RemoteRunSpec = {
    runId: randomBytes(8).toString('hex'),
    shellCommand: source.kind === 'command' ? source.command : undefined,
    workingDirectory: normalized.workingDirectory,
    env: normalized.env,
    instanceId: only && isInstanceId(only) ? only : undefined,
  };
  let commands: string[];
  let staging: AwsCliScriptInput['staging'];
  if (source.kind === 'command') {
    commands = buildRemoteCommands(spec);
  } else {
    const content = await stagedContentOf(source, normalized);
    // A file (never an archive here): its payload as it would travel inline.
    const inline = inlinePayload(normalized, content)!;
    const fitted = commandsIfTheyFit({ ...spec, payload: inline });
    if (fitted) {
      commands = fitted;
    } else {
      if (!options.localPath) {
        throw new RunnerError(
          `${content.fileName} is too large to travel in the command, so it is staged in S3, ` +
            'and that needs a file on disk: save it and copy the command from the file.',
          'AwsCliNeedsFile',
        );
      }
      const { bucket, isDefault } = await buckets.resolve();
      await mapErrors(context.errorContext(bucket), () => buckets.require(bucket, isDefault));
      const bucketRegion = buckets.regionOf(bucket) ?? region;
      const s3Uri = `s3://${bucket}/${stagedKey(buckets.keyPrefix, inline.sha256, content.fileName)}`;
      const payload: RemotePayload = { ...inline, fetch: { kind: 'instance-role', s3Uri, region: bucketRegion } };
      commands = buildRemoteCommands({ ...spec, payload });
      staging = { localPath: options.localPath, s3Uri, region: bucketRegion, kmsKeyId: buckets.encryption?.kmsKeyId };
    }
  }
  return awsCliScript({
    label:
      options.label ??
      (source.kind === 'command' ? source.command : [source.fileName, ...(source.args ?? [])].join(' ')),
    region,
    endpointUrl: context.settings.endpointUrl,
    profile: context.settings.profile,
    sendCommand: sendCommandInput(normalized, commands),
    instanceIds: normalized.target.kind === 'instances' ? normalized.target.instanceIds : [],
    staging,
  });
}

/** The command text with the file inline, or undefined when it is over SSM's budget. */
function commandsIfTheyFit(spec: RemoteRunSpec): string[] | undefined {
  try {
    return buildRemoteCommands(spec);
  } catch (error) {
    if (error instanceof RunnerError && error.code === 'CommandTooLarge') return undefined;
    throw error;
  }
}
