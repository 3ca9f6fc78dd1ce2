// EngineSettings from global options; the SDK itself reads AWS_PROFILE, AWS_REGION, credentials
// and shared config, and the engine reads EC2_RUNNER_BUCKET and EC2_RUNNER_KMS_KEY_ID.
import { createEngine, RunnerError, type Engine, type EngineSettings } from '../core';
import { isValidProfileName } from '../core/profiles';
import type { ParsedArgs } from './args';
import { UsageError } from './usageError';

export function settingsFrom(values: ParsedArgs['values'], env: NodeJS.ProcessEnv = process.env): EngineSettings {
  const endpointUrl = values['endpoint-url'] ?? (env.AWS_ENDPOINT_URL || undefined);
  if (endpointUrl !== undefined)
    checkEndpointUrl(endpointUrl, values['endpoint-url'] !== undefined ? '--endpoint-url' : 'AWS_ENDPOINT_URL');
  if (values.profile !== undefined && !isValidProfileName(values.profile)) {
    throw new UsageError(
      `--profile "${values.profile}" is not a profile name (letters, digits and _ . @ + : / - only).`,
    );
  }
  return {
    profile: values.profile,
    region: values.region,
    endpointUrl,
    bucket: values.bucket,
    kmsKeyId: values['kms-key-id'],
  };
}

/** An endpoint is an http(s) URL with a host; anything else is named as what it is. */
function checkEndpointUrl(value: string, source: string): void {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || !/^https?:$/.test(url.protocol) || !url.hostname) {
    const message =
      `${source} "${value}" is not a valid endpoint URL: give http(s)://HOST[:PORT], e.g. ` + `http://127.0.0.1:4566.`;
    if (source.startsWith('--')) throw new UsageError(message);
    throw new RunnerError(message, 'InvalidEndpoint');
  }
}

/** Runs `use` with an engine and always releases its connections. */
export async function withEngine<T>(values: ParsedArgs['values'], use: (engine: Engine) => Promise<T>): Promise<T> {
  const engine = createEngine(settingsFrom(values));
  try {
    return await use(engine);
  } finally {
    engine.dispose();
  }
}
