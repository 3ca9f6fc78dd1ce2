// The set-up every engine test file shares: one sandbox and one engine on it (real SDK clients). Call
// at module level: the sandbox starts at once, the engine is disposed after the file's tests and the
// sandbox stopped after that (withSandbox registers its stop with node:test's root `after`).
import { after } from 'node:test';
import { createEngine, type Engine } from '../../src/core';
import type { SandboxOptions } from '../../src/sandbox/index';
import { withSandbox, type SandboxFixture } from './sandbox';

export interface EngineOnSandbox {
  fx: SandboxFixture;
  engine: Engine;
}

export function engineOnSandbox(options: SandboxOptions = {}): Promise<EngineOnSandbox> {
  const ready = withSandbox(options).then((fx) => ({ fx, engine: createEngine(fx.engineSettings) }));
  after(() =>
    ready.then(
      ({ engine }) => engine.dispose(),
      () => undefined,
    ),
  );
  return ready;
}
