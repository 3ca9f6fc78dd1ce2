// The sandbox's managed instances. Each one's "disk" is a directory tree under the data dir; the
// fleet is saved there so a restart on the same data dir keeps the same instance ids.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type PingStatus = 'Online' | 'ConnectionLost';

export interface SandboxInstance {
  instanceId: string;
  name?: string;
  pingStatus: PingStatus;
  platformType: 'Linux';
  platformName: string;
  platformVersion: string;
  agentVersion: string;
  ipAddress: string;
  computerName: string;
  tags: Record<string, string>;
  registeredAt: number;
  lastPingAt: number;
  /** Default working directory of commands (the agent's own cwd on a real instance). */
  rootDir: string;
  tmpDir: string;
  homeDir: string;
  /** Where the "agent" keeps each command's script and output, like /var/lib/amazon/ssm/<id>/document/orchestration. */
  orchestrationDir: string;
}

export const DEFAULT_INSTANCE_COUNT = 3;
const AGENT_VERSION = '3.3.1142.0';

interface SavedInstance {
  instanceId: string;
  name?: string;
  pingStatus: PingStatus;
  tags: Record<string, string>;
  registeredAt: number;
}

/**
 * Default shape: every instance Online and tagged Name=sandbox-N, Role=worker, except, from 3
 * instances on, the last one: ConnectionLost, Name=sandbox-offline, Role=offline.
 */
function planFleet(count: number): SavedInstance[] {
  const now = Date.now();
  return Array.from({ length: count }, (_, index) => {
    const offline = count >= DEFAULT_INSTANCE_COUNT && index === count - 1;
    const name = offline ? 'sandbox-offline' : `sandbox-${index + 1}`;
    return {
      instanceId: `i-${randomBytes(9).toString('hex').slice(0, 17)}`,
      name,
      pingStatus: offline ? 'ConnectionLost' : 'Online',
      tags: { Name: name, Role: offline ? 'offline' : 'worker', Environment: 'sandbox' },
      registeredAt: now,
    };
  });
}

export function loadFleet(dataDir: string, count: number, region: string): SandboxInstance[] {
  const file = join(dataDir, 'fleet.json');
  let saved: SavedInstance[] | undefined;
  if (existsSync(file)) {
    saved = JSON.parse(readFileSync(file, 'utf8')) as SavedInstance[];
    if (saved.length !== count) saved = undefined;
  }
  if (!saved) {
    saved = planFleet(count);
    writeFileSync(file, JSON.stringify(saved, null, 2));
  }
  return saved.map((s, index) => {
    const rootDir = join(dataDir, 'instances', s.instanceId);
    const instance: SandboxInstance = {
      ...s,
      platformType: 'Linux',
      platformName: 'Amazon Linux',
      platformVersion: '2023',
      agentVersion: AGENT_VERSION,
      ipAddress: `10.0.${Math.floor(index / 250)}.${(index % 250) + 4}`,
      computerName: `ip-10-0-${Math.floor(index / 250)}-${(index % 250) + 4}.${region}.compute.internal`,
      lastPingAt: Date.now(),
      rootDir,
      tmpDir: join(rootDir, 'tmp'),
      homeDir: join(rootDir, 'home'),
      // The agent's layout: the instance id is part of every script's path.
      orchestrationDir: join(rootDir, 'var', 'lib', 'amazon', 'ssm', s.instanceId, 'document', 'orchestration'),
    };
    for (const dir of [instance.tmpDir, instance.homeDir, instance.orchestrationDir])
      mkdirSync(dir, { recursive: true });
    return instance;
  });
}
