// Renewal of the live-output upload policy while a run goes on (or after it ended with output still
// kept on the instance). A presigned POST dies with the credentials that signed it, and role/SSO
// credentials last 1-12 h; a run may last longer. The client, which can refresh its credentials, sends
// each instance that needs it a small renewal command (AWS-RunShellScript, header `# ec2-runner renew
// <runId>`) with a fresh policy covering only that instance's keys. The wrapper spools every object
// until S3 acknowledged it, so nothing is lost in between (remote/wrapper/spool.py).
//
// SSM costs: renewals are sent only when the policy in use is about to expire (and the credentials can
// give a later expiry), or when a run ended with its output incomplete; never per poll.
import type { S3Client } from '@aws-sdk/client-s3';
import { SendCommandCommand } from '@aws-sdk/client-ssm';
import type { AwsClients } from './clients';
import { mapWithLimit } from './concurrency';
import {
  MIN_DELIVERY_TIMEOUT_SECONDS,
  RENEWAL_EXECUTION_TIMEOUT_SECONDS,
  RENEWAL_MARGIN_MAX_SECONDS,
  RENEWAL_MARGIN_SHARE,
  RUN_DOCUMENT,
} from './defaults';
import type { UploadEncryption } from './encryption';
import { buildRenewalCommands } from './remote';
import {
  cappedLifetimeSeconds,
  createLiveOutputTarget,
  downloadLifetimeSeconds,
  presignedDownloadUrl,
  signingCredentials,
} from './transfer';

/** Renewal commands in flight at once (a fleet's renewal is one SendCommand per instance). */
const PARALLEL_RENEWALS = 8;

export interface RenewalPlan {
  clients: AwsClients;
  bucket: string;
  /**
   * S3 in the bucket's region (found when first needed): renewed policies and URLs are signed for it, like the first
   * ones.
   */
  s3: () => Promise<S3Client>;
  /** The run's SSE-KMS fields, pinned in every renewed policy too. */
  encryption?: UploadEncryption;
  runId: string;
  /** `<keyPrefix>runs/<runId>/`. */
  runPrefix: string;
  /** How long a renewed policy should live at most (capped at the credentials' expiry). */
  policySeconds: number;
  /** When the policy the instances hold expires; undefined when unknown (attach, status). */
  expiresAtMs?: number;
  /** When that policy was signed (prices the renewal margin). */
  issuedAtMs?: number;
  /** The staged file (presigned mode): instances that have not started get a fresh GET with the renewal. */
  download?: { bucket: string; key: string };
}

export class UploadRenewal {
  private expiresAtMs: number | undefined;
  private issuedAtMs: number;
  /** The credentials cannot give a later expiry: proactive renewal is pointless. */
  private exhausted = false;

  constructor(private readonly plan: RenewalPlan) {
    this.expiresAtMs = plan.expiresAtMs;
    this.issuedAtMs = plan.issuedAtMs ?? Date.now();
  }

  /** When the policy in use should be renewed: a share of its lifetime before it expires (at most a few minutes). */
  renewAtMs(): number {
    if (this.expiresAtMs === undefined || this.exhausted) return Infinity;
    const lifetimeMs = this.expiresAtMs - this.issuedAtMs;
    return this.expiresAtMs - Math.min(RENEWAL_MARGIN_MAX_SECONDS * 1000, lifetimeMs * RENEWAL_MARGIN_SHARE);
  }

  /**
   * Sends each instance a fresh policy (one SendCommand per instance: each sees only its own).
   * `proactive` renewals are skipped when the credentials would not outlive the current policy.
   * Returns the renewal command id per instance (empty when nothing was sent for that reason);
   * throws the first SendCommand error.
   */
  async renew(
    instanceIds: readonly string[],
    { proactive, notStarted }: { proactive: boolean; notStarted?: ReadonlySet<string> },
  ): Promise<Map<string, string>> {
    const sent = new Map<string, string>();
    if (instanceIds.length === 0) return sent;
    const { clients, bucket, runId, runPrefix, encryption } = this.plan;
    const s3 = await this.plan.s3();
    const credentials = await signingCredentials(s3);
    const now = Date.now();
    const seconds = cappedLifetimeSeconds(this.plan.policySeconds, credentials, now);
    const expiresAtMs = now + seconds * 1000;
    if (proactive && this.expiresAtMs !== undefined && expiresAtMs <= this.expiresAtMs + 1000) {
      this.exhausted = true;
      return sent;
    }
    const download = this.plan.download;
    await mapWithLimit(instanceIds, PARALLEL_RENEWALS, async (instanceId) => {
      const target = await createLiveOutputTarget(s3, bucket, runPrefix, seconds, instanceId, encryption);
      const downloadUrl =
        download && notStarted?.has(instanceId)
          ? await presignedDownloadUrl(
              s3,
              download.bucket,
              download.key,
              cappedLifetimeSeconds(downloadLifetimeSeconds(MIN_DELIVERY_TIMEOUT_SECONDS), credentials, now),
            )
          : undefined;
      const out = await clients.ssm.send(
        new SendCommandCommand({
          DocumentName: RUN_DOCUMENT,
          InstanceIds: [instanceId],
          Parameters: {
            commands: buildRenewalCommands(runId, target, downloadUrl, instanceId),
            executionTimeout: [String(RENEWAL_EXECUTION_TIMEOUT_SECONDS)],
          },
          TimeoutSeconds: MIN_DELIVERY_TIMEOUT_SECONDS,
          Comment: `ec2-runner: renew live output upload (run ${runId})`,
        }),
      );
      if (out.Command?.CommandId) sent.set(instanceId, out.Command.CommandId);
    });
    // The earliest expiry among instances renewed at different times is what matters; one renewal covers all of them.
    if (proactive || this.expiresAtMs === undefined || expiresAtMs < this.expiresAtMs) {
      this.expiresAtMs = expiresAtMs;
      this.issuedAtMs = now;
    }
    return sent;
  }
}
