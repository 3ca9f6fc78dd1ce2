// AWS's own limits and names that both the engine (which must respect them) and the sandbox (which
// enforces them the way AWS does) need. One definition each. This module imports nothing, so the
// sandbox can take it without taking the engine (ARCHITECTURE.md); the engine's own choices (defaults,
// budgets) live in defaults.ts.

/** The SSM document every run uses. */
export const RUN_DOCUMENT = 'AWS-RunShellScript';

/** SendCommand: at most 50 InstanceIds, 5 Targets entries, a Comment of 100 characters. */
export const MAX_INSTANCE_IDS = 50;
export const MAX_TAG_TARGETS = 5;
export const MAX_COMMENT_CHARS = 100;

/** ListCommandInvocations returns at most 50 invocations a page: a fleet of 500 takes 10 calls to list. */
export const LIST_COMMAND_INVOCATIONS_MAX_RESULTS = 50;

/** SendCommand TimeoutSeconds (delivery): 30 seconds to 30 days. */
export const MIN_DELIVERY_TIMEOUT_SECONDS = 30;
export const MAX_DELIVERY_TIMEOUT_SECONDS = 30 * 24 * 3600;

/** AWS-RunShellScript's executionTimeout when none is given. */
export const SSM_DEFAULT_EXECUTION_TIMEOUT_SECONDS = 3600;
/** The agent resets an executionTimeout outside 5..172800 to 3600 (the API itself accepts 1..172800). */
export const MIN_AGENT_EXECUTION_TIMEOUT_SECONDS = 5;
export const MAX_EXECUTION_TIMEOUT_SECONDS = 172800;

/** SigV4 presigned URLs and POST policies cannot outlive 7 days. */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

/** The SSM agent takes exit code 194 from a script as "reboot the instance, then run the command again". */
export const AGENT_REBOOT_EXIT_CODE = 194;

/**
 * A region name: `us-east-1`, `ap-southeast-1`, `us-gov-west-1`, `eu-central-2`, `us-isob-east-1`.
 * The trailing number may grow past 9 some day, so it takes any digits.
 */
export const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** An EC2 instance id (8 or 17 hex digits) or a hybrid managed-node id: SSM's InstanceIds pattern. */
export const INSTANCE_ID_PATTERN = /^(i-(\w{8}|\w{17})|mi-\w{17})$/;

/** The staging bucket when none is configured: one per account and region. */
export function defaultBucketName(account: string, region: string): string {
  return `ec2-runner-${account}-${region}`;
}
