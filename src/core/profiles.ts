// AWS profiles as the shared config files name them: which exist, whether a name is one we accept.
// Only section names are read: no key or secret leaves these files through here.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * `[profile x]` in config, `[x]` in credentials; `[default]` in both; `[sso-session x]` and `[services x]` are not
 * profiles.
 */
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

/** The shared config and credentials files the SDK and the AWS CLI read, with whether each is the config file. */
export function sharedConfigFiles(env: NodeJS.ProcessEnv = process.env): Array<{ file: string; isConfig: boolean }> {
  return [
    { file: env.AWS_CONFIG_FILE || join(homedir(), '.aws', 'config'), isConfig: true },
    { file: env.AWS_SHARED_CREDENTIALS_FILE || join(homedir(), '.aws', 'credentials'), isConfig: false },
  ];
}

/** Every profile name in the shared files, sorted (a missing file contributes none). */
export function listProfiles(env: NodeJS.ProcessEnv = process.env): string[] {
  const names = new Set<string>();
  for (const { file, isConfig } of sharedConfigFiles(env)) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // No such file: no profiles from it.
    }
    for (const name of profileNamesIn(text, isConfig)) names.add(name);
  }
  return [...names].sort();
}

/**
 * Profile names we pass on (to the SDK, to a terminal's environment): the characters real profile
 * names use. Anything else (quotes, `;`, `$`, spaces, newlines) is refused rather than escaped.
 */
export function isValidProfileName(name: string): boolean {
  return /^[A-Za-z0-9_.@+:/-]{1,128}$/.test(name);
}

/** One line saying a profile does not exist and which files were read (for the CLI and the extension). */
export function missingProfileMessage(profile: string, env: NodeJS.ProcessEnv = process.env): string {
  const files = sharedConfigFiles(env).map((f) => f.file);
  const known = listProfiles(env);
  const shown = `${known.slice(0, 8).join(', ')}${known.length > 8 ? ', …' : ''}`;
  return (
    `The AWS profile "${profile}" does not exist (read ${files.join(' and ')}; ` +
    `${known.length ? `profiles there: ${shown}` : 'no profiles there'}): ` +
    `check the name, or create it with \`aws configure --profile ` +
    `${isValidProfileName(profile) ? profile : 'NAME'}\`.`
  );
}
