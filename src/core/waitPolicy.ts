// The run loop's timings and the codes and statuses its machines decide by (one source of truth;
// unit tests read them too).
import { S3_FIRST_CONTACT_SECONDS } from './defaults';

/** The waiting policy's timings. */
export const WAIT_POLICY = {
  firstStatusCheckMs: 5_000,
  statusCheckIntervalMs: 10_000,
  liveIntervalMs: 150,
  liveIdleIntervalMs: 1_000,
  /** Without new output for this long the live channel is polled less often. */
  liveIdleAfterMs: 60_000,
  /** Each LIST call a live pass costs adds this much to the interval (bounds S3 LISTs per second). */
  livePerListCallMs: 25,
  /** Instances whose new live objects are fetched at the same time. */
  liveParallelInstances: 32,
  /** A fleet's live passes run at most once a second (S3 request fees grow with the pass rate). */
  liveFleetIntervalMs: 1_000,
  /** Pause between two rounds of SSM calls that one check needs (spreads a fleet's calls). */
  ssmRoundGapMs: 250,
  /** An instance that has shown no live output this long after sending gets an early SSM look... */
  silentLiveAfterMs: 2_000,
  /**
   * ...and, while SSM says it runs, another this long after sending: a wrapper that can reach S3 has
   * spoken by then (its first upload waits S3_FIRST_CONTACT_SECONDS for an answer before it leaves the
   * output to SSM), so one merely slow to start costs no more looks...
   */
  silentBrokenAfterMs: S3_FIRST_CONTACT_SECONDS * 1_000 + 1_000,
  /** ...then looks this far apart, the gap doubling... */
  silentStatusCheckMs: 1_000,
  /** ...for at most this long after sending (later ends are left to the slow checks). */
  silentChecksForMs: 60_000,
  confirmBackoffFirstMs: 200,
  confirmBackoffMaxMs: 5_000,
  /**
   * A fleet whose invocations take more than one page to list confirms with one ListCommands (its
   * CompletedCount) and lists only once every invocation has ended, so it can afford to look this often.
   */
  fleetConfirmBackoffMaxMs: 1_000,
  /** Invocations of one listing whose results are made final at the same time (each may read its last live objects). */
  finalizeParallelInstances: 16,
  /** A missing live object (its upload failed for good) is skipped after this long. */
  gapGraceMs: 5_000,
  /** Give up waiting for SSM to confirm a cancellation after this long. */
  cancelConfirmLimitMs: 30_000,
  /** SSM may not know an invocation right after SendCommand; past this it is an error. */
  invocationMissingLimitMs: 120_000,
  /** Consecutive failed AWS calls tolerated before giving up (the SDK has already retried each). */
  maxConsecutiveErrors: 6,
} as const;

/** Errors no retry mends: following stops at once (SSM) or the live channel is left (S3). */
export const FATAL_ERROR_CODES = new Set([
  'AccessDenied',
  'NoCredentials',
  'CredentialsExpired',
  'InvalidCredentials',
  'NoRegion',
]);

/** SSM statuses of an invocation not yet running on its instance. */
export const NOT_STARTED = new Set(['Pending', 'Delayed']);
