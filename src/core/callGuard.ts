// One AWS call of the run loop. Transient failures are tolerated (the next tick retries; the SDK
// has already retried each call); a permission or credential problem, or too many failures in a
// row, is handed to `giveUp`: the SSM checker throws it (following ends), the live follower stops
// reading the channel (SSM's own output takes over).
import type { RunnerError } from './api';
import { toRunnerError } from './errors';
import { FATAL_ERROR_CODES, WAIT_POLICY } from './waitPolicy';

export interface CallGuardOptions {
  /** S3's SlowDown: the SDK has slowed down already, so it neither counts nor gives up. */
  toleratesThrottling?: boolean;
  /**
   * A guarded call may send no request at all (a live pass that has nothing due): only `answered()`,
   * called when AWS did answer, ends a run of failures.
   */
  resetsOnAnswerOnly?: boolean;
}

export class CallGuard {
  private errorsInARow = 0;

  constructor(
    private readonly giveUp: (error: RunnerError) => void,
    private readonly options: CallGuardOptions = {},
  ) {}

  /** The call's value, or undefined when it failed (and was not given up on). */
  async call<T>(fn: () => Promise<T>): Promise<T | undefined> {
    try {
      const value = await fn();
      if (!this.options.resetsOnAnswerOnly) this.answered();
      return value;
    } catch (error) {
      // A corrupt live object is the caller's to handle (that instance's channel cannot be trusted).
      if (error instanceof Error && error.name === 'CorruptFramesError') throw error;
      const mapped = toRunnerError(error);
      if (this.options.toleratesThrottling && mapped.code === 'Throttled') return undefined;
      if (++this.errorsInARow >= WAIT_POLICY.maxConsecutiveErrors || FATAL_ERROR_CODES.has(mapped.code))
        this.giveUp(mapped);
      return undefined;
    }
  }

  /** AWS answered a request: the failures so far were transient. */
  answered(): void {
    this.errorsInARow = 0;
  }
}
