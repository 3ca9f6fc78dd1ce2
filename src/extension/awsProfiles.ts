// Profile names from the shared AWS config and credentials files, for the profile quick pick.
// Only section names are read: no key or secret ever leaves these files through here.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** `[profile x]` in config, `[x]` in credentials; `[default]` in both; `[sso-session x]` and `[services x]` are not profiles. */
export function profileNamesIn(text: string, isConfigFile: boolean): string[] {
  const names: string[] = [];
  for (const match of text.matchAll(/^\s*\[([^\]]+)\]\s*$/gm)) {
    const section = match[1].trim();
    if (isConfigFile) {
      if (section === 'default') names.push(section);
      else if (section.startsWith('profile ')) names.push(section.slice('profile '.length).trim());
    } else {
      names.push(section);
    }
  }
  return names;
}

export async function listProfiles(env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const home = homedir();
  const files: Array<[string, boolean]> = [
    [env.AWS_CONFIG_FILE || join(home, '.aws', 'config'), true],
    [env.AWS_SHARED_CREDENTIALS_FILE || join(home, '.aws', 'credentials'), false],
  ];
  const names = new Set<string>();
  for (const [file, isConfig] of files) {
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const name of profileNamesIn(text, isConfig)) names.add(name);
  }
  return [...names].sort();
}

/** Regions offered in the region quick pick (any other can be typed). */
export const COMMON_REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'ca-central-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-central-1',
  'eu-north-1',
  'ap-south-1',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'sa-east-1',
];
