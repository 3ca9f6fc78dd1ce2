// SSM operations (awsJson1.1): input validation with SSM's error codes, and output shapes as the
// service returns them (epoch-second numbers, except GetCommandInvocation's ISO-8601 strings).
import { AwsError, constraint, validation } from './errors';
import { outputKey } from './agentRules';
import type { CommandStore } from './commands';
import { type Command, type CommandRequest, type Invocation, commandStatus, isTerminal } from './invocations';
import type { SandboxInstance } from './fleet';
import {
  DELIVERY_TIMEOUT_SECONDS,
  DESCRIBE_INSTANCE_INFORMATION_PAGE,
  EXECUTION_TIMEOUT_SECONDS,
  LIST_COMMANDS_PAGE,
  LIST_COMMAND_INVOCATIONS_PAGE,
  MAX_COMMENT_CHARS,
  MAX_OUTPUT_S3_KEY_PREFIX_CHARS,
  MAX_SEND_COMMAND_INSTANCE_IDS,
  MAX_SEND_COMMAND_PARAMETERS_BYTES,
  MAX_SEND_COMMAND_TARGETS,
  MAX_TARGET_VALUES,
  MAX_WORKING_DIRECTORY_CHARS,
  PLUGIN_OUTPUT_CAPACITY,
  RUN_SHELL_SCRIPT_DOCUMENT,
  RUN_SHELL_SCRIPT_PLUGIN,
} from './limits';
import { decodePageToken, encodePageToken, pageSize } from './paging';
import type { SessionService } from './sessions';
import { INSTANCE_ID_PATTERN } from '../core/awsLimits';

export interface SsmContext {
  region: string;
  accountId: string;
  endpoint: string;
  instances: SandboxInstance[];
  instancesById: Map<string, SandboxInstance>;
  commands: CommandStore;
  sessions: SessionService;
}

type Input = Record<string, unknown>;
type Handler = (input: Input, ctx: SsmContext) => unknown;

export const SSM_OPERATIONS: Record<string, Handler> = {
  DescribeInstanceInformation: describeInstanceInformation,
  SendCommand: sendCommand,
  GetCommandInvocation: getCommandInvocation,
  ListCommandInvocations: listCommandInvocations,
  ListCommands: listCommands,
  CancelCommand: cancelCommand,
  StartSession: (input, ctx) => ctx.sessions.startSession(input),
  ResumeSession: (input, ctx) => ctx.sessions.resumeSession(input),
  TerminateSession: (input, ctx) => ctx.sessions.terminateSession(input),
  DescribeSessions: (input, ctx) => ctx.sessions.describeSessions(input),
};

const epoch = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);

// ---------------------------------------------------------------- DescribeInstanceInformation

const FILTER_KEYS = new Set([
  'InstanceIds',
  'AgentVersion',
  'PingStatus',
  'PlatformTypes',
  'ActivationIds',
  'IamRole',
  'ResourceType',
  'AssociationStatus',
]);

function describeInstanceInformation(input: Input, ctx: SsmContext) {
  const filters: Array<{ key: string; values: string[] }> = [];
  for (const f of asArray<{ Key?: string; Values?: string[] }>(input.Filters, 'Filters')) {
    if (typeof f.Key !== 'string' || !(FILTER_KEYS.has(f.Key) || f.Key === 'tag-key' || /^tag:.+/.test(f.Key))) {
      throw new AwsError(
        'InvalidFilterKey',
        `The filter key ${String(f.Key)} is not valid. Valid keys: ${[...FILTER_KEYS].join(', ')}, tag-key, tag:<key>.`,
      );
    }
    if (!Array.isArray(f.Values) || f.Values.length === 0)
      throw new AwsError('InvalidFilterValue', `The filter ${f.Key} needs at least one value.`);
    filters.push({ key: f.Key, values: f.Values.map(String) });
  }
  for (const f of asArray<{ key?: string; valueSet?: string[] }>(
    input.InstanceInformationFilterList,
    'InstanceInformationFilterList',
  )) {
    if (typeof f.key !== 'string' || !FILTER_KEYS.has(f.key))
      throw new AwsError('InvalidInstanceInformationFilterValue', `The filter key ${String(f.key)} is not valid.`);
    if (!Array.isArray(f.valueSet) || f.valueSet.length === 0)
      throw new AwsError('InvalidInstanceInformationFilterValue', `The filter ${f.key} needs at least one value.`);
    filters.push({ key: f.key, values: f.valueSet.map(String) });
  }
  const tagFilters = filters.filter((f) => f.key.startsWith('tag'));
  if (tagFilters.length > 0 && tagFilters.length !== filters.length) {
    throw new AwsError('InvalidFilter', 'Tag filters (tag:<key>, tag-key) cannot be combined with other filter keys.');
  }
  const size = pageSize(input.MaxResults, DESCRIBE_INSTANCE_INFORMATION_PAGE, 'maxResults');
  const matching = ctx.instances.filter((instance) => filters.every((f) => matchesFilter(instance, f.key, f.values)));
  const start = decodePageToken(input.NextToken);
  const page = matching.slice(start, start + size);
  return {
    InstanceInformationList: page.map((i) => ({
      InstanceId: i.instanceId,
      PingStatus: i.pingStatus,
      LastPingDateTime: epoch(i.lastPingAt),
      AgentVersion: i.agentVersion,
      IsLatestVersion: true,
      PlatformType: i.platformType,
      PlatformName: i.platformName,
      PlatformVersion: i.platformVersion,
      ResourceType: 'EC2Instance',
      IPAddress: i.ipAddress,
      ComputerName: i.computerName,
      AssociationStatus: 'Success',
      SourceId: i.instanceId,
      SourceType: 'AWS::EC2::Instance',
    })),
    NextToken: start + size < matching.length ? encodePageToken(start + size) : undefined,
  };
}

function matchesFilter(instance: SandboxInstance, key: string, values: string[]): boolean {
  switch (key) {
    case 'InstanceIds':
      return values.includes(instance.instanceId);
    case 'PingStatus':
      return values.includes(instance.pingStatus);
    case 'PlatformTypes':
      return values.includes(instance.platformType);
    case 'ResourceType':
      return values.includes('EC2Instance');
    case 'AgentVersion':
      return values.includes(instance.agentVersion);
    case 'AssociationStatus':
      return values.includes('Success');
    case 'tag-key':
      return values.some((v) => v in instance.tags);
    default:
      if (key.startsWith('tag:')) return values.includes(instance.tags[key.slice(4)]);
      return false; // IamRole, ActivationIds: sandbox instances have none
  }
}

// ---------------------------------------------------------------- SendCommand

function sendCommand(input: Input, ctx: SsmContext) {
  const documentName = requiredString(input.DocumentName, 'documentName');
  if (documentName !== RUN_SHELL_SCRIPT_DOCUMENT && !documentName.endsWith(`:document/${RUN_SHELL_SCRIPT_DOCUMENT}`)) {
    throw new AwsError(
      'InvalidDocument',
      `The sandbox runs only ${RUN_SHELL_SCRIPT_DOCUMENT}; document ${documentName} is not available.`,
    );
  }
  const parameters = (input.Parameters ?? {}) as Record<string, unknown>;
  if (typeof parameters !== 'object' || Array.isArray(parameters))
    throw validation('Parameters must be a map of parameter name to a list of strings.');
  if (Buffer.byteLength(JSON.stringify(parameters), 'utf8') > MAX_SEND_COMMAND_PARAMETERS_BYTES) {
    throw new AwsError(
      'MaxDocumentSizeExceeded',
      `The Parameters of this command exceed the maximum size of ${MAX_SEND_COMMAND_PARAMETERS_BYTES} bytes. Stage large content in S3 instead of inlining it.`,
    );
  }
  for (const [name, value] of Object.entries(parameters)) {
    if (!['commands', 'workingDirectory', 'executionTimeout'].includes(name)) {
      throw new AwsError(
        'InvalidParameters',
        `Parameter "${name}" is not defined by ${RUN_SHELL_SCRIPT_DOCUMENT} (valid: commands, workingDirectory, executionTimeout).`,
      );
    }
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
      throw new AwsError('InvalidParameters', `Parameter "${name}" must be a list of strings.`);
  }
  const lines = (parameters.commands as string[] | undefined) ?? [];
  if (lines.length === 0)
    throw new AwsError('InvalidParameters', 'Parameter "commands" is required and must contain at least one line.');
  const workingDirectory = singleParameter(parameters, 'workingDirectory') ?? '';
  if (workingDirectory.length > MAX_WORKING_DIRECTORY_CHARS)
    throw new AwsError(
      'InvalidParameters',
      `Parameter "workingDirectory" is longer than ${MAX_WORKING_DIRECTORY_CHARS} characters.`,
    );
  const executionTimeoutText =
    singleParameter(parameters, 'executionTimeout') ?? String(EXECUTION_TIMEOUT_SECONDS.default);
  const executionTimeoutSeconds = Number(executionTimeoutText);
  if (
    !/^\d+$/.test(executionTimeoutText) ||
    executionTimeoutSeconds < EXECUTION_TIMEOUT_SECONDS.apiMin ||
    executionTimeoutSeconds > EXECUTION_TIMEOUT_SECONDS.max
  ) {
    throw new AwsError(
      'InvalidParameters',
      `Parameter "executionTimeout" must be whole seconds from ${EXECUTION_TIMEOUT_SECONDS.apiMin} to ${EXECUTION_TIMEOUT_SECONDS.max}, got "${executionTimeoutText}".`,
    );
  }

  const instanceIds = asArray<string>(input.InstanceIds, 'instanceIds');
  const targets = asArray<{ Key: string; Values: string[] }>(input.Targets, 'targets');
  if (instanceIds.length === 0 && targets.length === 0) throw validation('Specify InstanceIds or Targets.');
  if (instanceIds.length > 0 && targets.length > 0) throw validation('Specify InstanceIds or Targets, not both.');
  if (instanceIds.length > MAX_SEND_COMMAND_INSTANCE_IDS) {
    throw constraint(
      `[${instanceIds.length} ids]`,
      'instanceIds',
      `Member must have length less than or equal to ${MAX_SEND_COMMAND_INSTANCE_IDS} (use Targets or several commands for more instances)`,
    );
  }
  if (targets.length > MAX_SEND_COMMAND_TARGETS)
    throw constraint(
      `[${targets.length} targets]`,
      'targets',
      `Member must have length less than or equal to ${MAX_SEND_COMMAND_TARGETS}`,
    );
  const instances = instanceIds.length > 0 ? resolveInstanceIds(instanceIds, ctx) : resolveTargets(targets, ctx);

  const timeoutSeconds =
    input.TimeoutSeconds === undefined ? DELIVERY_TIMEOUT_SECONDS.default : Number(input.TimeoutSeconds);
  if (
    !Number.isInteger(timeoutSeconds) ||
    timeoutSeconds < DELIVERY_TIMEOUT_SECONDS.min ||
    timeoutSeconds > DELIVERY_TIMEOUT_SECONDS.max
  ) {
    throw constraint(
      input.TimeoutSeconds,
      'timeoutSeconds',
      `Member must have value between ${DELIVERY_TIMEOUT_SECONDS.min} and ${DELIVERY_TIMEOUT_SECONDS.max}`,
    );
  }
  const comment = optionalString(input.Comment, 'comment');
  if (comment.length > MAX_COMMENT_CHARS)
    throw constraint(comment, 'comment', `Member must have length less than or equal to ${MAX_COMMENT_CHARS}`);
  const outputS3BucketName = optionalString(input.OutputS3BucketName, 'outputS3BucketName');
  if (outputS3BucketName && (outputS3BucketName.length < 3 || outputS3BucketName.length > 63)) {
    throw constraint(outputS3BucketName, 'outputS3BucketName', 'Member must have length between 3 and 63');
  }
  const outputS3KeyPrefix = optionalString(input.OutputS3KeyPrefix, 'outputS3KeyPrefix');
  if (outputS3KeyPrefix.length > MAX_OUTPUT_S3_KEY_PREFIX_CHARS)
    throw constraint(
      outputS3KeyPrefix,
      'outputS3KeyPrefix',
      `Member must have length less than or equal to ${MAX_OUTPUT_S3_KEY_PREFIX_CHARS}`,
    );
  const maxConcurrency = optionalString(input.MaxConcurrency, 'maxConcurrency') || '50';
  if (!/^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$/.test(maxConcurrency))
    throw constraint(
      maxConcurrency,
      'maxConcurrency',
      'Member must satisfy regular expression pattern: ^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$',
    );
  const maxErrors = optionalString(input.MaxErrors, 'maxErrors') || '0';
  if (!/^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$/.test(maxErrors))
    throw constraint(
      maxErrors,
      'maxErrors',
      'Member must satisfy regular expression pattern: ^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$',
    );
  const cloudWatch = (input.CloudWatchOutputConfig ?? {}) as {
    CloudWatchLogGroupName?: string;
    CloudWatchOutputEnabled?: boolean;
  };

  const request: CommandRequest = {
    documentName,
    documentVersion: optionalString(input.DocumentVersion, 'documentVersion') || '$DEFAULT',
    parameters: parameters as Record<string, string[]>,
    lines,
    workingDirectory,
    executionTimeoutSeconds,
    instanceIds,
    targets,
    comment,
    timeoutSeconds,
    outputS3BucketName,
    outputS3KeyPrefix,
    maxConcurrency,
    maxErrors,
    serviceRoleArn: optionalString(input.ServiceRoleArn, 'serviceRoleArn'),
    notificationConfig: input.NotificationConfig,
    cloudWatchOutputConfig: {
      CloudWatchLogGroupName: cloudWatch.CloudWatchLogGroupName ?? '',
      CloudWatchOutputEnabled: cloudWatch.CloudWatchOutputEnabled ?? false,
    },
  };
  const command = ctx.commands.send(request, instances);
  return { Command: commandView(command, ctx) };
}

function resolveInstanceIds(ids: string[], ctx: SsmContext): SandboxInstance[] {
  const seen = new Set<string>();
  for (const id of ids) {
    if (typeof id !== 'string' || !INSTANCE_ID_PATTERN.test(id))
      throw constraint(
        id,
        'instanceIds',
        'Member must satisfy regular expression pattern: (^i-(\\w{8}|\\w{17})$)|(^mi-\\w{17}$)',
      );
    if (seen.has(id)) throw new AwsError('DuplicateInstanceId', `Instance ${id} is listed more than once.`);
    seen.add(id);
  }
  const unknown = ids.filter((id) => !ctx.instancesById.has(id));
  if (unknown.length > 0) {
    throw new AwsError(
      'InvalidInstanceId',
      `Instances [[${unknown.join(', ')}]] not in a valid state for account ${ctx.accountId}`,
    );
  }
  return ids.map((id) => ctx.instancesById.get(id)!);
}

function resolveTargets(targets: Array<{ Key: string; Values: string[] }>, ctx: SsmContext): SandboxInstance[] {
  let selected = ctx.instances;
  for (const target of targets) {
    if (
      typeof target?.Key !== 'string' ||
      !Array.isArray(target.Values) ||
      target.Values.length === 0 ||
      target.Values.length > MAX_TARGET_VALUES
    ) {
      throw validation(`Each target needs a Key and 1 to ${MAX_TARGET_VALUES} Values.`);
    }
    const { Key: key, Values: values } = target;
    if (key === 'InstanceIds') {
      const byId = new Set(resolveInstanceIds(values, ctx).map((i) => i.instanceId));
      selected = selected.filter((i) => byId.has(i.instanceId));
    } else if (key === 'tag-key') {
      selected = selected.filter((i) => values.some((v) => v in i.tags));
    } else if (key.startsWith('tag:') && key.length > 4) {
      selected = selected.filter((i) => values.includes(i.tags[key.slice(4)]));
    } else {
      throw new AwsError(
        'InvalidTarget',
        `Target key ${key} is not supported by the sandbox (use InstanceIds, tag:<key> or tag-key).`,
      );
    }
  }
  return selected;
}

// ---------------------------------------------------------------- reads

function getCommandInvocation(input: Input, ctx: SsmContext) {
  const commandId = commandIdInput(input.CommandId);
  const instanceId = requiredString(input.InstanceId, 'instanceId');
  if (input.PluginName !== undefined && input.PluginName !== RUN_SHELL_SCRIPT_PLUGIN) {
    throw new AwsError(
      'InvalidPluginName',
      `Plugin ${String(input.PluginName)} is not part of this command (${RUN_SHELL_SCRIPT_PLUGIN}).`,
    );
  }
  const invocation = ctx.commands.get(commandId)?.byInstance.get(instanceId);
  if (!invocation || Date.now() < invocation.visibleAt) throw new AwsError('InvocationDoesNotExist', '');
  const { command } = invocation;
  const ended = isTerminal(invocation.status);
  const urls = outputUrls(invocation, ctx);
  return {
    CommandId: command.id,
    InstanceId: instanceId,
    Comment: command.request.comment,
    DocumentName: command.request.documentName,
    DocumentVersion: command.request.documentVersion,
    PluginName: RUN_SHELL_SCRIPT_PLUGIN,
    ResponseCode: invocation.responseCode,
    ExecutionStartDateTime: invocation.startedAt ? new Date(invocation.startedAt).toISOString() : '',
    ExecutionElapsedTime: invocation.startedAt
      ? isoDuration((invocation.endedAt ?? Date.now()) - invocation.startedAt)
      : '',
    ExecutionEndDateTime: invocation.startedAt && invocation.endedAt ? new Date(invocation.endedAt).toISOString() : '',
    Status: invocation.status,
    StatusDetails: invocation.statusDetails,
    // The agent reports output only when the plugin has finished.
    StandardOutputContent: ended ? invocation.stdout.toString('utf8') : '',
    StandardOutputUrl: urls.stdout,
    StandardErrorContent: ended ? invocation.stderr.toString('utf8') : '',
    StandardErrorUrl: urls.stderr,
    CloudWatchOutputConfig: command.request.cloudWatchOutputConfig,
  };
}

function listCommandInvocations(input: Input, ctx: SsmContext) {
  const commandId = input.CommandId === undefined ? undefined : commandIdInput(input.CommandId);
  const instanceId = input.InstanceId === undefined ? undefined : requiredString(input.InstanceId, 'instanceId');
  const size = pageSize(input.MaxResults, LIST_COMMAND_INVOCATIONS_PAGE, 'maxResults');
  const details = input.Details === true;
  const filters = commandFilters(input.Filters);
  const now = Date.now();
  const commands = commandId ? [ctx.commands.get(commandId)].filter((c): c is Command => !!c) : ctx.commands.commands;
  const matching: Invocation[] = [];
  for (const command of commands) {
    if (!filters.every((f) => f(command))) continue;
    const invocations = instanceId
      ? [command.byInstance.get(instanceId)].filter((i): i is Invocation => !!i)
      : command.invocations;
    for (const invocation of invocations) if (now >= invocation.visibleAt) matching.push(invocation);
  }
  const start = decodePageToken(input.NextToken);
  const page = matching.slice(start, start + size);
  return {
    CommandInvocations: page.map((invocation) => invocationView(invocation, details, ctx)),
    NextToken: start + size < matching.length ? encodePageToken(start + size) : undefined,
  };
}

function listCommands(input: Input, ctx: SsmContext) {
  const size = pageSize(input.MaxResults, LIST_COMMANDS_PAGE, 'maxResults');
  const filters = commandFilters(input.Filters);
  let commands: Command[];
  if (input.CommandId !== undefined) {
    const command = ctx.commands.get(commandIdInput(input.CommandId));
    if (!command) throw new AwsError('InvalidCommandId', '');
    commands = [command];
  } else {
    commands = ctx.commands.commands;
  }
  if (input.InstanceId !== undefined) {
    const instanceId = requiredString(input.InstanceId, 'instanceId');
    commands = commands.filter((c) => c.byInstance.has(instanceId));
  }
  const matching = commands.filter((c) => filters.every((f) => f(c)));
  const start = decodePageToken(input.NextToken);
  return {
    Commands: matching.slice(start, start + size).map((c) => commandView(c, ctx)),
    NextToken: start + size < matching.length ? encodePageToken(start + size) : undefined,
  };
}

function cancelCommand(input: Input, ctx: SsmContext) {
  const command = ctx.commands.get(commandIdInput(input.CommandId));
  if (!command) throw new AwsError('InvalidCommandId', '');
  const instanceIds = input.InstanceIds === undefined ? undefined : asArray<string>(input.InstanceIds, 'instanceIds');
  if (instanceIds && instanceIds.length > MAX_SEND_COMMAND_INSTANCE_IDS)
    throw constraint(
      `[${instanceIds.length} ids]`,
      'instanceIds',
      `Member must have length less than or equal to ${MAX_SEND_COMMAND_INSTANCE_IDS}`,
    );
  const unknown = (instanceIds ?? []).filter((id) => !command.byInstance.has(id));
  if (unknown.length > 0)
    throw new AwsError(
      'InvalidInstanceId',
      `Instances [[${unknown.join(', ')}]] are not targets of command ${command.id}`,
    );
  ctx.commands.cancel(command, instanceIds);
  return {};
}

// ---------------------------------------------------------------- views

function commandView(command: Command, ctx: SsmContext) {
  const { request, counts } = command;
  const { status, details } = commandStatus(command);
  return {
    CommandId: command.id,
    DocumentName: request.documentName,
    DocumentVersion: request.documentVersion,
    Comment: request.comment,
    ExpiresAfter: epoch(command.expiresAfter),
    Parameters: request.parameters,
    InstanceIds: request.instanceIds,
    Targets: request.targets,
    RequestedDateTime: epoch(command.requestedAt),
    Status: status,
    StatusDetails: details,
    OutputS3Region: ctx.region,
    OutputS3BucketName: request.outputS3BucketName,
    OutputS3KeyPrefix: request.outputS3KeyPrefix,
    MaxConcurrency: request.maxConcurrency,
    MaxErrors: request.maxErrors,
    TargetCount: command.invocations.length,
    CompletedCount: counts.completed,
    ErrorCount: counts.errors,
    DeliveryTimedOutCount: counts.deliveryTimedOut,
    ServiceRole: request.serviceRoleArn,
    NotificationConfig: request.notificationConfig ?? {
      NotificationArn: '',
      NotificationEvents: [],
      NotificationType: '',
    },
    CloudWatchOutputConfig: request.cloudWatchOutputConfig,
    TimeoutSeconds: request.timeoutSeconds,
  };
}

function invocationView(invocation: Invocation, details: boolean, ctx: SsmContext) {
  const { command } = invocation;
  const ended = isTerminal(invocation.status);
  const urls = outputUrls(invocation, ctx);
  return {
    CommandId: command.id,
    InstanceId: invocation.instance.instanceId,
    InstanceName: invocation.instance.name ?? '',
    Comment: command.request.comment,
    DocumentName: command.request.documentName,
    DocumentVersion: command.request.documentVersion,
    RequestedDateTime: epoch(command.requestedAt),
    Status: invocation.status,
    StatusDetails: invocation.statusDetails,
    TraceOutput: '',
    StandardOutputUrl: urls.stdout,
    StandardErrorUrl: urls.stderr,
    CommandPlugins: details
      ? [
          {
            Name: RUN_SHELL_SCRIPT_PLUGIN,
            Status: invocation.status,
            StatusDetails: invocation.statusDetails,
            ResponseCode: invocation.responseCode,
            ResponseStartDateTime: epoch(invocation.startedAt),
            ResponseFinishDateTime: epoch(invocation.startedAt ? invocation.endedAt : undefined),
            Output: ended ? pluginOutput(invocation.stdout, invocation.stderr) : '',
            StandardOutputUrl: urls.stdout,
            StandardErrorUrl: urls.stderr,
            OutputS3Region: ctx.region,
            OutputS3BucketName: command.request.outputS3BucketName,
            OutputS3KeyPrefix: command.request.outputS3KeyPrefix,
          },
        ]
      : [],
    ServiceRole: command.request.serviceRoleArn,
    NotificationConfig: command.request.notificationConfig ?? {
      NotificationArn: '',
      NotificationEvents: [],
      NotificationType: '',
    },
    CloudWatchOutputConfig: command.request.cloudWatchOutputConfig,
  };
}

function outputUrls(invocation: Invocation, ctx: SsmContext): { stdout: string; stderr: string } {
  const bucket = invocation.command.request.outputS3BucketName;
  if (!bucket) return { stdout: '', stderr: '' };
  const url = (stream: 'stdout' | 'stderr') =>
    `${ctx.endpoint}/${bucket}/${outputKey(invocation, stream).split('/').map(encodeURIComponent).join('/')}`;
  return { stdout: url('stdout'), stderr: url('stderr') };
}

const ERROR_TITLE = '\n----------ERROR-------\n';
const TRUNCATE_OUT = '\n---Output truncated---';
const TRUNCATE_ERROR = '\n---Error truncated----';

/** The agent's TruncateOutput(stdout, stderr, 2500), byte for byte. */
export function pluginOutput(stdout: Buffer, stderr: Buffer, capacity = PLUGIN_OUTPUT_CAPACITY): string {
  const title = stderr.length > 0 ? ERROR_TITLE : '';
  const available = capacity - title.length;
  const join = (...parts: Array<Buffer | string>) =>
    Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p))).toString('utf8');
  if (stdout.length + stderr.length < available) return join(stdout, title, stderr);
  if (stdout.length > available / 2 && stderr.length > available / 2) {
    const half = Math.floor((available - TRUNCATE_ERROR.length - TRUNCATE_OUT.length) / 2);
    return join(stdout.subarray(0, half), TRUNCATE_OUT, title, stderr.subarray(0, half), TRUNCATE_ERROR);
  }
  if (stdout.length < available / 2) {
    return join(stdout, title, stderr.subarray(0, available - TRUNCATE_ERROR.length - stdout.length), TRUNCATE_ERROR);
  }
  return join(stdout.subarray(0, available - TRUNCATE_OUT.length - stderr.length), TRUNCATE_OUT, title, stderr);
}

function isoDuration(ms: number): string {
  return `PT${(ms / 1000).toFixed(3)}S`;
}

// ---------------------------------------------------------------- input helpers

function commandFilters(value: unknown): Array<(c: Command) => boolean> {
  return asArray<{ key?: string; value?: string }>(value, 'filters').map((f) => {
    const v = String(f.value ?? '');
    switch (f.key) {
      case 'InvokedAfter':
        return (c: Command) => c.requestedAt >= Date.parse(v);
      case 'InvokedBefore':
        return (c: Command) => c.requestedAt <= Date.parse(v);
      case 'Status':
        return (c: Command) => commandStatus(c).status === v;
      case 'DocumentName':
        return (c: Command) => c.request.documentName === v;
      case 'ExecutionStage':
        return (c: Command) =>
          v === 'Executing' ? !isTerminal(commandStatus(c).status) : isTerminal(commandStatus(c).status);
      default:
        throw new AwsError(
          'InvalidFilterKey',
          `Filter key ${String(f.key)} is not valid (InvokedAfter, InvokedBefore, Status, ExecutionStage, DocumentName).`,
        );
    }
  });
}

function commandIdInput(value: unknown): string {
  if (typeof value !== 'string' || value.length !== 36)
    throw constraint(value, 'commandId', 'Member must have length equal to 36');
  return value;
}

function singleParameter(parameters: Record<string, unknown>, name: string): string | undefined {
  const value = parameters[name] as string[] | undefined;
  if (value === undefined) return undefined;
  if (value.length !== 1) throw new AwsError('InvalidParameters', `Parameter "${name}" takes exactly one value.`);
  return value[0];
}

function requiredString(value: unknown, member: string): string {
  if (typeof value !== 'string' || value === '')
    throw validation(
      `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
    );
  return value;
}

function optionalString(value: unknown, member: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw constraint(value, member, 'Member must be a string');
  return value;
}

function asArray<T>(value: unknown, member: string): T[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw constraint(value, member, 'Member must be a list');
  return value as T[];
}
