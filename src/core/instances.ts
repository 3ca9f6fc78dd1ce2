// SSM-managed instances with their Name tags.
import {
  DescribeInstanceInformationCommand,
  type InstanceInformation,
  type InstanceInformationStringFilter,
} from '@aws-sdk/client-ssm';
import { GetResourcesCommand } from '@aws-sdk/client-resource-groups-tagging-api';
import type { ManagedInstance } from './api';
import type { AwsClients } from './clients';

export interface ListInstancesOptions {
  pingStatus?: string[];
  instanceIds?: string[];
  /** Only instances carrying every one of these tags (SSM tag filters; cannot be combined with the others). */
  tags?: Array<{ key: string; value: string }>;
}

const FILTER_VALUES_PER_CALL = 50;

function filtersFor(options: ListInstancesOptions, instanceIds?: string[]): InstanceInformationStringFilter[] {
  if (options.tags?.length) return options.tags.map((t) => ({ Key: `tag:${t.key}`, Values: [t.value] }));
  const filters: InstanceInformationStringFilter[] = [];
  if (instanceIds?.length) filters.push({ Key: 'InstanceIds', Values: instanceIds });
  if (options.pingStatus?.length) filters.push({ Key: 'PingStatus', Values: options.pingStatus });
  return filters;
}

async function describeAll(
  clients: AwsClients,
  filters: InstanceInformationStringFilter[],
): Promise<InstanceInformation[]> {
  const all: InstanceInformation[] = [];
  let nextToken: string | undefined;
  do {
    const page = await clients.ssm.send(
      new DescribeInstanceInformationCommand({
        MaxResults: 50,
        NextToken: nextToken,
        Filters: filters.length ? filters : undefined,
      }),
    );
    all.push(...(page.InstanceInformationList ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  return all;
}

function toManagedInstance(info: InstanceInformation): ManagedInstance {
  return {
    instanceId: info.InstanceId ?? '',
    name: info.Name || undefined,
    pingStatus: info.PingStatus ?? 'Unknown',
    platformType: info.PlatformType,
    platformName: info.PlatformName,
    platformVersion: info.PlatformVersion,
    ipAddress: info.IPAddress,
    computerName: info.ComputerName,
    agentVersion: info.AgentVersion,
    lastPingDateTime: info.LastPingDateTime,
  };
}

/** Tags of EC2 instances by instance id, from the Resource Groups Tagging API (SSM has no tags). */
export async function instanceTags(clients: AwsClients): Promise<Map<string, Record<string, string>>> {
  const byId = new Map<string, Record<string, string>>();
  let token: string | undefined;
  do {
    const page = await clients.tagging.send(
      new GetResourcesCommand({
        ResourceTypeFilters: ['ec2:instance'],
        ResourcesPerPage: 100,
        PaginationToken: token || undefined,
      }),
    );
    for (const mapping of page.ResourceTagMappingList ?? []) {
      const id = mapping.ResourceARN?.split('/').pop();
      if (!id) continue;
      byId.set(id, Object.fromEntries((mapping.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])));
    }
    token = page.PaginationToken;
  } while (token);
  return byId;
}

/** DescribeInstanceInformation (pages of 50), without tags. */
export async function describeManagedInstances(
  clients: AwsClients,
  options: ListInstancesOptions = {},
): Promise<ManagedInstance[]> {
  const infos: InstanceInformation[] = [];
  if (options.instanceIds?.length && !options.tags?.length) {
    for (let i = 0; i < options.instanceIds.length; i += FILTER_VALUES_PER_CALL) {
      infos.push(
        ...(await describeAll(clients, filtersFor(options, options.instanceIds.slice(i, i + FILTER_VALUES_PER_CALL)))),
      );
    }
  } else {
    infos.push(...(await describeAll(clients, filtersFor(options))));
  }
  return infos.map(toManagedInstance);
}

/**
 * Managed instances joined with their EC2 tags. Tags are best effort: without
 * tag:GetResources permission the list still comes back, only without names.
 */
export async function listManagedInstances(
  clients: AwsClients,
  options: ListInstancesOptions = {},
): Promise<ManagedInstance[]> {
  const [instances, tags] = await Promise.all([
    describeManagedInstances(clients, options),
    instanceTags(clients).catch(() => undefined),
  ]);
  for (const instance of instances) {
    const own = tags?.get(instance.instanceId);
    if (!own) continue;
    instance.tags = own;
    instance.name = own.Name || instance.name;
  }
  return instances.sort(
    (a, b) => (a.name ?? '\uffff').localeCompare(b.name ?? '\uffff') || a.instanceId.localeCompare(b.instanceId),
  );
}
