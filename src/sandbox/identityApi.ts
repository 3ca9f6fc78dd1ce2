// STS GetCallerIdentity (awsQuery, XML answer) and Resource Groups Tagging API GetResources
// (awsJson1.1), which is where Name tags come from (DescribeInstanceInformation has none for EC2).
import { AwsError } from './errors';
import type { SandboxInstance } from './fleet';
import { GET_RESOURCES_PAGE } from './limits';
import { decodePageToken, encodePageToken, pageSize } from './paging';
import { ASSUME_ROLE_DURATION, type SandboxSession, type SessionStore } from './stsSessions';
import { XML_DECLARATION, el } from './xml';

export interface IdentityContext {
  region: string;
  accountId: string;
  userId: string;
  instances: SandboxInstance[];
}

export const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';

export function callerArn(ctx: IdentityContext): string {
  return `arn:aws:iam::${ctx.accountId}:user/sandbox`;
}

/** The one role the sandbox lets its user assume (the info file's `roleArn`). */
export function sandboxRoleArn(accountId: string): string {
  return `arn:aws:iam::${accountId}:role/ec2-runner-sandbox`;
}

/** The role's id part of AssumedRoleUser.AssumedRoleId, fixed per account like a real role id. */
function roleId(ctx: IdentityContext): string {
  return `AROA${ctx.userId.slice(4)}`;
}

function assumedRoleArn(ctx: IdentityContext, session: SandboxSession): string {
  return `arn:aws:sts::${ctx.accountId}:assumed-role/${session.roleArn.split('/').pop()}/${session.roleSessionName}`;
}

export function getCallerIdentity(ctx: IdentityContext, requestId: string, session?: SandboxSession): string {
  const arn = session ? assumedRoleArn(ctx, session) : callerArn(ctx);
  const userId = session ? `${roleId(ctx)}:${session.roleSessionName}` : ctx.userId;
  return (
    `${XML_DECLARATION}<GetCallerIdentityResponse xmlns="${STS_XMLNS}"><GetCallerIdentityResult>` +
    `${el('Arn', arn)}${el('UserId', userId)}${el('Account', ctx.accountId)}` +
    `</GetCallerIdentityResult><ResponseMetadata>${el('RequestId', requestId)}</ResponseMetadata>` +
    `</GetCallerIdentityResponse>`
  );
}

/**
 * sts:AssumeRole of the sandbox role: temporary credentials valid DurationSeconds (900..43200, default
 * 3600), or `lifetimeOverrideS` seconds when the sessionLifetimeS knob is set (tests of expiry).
 */
export function assumeRole(
  params: URLSearchParams,
  ctx: IdentityContext,
  sessions: SessionStore,
  lifetimeOverrideS: number,
  requestId: string,
): string {
  const roleArn = params.get('RoleArn') ?? '';
  const sessionName = params.get('RoleSessionName') ?? '';
  if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
    throw new AwsError(
      'ValidationError',
      `1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy ` +
        `constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
    );
  }
  if (roleArn !== sandboxRoleArn(ctx.accountId)) {
    throw new AwsError(
      'AccessDenied',
      `User: ${callerArn(ctx)} is not authorized to perform: sts:AssumeRole on resource: ${roleArn} (the ` +
        `sandbox's role is ${sandboxRoleArn(ctx.accountId)})`,
      403,
    );
  }
  const durationText = params.get('DurationSeconds');
  const duration = durationText === null ? ASSUME_ROLE_DURATION.default : Number(durationText);
  if (!Number.isInteger(duration) || duration < ASSUME_ROLE_DURATION.min || duration > ASSUME_ROLE_DURATION.max) {
    throw new AwsError(
      'ValidationError',
      `The requested DurationSeconds exceeds the MaxSessionDuration set for this role (allowed ` +
        `${ASSUME_ROLE_DURATION.min}..${ASSUME_ROLE_DURATION.max}).`,
    );
  }
  const session = sessions.issue(roleArn, sessionName, lifetimeOverrideS > 0 ? lifetimeOverrideS : duration);
  return (
    `${XML_DECLARATION}<AssumeRoleResponse xmlns="${STS_XMLNS}"><AssumeRoleResult>` +
    `<Credentials>${el('AccessKeyId', session.accessKeyId)}${el('SecretAccessKey', session.secretAccessKey)}` +
    `${el('SessionToken', session.sessionToken)}` +
    `${el('Expiration', new Date(session.expiresAtMs).toISOString())}</Credentials>` +
    `<AssumedRoleUser>${el('AssumedRoleId', `${roleId(ctx)}:${sessionName}`)}` +
    `${el('Arn', assumedRoleArn(ctx, session))}</AssumedRoleUser>` +
    `</AssumeRoleResult><ResponseMetadata>${el('RequestId', requestId)}</ResponseMetadata></AssumeRoleResponse>`
  );
}

export function getResources(input: Record<string, unknown>, ctx: IdentityContext) {
  const types = (input.ResourceTypeFilters as string[] | undefined) ?? [];
  const tagFilters = (input.TagFilters as Array<{ Key: string; Values?: string[] }> | undefined) ?? [];
  const arnList = (input.ResourceARNList as string[] | undefined) ?? [];
  if (arnList.length > 0 && (types.length > 0 || tagFilters.length > 0)) {
    throw new AwsError(
      'InvalidParameterException',
      'ResourceARNList cannot be combined with ResourceTypeFilters or TagFilters.',
    );
  }
  const size = pageSize(input.ResourcesPerPage, GET_RESOURCES_PAGE, 'resourcesPerPage');
  const arnOf = (i: SandboxInstance) => `arn:aws:ec2:${ctx.region}:${ctx.accountId}:instance/${i.instanceId}`;
  const wantsInstances = types.length === 0 || types.some((t) => t === 'ec2' || t === 'ec2:instance');
  const matching = ctx.instances.filter((instance) => {
    if (arnList.length > 0) return arnList.includes(arnOf(instance));
    if (!wantsInstances) return false;
    return tagFilters.every(
      (f) => f.Key in instance.tags && (!f.Values?.length || f.Values.includes(instance.tags[f.Key])),
    );
  });
  const start = decodePageToken(input.PaginationToken);
  const page = matching.slice(start, start + size);
  return {
    PaginationToken: start + size < matching.length ? encodePageToken(start + size) : '',
    ResourceTagMappingList: page.map((i) => ({
      ResourceARN: arnOf(i),
      Tags: Object.entries(i.tags).map(([Key, Value]) => ({ Key, Value })),
    })),
  };
}
