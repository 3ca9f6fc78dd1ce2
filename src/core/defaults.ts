// One source of truth for the engine's defaults and limits. AWS's own limits that the sandbox
// enforces too are defined in awsLimits.ts and re-exported here for the engine.
import { MIN_DELIVERY_TIMEOUT_SECONDS, SSM_DEFAULT_EXECUTION_TIMEOUT_SECONDS } from './awsLimits';

export {
  AGENT_REBOOT_EXIT_CODE,
  MAX_DELIVERY_TIMEOUT_SECONDS,
  MAX_EXECUTION_TIMEOUT_SECONDS,
  MAX_INSTANCE_IDS,
  MAX_PRESIGN_SECONDS,
  MIN_AGENT_EXECUTION_TIMEOUT_SECONDS,
  MIN_DELIVERY_TIMEOUT_SECONDS,
  RUN_DOCUMENT,
} from './awsLimits';

/** Prefix under which staged files (`staged/`) and live output (`runs/`) live in the bucket. */
export const DEFAULT_KEY_PREFIX = 'ec2-runner/';

/** Execution timeout when the request gives none (SSM's own default for AWS-RunShellScript). */
export const DEFAULT_TIMEOUT_SECONDS = SSM_DEFAULT_EXECUTION_TIMEOUT_SECONDS;

/**
 * SendCommand TimeoutSeconds (delivery) default: long enough for a busy agent, short enough to notice a dead one. SSM's
 * minimum is 30.
 */
export const DEFAULT_DELIVERY_TIMEOUT_SECONDS = 600;

/** Staged files and live output expire after this many days (bucket lifecycle rule). */
export const STAGED_OBJECT_EXPIRY_DAYS = 7;

/** Upper bound for one live-output object (the presigned POST policy's content-length-range). */
export const LIVE_CHUNK_MAX_BYTES = 16 * 1024 * 1024;

/** Extra lifetime of the presigned POST beyond delivery + execution timeouts (final flush, clock skew). */
export const LIVE_POLICY_SLACK_SECONDS = 120;

/**
 * The live-output policy is renewed this share of its lifetime before it expires, at most this many
 * seconds before (time for the renewal command to be delivered and picked up by the wrapper).
 */
export const RENEWAL_MARGIN_SHARE = 0.4;
export const RENEWAL_MARGIN_MAX_SECONDS = 120;

/** Lifetime of a policy sent to recover output kept on an instance after its run ended (status, attach). */
export const RECOVERY_POLICY_SECONDS = 900;

/** The renewal command's own execution timeout: it only hands over a policy or uploads a spool. */
export const RENEWAL_EXECUTION_TIMEOUT_SECONDS = 120;

/**
 * How long the client waits for kept output after sending a recovery renewal, before using SSM's output: as long as
 * the renewal command may take to be delivered and to run (it is followed to its end, which is usually much sooner).
 * Giving up earlier would drop output a slow but working S3 was still taking, past SSM's 24,000 characters.
 */
export const RECOVERY_WAIT_SECONDS = MIN_DELIVERY_TIMEOUT_SECONDS + RENEWAL_EXECUTION_TIMEOUT_SECONDS;

/** SDK retry policy: adaptive mode rate-limits the client itself when SSM throttles. */
export const SDK_MAX_ATTEMPTS = 6;
export const SDK_RETRY_MODE = 'adaptive';

/** A project (folder) run stages at most this much: file count and total size before packing. */
export const PROJECT_LIMITS = { maxFiles: 10_000, maxBytes: 50 * 1024 * 1024 } as const;

/**
 * Artifacts shipped back per instance (the tar the wrapper builds from $EC2_RUNNER_ARTIFACTS). It travels
 * as one live-output frame, so it must stay below LIVE_CHUNK_MAX_BYTES with room for the frame header.
 */
export const ARTIFACTS_MAX_BYTES = 8 * 1024 * 1024;
/** Files per instance in that tar (the client refuses more; the wrapper says so instead of shipping them). */
export const ARTIFACTS_MAX_FILES = 10_000;

/** Where instances keep dependency environments: under $HOME, or here when the agent has no HOME. */
export const DEFAULT_VENV_ROOT = '$HOME/.cache/ec2-runner/venvs';
export const FALLBACK_VENV_ROOT = '/var/tmp/ec2-runner/venvs';

/**
 * Instances without a route to S3 (private subnets with only the SSM endpoints): the connection to S3 is
 * never made. The wrapper's first upload waits this long for a route (a connection to S3, a proxy's tunnel
 * to it, or through a plain-HTTP proxy an answer) before it decides S3 is unreachable and leaves the
 * output to SSM's own channel; the staged-file download waits a little longer because a run cannot go
 * on without it. Once connected, S3's answer gets the normal wait: a busy S3 is not a missing route.
 */
export const S3_FIRST_CONTACT_SECONDS = 3;
export const S3_DOWNLOAD_FIRST_CONTACT_SECONDS = 5;

/**
 * The wrapper reports a script's own exit code 194 (AGENT_REBOOT_EXIT_CODE) to the agent as 195 (and the
 * true 194 in its exit frame, which the client prefers), so no script can reboot an instance by accident.
 */
export const REBOOT_EXIT_CODE_REPORTED_AS = 195;

/**
 * When the script ends, the wrapper stops what it left running in its process group (SIGTERM, then
 * SIGKILL after this many seconds): the agent itself kills nothing when a script ends normally.
 */
export const LEFTOVER_PROCESS_GRACE_SECONDS = 2;

/**
 * Live-output cadence: the least time between two uploads of continuous output per instance (after a
 * burst of a few; sparse output goes at once). S3 bills every POST, GET and LIST, so continuous
 * output travels in bigger, rarer objects: about $0.02 per instance-hour for a watched run, less for
 * a fleet, whose live output lags more, and for a run nobody follows (--no-wait).
 */
export const LIVE_UPLOAD_GAP_SECONDS = { watched: 1.25, fleet: 6, unwatched: 15 } as const;
/** From this many targets a run is a fleet for the cadence above. */
export const FLEET_CADENCE_MIN_TARGETS = 50;

/**
 * Debug runs (src/core/debug): how long the client waits for debugpy to listen on the instance (delivery,
 * the debugpy download on a first run, start-up), and the range its port is drawn from there.
 */
export const DEBUG_READY_TIMEOUT_SECONDS = 180;
export const DEBUG_REMOTE_PORT_RANGE = { min: 20_000, max: 59_999 } as const;
/** A local debugpy copy staged for instances is at most this large before packing (binaries left out). */
export const DEBUGPY_MAX_BYTES = 64 * 1024 * 1024;

/**
 * A run's output held in memory per instance and stream: its first half and its last half. Beyond it the
 * whole stream is written to a file (outputStore.ts) and the result's text keeps the two ends with a
 * pointer to the file, so a run printing gigabytes keeps the client's memory bounded.
 */
export const OUTPUT_MEMORY_BYTES = 1024 * 1024;
/** Saved output folders older than this are removed when a new run saves its output. */
export const OUTPUT_KEEP_DAYS = 7;
