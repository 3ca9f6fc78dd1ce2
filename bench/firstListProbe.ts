// Child process: from a fresh Node process, time to the first instance list through the engine
// bundle (dist/engine.js), including loading the engine and the AWS SDK lazily.
// Usage: node firstListProbe.js <dist/engine.js> <settings JSON>
import { performance } from 'node:perf_hooks';
import type * as EngineModule from '../src/core';
import { reportJson } from './childJson';

async function main(): Promise<void> {
  const [enginePath, settingsJson] = process.argv.slice(2);
  const t0 = performance.now();
  const { createEngine } = require(enginePath) as typeof EngineModule;
  const t1 = performance.now();
  const engine = createEngine(JSON.parse(settingsJson));
  const instances = await engine.listInstances();
  const t2 = performance.now();
  engine.dispose();
  reportJson({
    requireMs: t1 - t0,
    firstListMs: t2 - t0,
    instances: instances.length,
    processUptimeMs: process.uptime() * 1000,
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`first-list probe failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
