// EngineSettings from global options; the SDK itself reads AWS_PROFILE, AWS_REGION, credentials
// and shared config, and the engine reads EC2_RUNNER_BUCKET.
import { createEngine, type Engine, type EngineSettings } from '../core';
import type { ParsedArgs } from './args';

export function settingsFrom(values: ParsedArgs['values'], env: NodeJS.ProcessEnv = process.env): EngineSettings {
  return {
    profile: values.profile,
    region: values.region,
    endpointUrl: values['endpoint-url'] ?? (env.AWS_ENDPOINT_URL || undefined),
    bucket: values.bucket,
  };
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
