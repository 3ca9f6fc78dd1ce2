// The sandbox's account and credentials: generated once per data dir (file mode 0600), so two
// sandboxes never share a secret and a restart on the same data dir keeps working credentials.
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SandboxIdentity {
  accountId: string;
  userId: string;
  accessKeyId: string;
  secretAccessKey: string;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function randomText(alphabet: string, length: number): string {
  return Array.from(randomBytes(length), (b) => alphabet[b % alphabet.length]).join('');
}

export function loadIdentity(dataDir: string): SandboxIdentity {
  const file = join(dataDir, 'identity.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as SandboxIdentity;
  const identity: SandboxIdentity = {
    accountId: String(randomInt(100_000_000_000, 999_999_999_999)),
    userId: `AIDA${randomText(BASE32, 17)}`,
    accessKeyId: `AKIA${randomText(BASE32, 16)}`,
    secretAccessKey: randomBytes(30).toString('base64'),
  };
  writeFileSync(file, JSON.stringify(identity, null, 2), { mode: 0o600 });
  return identity;
}
