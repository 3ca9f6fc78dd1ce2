// Behaviour knobs for tests and benchmarks: added latency, SSM throttling, injected faults and
// the agent's delivery delay. Mutable at run time through Sandbox.configure().
import { MIN_SESSION_LIFETIME_SECONDS } from './stsSessions';

export interface Knobs {
  latencyMs: number;
  deliveryDelayMs: number;
  /** SSM calls per second above which SSM answers ThrottlingException; 0 = never throttle. */
  throttleRps: number;
  /** Share (0..1) of API calls answered with a 500 or a connection reset. */
  faultRate: number;
  /** IAM actions answered AccessDenied, e.g. ['ssm:SendCommand', 's3:PutObject'] (see denials.ts). */
  deny: string[];
  /** Buckets that belong to another account: every S3 call on them is AccessDenied. */
  foreignBuckets: string[];
  /** HTTP status for every presigned POST (the live-output channel), 0 = accept. */
  postObjectFailStatus: number;
  /** Share (0..1, below 1) of Session Manager data messages dropped in each direction. */
  sessionDropRate: number;
  /** Data-channel sockets are closed after this many ms (0 = never), forcing ResumeSession. */
  sessionSocketLifetimeMs: number;
  /** Lifetime in seconds of the credentials sts:AssumeRole answers (at least 5); 0 = the request's DurationSeconds. */
  sessionLifetimeS: number;
  /**
   * Instances without a route to S3 (a private subnet with only the SSM endpoints): their connections to
   * S3 get no answer. All instances, or those listed.
   */
  s3Unreachable: boolean;
  s3UnreachableInstances: string[];
  /** An SSM agent too old to set AWS_SSM_INSTANCE_ID in the commands' environment. */
  agentWithoutInstanceId: boolean;
  /**
   * S3 PUT/POST/COPY/DELETE requests per second per prefix above which S3 answers 503 SlowDown; 0 = no limit (see
   * s3RateLimits.ts).
   */
  s3PutRps: number;
  /** S3 GET/HEAD/LIST requests per second per prefix above which S3 answers 503 SlowDown; 0 = no limit. */
  s3GetRps: number;
}

/** Defaults model a real region: ~20 ms per call, sub-second delivery, no throttling or faults. */
export const DEFAULT_KNOBS: Knobs = {
  latencyMs: 20,
  deliveryDelayMs: 200,
  throttleRps: 0,
  faultRate: 0,
  deny: [],
  foreignBuckets: [],
  postObjectFailStatus: 0,
  sessionDropRate: 0,
  sessionSocketLifetimeMs: 0,
  sessionLifetimeS: 0,
  s3Unreachable: false,
  s3UnreachableInstances: [],
  agentWithoutInstanceId: false,
  s3PutRps: 0,
  s3GetRps: 0,
};
const LIST_KNOBS = new Set(['deny', 'foreignBuckets', 's3UnreachableInstances']);
const SWITCH_KNOBS = new Set(['s3Unreachable', 'agentWithoutInstanceId']);
export const DEFAULT_INVOCATION_VISIBILITY_DELAY_MS = 300;

export function validateKnobs(knobs: Partial<Knobs>): void {
  for (const [name, value] of Object.entries(knobs)) {
    if (value === undefined) continue;
    if (SWITCH_KNOBS.has(name)) {
      if (typeof value !== 'boolean') throw new Error(`${name} must be true or false, got ${String(value)}`);
      continue;
    }
    if (LIST_KNOBS.has(name)) {
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
        throw new Error(`${name} must be a list of strings`);
      continue;
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
      throw new Error(`${name} must be a non-negative number, got ${String(value)}`);
    if (name === 'faultRate' && value > 1) throw new Error(`faultRate must be between 0 and 1, got ${value}`);
    if (name === 'sessionDropRate' && value >= 1)
      throw new Error(`sessionDropRate must be at least 0 and below 1, got ${value}`);
    if (
      name === 'sessionLifetimeS' &&
      value !== 0 &&
      (value < MIN_SESSION_LIFETIME_SECONDS || !Number.isInteger(value))
    ) {
      throw new Error(
        `sessionLifetimeS must be a whole number of seconds, at least ${MIN_SESSION_LIFETIME_SECONDS} (0 = ` +
          `as requested), got ${value}`,
      );
    }
  }
}

/** Token bucket holding one second of calls: bursts up to `rps`, then `rps` per second. */
export class Throttle {
  private tokens = 0;
  private last = Date.now();
  private currentRate = 0;

  get rate(): number {
    return this.currentRate;
  }

  setRate(rps: number): void {
    this.currentRate = rps;
    this.tokens = rps;
    this.last = Date.now();
  }

  /** True when the call may proceed. */
  take(): boolean {
    if (this.currentRate <= 0) return true;
    const now = Date.now();
    this.tokens = Math.min(this.currentRate, this.tokens + ((now - this.last) / 1000) * this.currentRate);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
