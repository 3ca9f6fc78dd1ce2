// STS GetCallerIdentity (awsQuery, XML answer) and Resource Groups Tagging API GetResources
// (awsJson1.1), which is where Name tags come from (DescribeInstanceInformation has none for EC2).
import { AwsError } from './errors';
import type { SandboxInstance } from './fleet';
import { GET_RESOURCES_PAGE } from './limits';
import { decodePageToken, encodePageToken, pageSize } from './paging';
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

export function getCallerIdentity(ctx: IdentityContext, requestId: string): string {
  return `${XML_DECLARATION}<GetCallerIdentityResponse xmlns="${STS_XMLNS}"><GetCallerIdentityResult>` +
    `${el('Arn', callerArn(ctx))}${el('UserId', ctx.userId)}${el('Account', ctx.accountId)}` +
    `</GetCallerIdentityResult><ResponseMetadata>${el('RequestId', requestId)}</ResponseMetadata></GetCallerIdentityResponse>`;
}

export function getResources(input: Record<string, unknown>, ctx: IdentityContext) {
  const types = (input.ResourceTypeFilters as string[] | undefined) ?? [];
  const tagFilters = (input.TagFilters as Array<{ Key: string; Values?: string[] }> | undefined) ?? [];
  const arnList = (input.ResourceARNList as string[] | undefined) ?? [];
  if (arnList.length > 0 && (types.length > 0 || tagFilters.length > 0)) {
    throw new AwsError('InvalidParameterException', 'ResourceARNList cannot be combined with ResourceTypeFilters or TagFilters.');
  }
  const size = pageSize(input.ResourcesPerPage, GET_RESOURCES_PAGE, 'resourcesPerPage');
  const arnOf = (i: SandboxInstance) => `arn:aws:ec2:${ctx.region}:${ctx.accountId}:instance/${i.instanceId}`;
  const wantsInstances = types.length === 0 || types.some((t) => t === 'ec2' || t === 'ec2:instance');
  const matching = ctx.instances.filter((instance) => {
    if (arnList.length > 0) return arnList.includes(arnOf(instance));
    if (!wantsInstances) return false;
    return tagFilters.every((f) => f.Key in instance.tags && (!f.Values?.length || f.Values.includes(instance.tags[f.Key])));
  });
  const start = decodePageToken(input.PaginationToken);
  const page = matching.slice(start, start + size);
  return {
    PaginationToken: start + size < matching.length ? encodePageToken(start + size) : '',
    ResourceTagMappingList: page.map((i) => ({ ResourceARN: arnOf(i), Tags: Object.entries(i.tags).map(([Key, Value]) => ({ Key, Value })) })),
  };
}
