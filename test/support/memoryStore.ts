// VS Code's Memento for unit tests: values are stored as JSON, as VS Code stores them, so nothing
// survives that JSON cannot carry.
import type { KeyValueStore } from '../../src/extension/history';

export class MemoryStore implements KeyValueStore {
  readonly values = new Map<string, unknown>();
  get<T>(key: string): T | undefined {
    const v = this.values.get(key);
    return v === undefined ? undefined : (JSON.parse(JSON.stringify(v)) as T);
  }
  async update(key: string, value: unknown): Promise<void> {
    // As VS Code's Memento: storing undefined removes the key.
    if (value === undefined) this.values.delete(key);
    else this.values.set(key, JSON.parse(JSON.stringify(value)));
  }
}
