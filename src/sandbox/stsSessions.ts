// Temporary credentials from sts:AssumeRole: an access key id (ASIA...), a secret and a session
// token that stop working at their expiry. Kept in memory only (a restarted sandbox forgets them,
// as a revoked session would be). The lifetime comes from the request's DurationSeconds (real STS's
// 900..43200, default 3600) unless the `sessionLifetimeS` knob forces a shorter one for tests.
import { randomBytes } from 'node:crypto';

export interface SandboxSession {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiresAtMs: number;
  roleArn: string;
  roleSessionName: string;
}

/** Real STS's DurationSeconds range for AssumeRole (the knob may go below it, down to this minimum). */
export const ASSUME_ROLE_DURATION = { min: 900, max: 43_200, default: 3_600 } as const;
export const MIN_SESSION_LIFETIME_SECONDS = 5;

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export class SessionStore {
  private readonly sessions = new Map<string, SandboxSession>();

  constructor(private readonly now: () => number = Date.now) {}

  issue(roleArn: string, roleSessionName: string, lifetimeSeconds: number): SandboxSession {
    const session: SandboxSession = {
      accessKeyId: `ASIA${Array.from(randomBytes(16), (b) => BASE32[b % 32]).join('')}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      // Real tokens are long opaque base64 (several hundred characters): size matters for command text budgets.
      sessionToken: randomBytes(480).toString('base64'),
      expiresAtMs: this.now() + lifetimeSeconds * 1000,
      roleArn,
      roleSessionName,
    };
    this.sessions.set(session.accessKeyId, session);
    this.forgetExpired();
    return session;
  }

  get(accessKeyId: string): SandboxSession | undefined {
    return this.sessions.get(accessKeyId);
  }

  isExpired(session: SandboxSession): boolean {
    return this.now() >= session.expiresAtMs;
  }

  /** Sessions long past their expiry are dropped (a day later: their requests still get ExpiredToken meanwhile). */
  private forgetExpired(): void {
    const horizon = this.now() - 24 * 3600 * 1000;
    for (const [id, session] of this.sessions) if (session.expiresAtMs < horizon) this.sessions.delete(id);
  }
}
