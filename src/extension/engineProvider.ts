// The engine, loaded on first use. dist/engine.js carries the AWS SDK (about a megabyte); loading
// it lazily keeps activate() cheap and means a window that never runs anything never pays for it.
import type { Engine, EngineSettings } from '../core/frontEnd';

/** The part of dist/engine.js the extension uses. */
export interface EngineModule {
  createEngine(settings: EngineSettings): Engine;
}

export class EngineProvider {
  private current?: Engine;
  /** Engines replaced after a settings change; runs they follow keep going, so they are disposed at the end. */
  private readonly retired: Engine[] = [];
  private module?: EngineModule;

  constructor(
    private readonly load: () => EngineModule,
    private readonly settings: () => EngineSettings,
  ) {}

  get loaded(): boolean {
    return this.module !== undefined;
  }

  get(): Engine {
    if (!this.current) {
      this.module ??= this.load();
      this.current = this.module.createEngine(this.settings());
    }
    return this.current;
  }

  /** Settings changed: the next get() builds an engine with the new ones. */
  reset(): void {
    if (this.current) this.retired.push(this.current);
    this.current = undefined;
  }

  dispose(): void {
    this.reset();
    for (const engine of this.retired.splice(0)) engine.dispose();
  }
}
