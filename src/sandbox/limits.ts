// AWS limits and agent rules the sandbox reproduces (sources: the botocore SSM model, the
// amazon-ssm-agent source, ../../shared reference doc). One place for each figure: those the engine
// must respect too are defined once in src/core/awsLimits.ts (which imports nothing) and reused here.
import {
  AGENT_REBOOT_EXIT_CODE,
  MAX_COMMENT_CHARS,
  MAX_DELIVERY_TIMEOUT_SECONDS,
  MAX_EXECUTION_TIMEOUT_SECONDS,
  MAX_INSTANCE_IDS,
  MAX_PRESIGN_SECONDS,
  MAX_TAG_TARGETS,
  MIN_AGENT_EXECUTION_TIMEOUT_SECONDS,
  MIN_DELIVERY_TIMEOUT_SECONDS,
  RUN_DOCUMENT,
  SSM_DEFAULT_EXECUTION_TIMEOUT_SECONDS,
} from '../core/awsLimits';

/** The agent keeps at most this many bytes of stdout in StandardOutputContent. */
export const MAX_STDOUT_CONTENT_BYTES = 24_000;
/** The agent keeps at most this many bytes of stderr in StandardErrorContent. */
export const MAX_STDERR_CONTENT_BYTES = 8_000;
/** Appended by the agent to cut output (the cut keeps the first MAX - suffix length bytes). */
export const OUTPUT_TRUNCATED_SUFFIX = '--output truncated--';
/** ListCommandInvocations' CommandPlugins[].Output capacity (agent MaximumPluginOutputSize). */
export const PLUGIN_OUTPUT_CAPACITY = 2_500;

/**
 * SendCommand's total Parameters size past which it answers MaxDocumentSizeExceeded. AWS does not
 * document the exact figure; ~97 KB is the commonly observed one, so callers should stay far below.
 */
export const MAX_SEND_COMMAND_PARAMETERS_BYTES = 97 * 1024;

export const DELIVERY_TIMEOUT_SECONDS = {
  min: MIN_DELIVERY_TIMEOUT_SECONDS,
  max: MAX_DELIVERY_TIMEOUT_SECONDS,
  default: 3_600,
} as const;
/** executionTimeout: the API accepts 1..172800; the agent resets values outside 5..172800 to 3600. */
export const EXECUTION_TIMEOUT_SECONDS = {
  apiMin: 1,
  agentMin: MIN_AGENT_EXECUTION_TIMEOUT_SECONDS,
  max: MAX_EXECUTION_TIMEOUT_SECONDS,
  default: SSM_DEFAULT_EXECUTION_TIMEOUT_SECONDS,
} as const;
export const MAX_SEND_COMMAND_INSTANCE_IDS = MAX_INSTANCE_IDS;
export const MAX_SEND_COMMAND_TARGETS = MAX_TAG_TARGETS;
export const MAX_TARGET_VALUES = 50;
export { MAX_COMMENT_CHARS };
export const MAX_WORKING_DIRECTORY_CHARS = 4_096;
export const MAX_OUTPUT_S3_KEY_PREFIX_CHARS = 500;

export const DESCRIBE_INSTANCE_INFORMATION_PAGE = { min: 5, max: 50, default: 10 } as const;
export const LIST_COMMAND_INVOCATIONS_PAGE = { min: 1, max: 50, default: 50 } as const;
export const LIST_COMMANDS_PAGE = { min: 1, max: 50, default: 50 } as const;
export const GET_RESOURCES_PAGE = { min: 1, max: 100, default: 50 } as const;
export const LIST_OBJECTS_MAX_KEYS = 1_000;

/** SigV4: a signed request's X-Amz-Date may differ from the server clock by at most this. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;
/** SigV4 presigned URLs live at most 7 days. */
export const MAX_PRESIGNED_EXPIRES_SECONDS = MAX_PRESIGN_SECONDS;
/** Largest request body the sandbox accepts (S3 single PutObject is 5 GB on AWS; tests need far less). */
export const MAX_REQUEST_BODY_BYTES = 512 * 1024 * 1024;
/** Largest body of an SSM/STS/tagging call (JSON or form); SendCommand's own limit is far below. */
export const MAX_API_BODY_BYTES = 8 * 1024 * 1024;

/**
 * Protection of a server that runs commands on this machine (not AWS figures): any local process or
 * web page can connect. Headers must arrive within HEADERS_TIMEOUT_MS, a whole request within
 * REQUEST_TIMEOUT_MS, an idle connection is closed after IDLE_SOCKET_TIMEOUT_MS, and at most
 * MAX_CONNECTIONS are open at once (a 500-instance fleet opens far fewer).
 */
export const SERVER_LIMITS = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 300_000,
  idleSocketTimeoutMs: 60_000,
  /** How often Node checks the two timeouts above. */
  checkIntervalMs: 1_000,
  maxConnections: 1_024,
} as const;

/** The plugin name and S3 output folder names the agent uses for AWS-RunShellScript. */
export const RUN_SHELL_SCRIPT_DOCUMENT = RUN_DOCUMENT;
export const RUN_SHELL_SCRIPT_PLUGIN = 'aws:runShellScript';
export const RUN_SHELL_SCRIPT_OUTPUT_FOLDER = 'awsrunShellScript/0.awsrunShellScript';

/** Exit code 194: the agent reboots the instance, then runs the command again (SuccessAndReboot). */
export { AGENT_REBOOT_EXIT_CODE };

/** SIGKILLed process group (timeout, cancel) exit code as the agent reports it. */
export const KILLED_EXIT_CODE = 137;
