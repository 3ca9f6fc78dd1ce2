// The instances of a followed run, shared by the loop's two machines (live follower, SSM checker):
// what is known of each (InstanceProgress), and the listeners that hear of their output and status.
import type { Listener, OutputChunk, RunStatusUpdate, Subscription } from './api';
import { RunOutputStores } from './outputStore';
import { InstanceProgress } from './progress';

export class RunInstances {
  private readonly byId = new Map<string, InstanceProgress>();
  private readonly outputListeners = new Set<Listener<OutputChunk>>();
  private readonly statusListeners = new Set<Listener<RunStatusUpdate>>();

  /** `targeted`: the instances the caller named (instance targets), confirmed from the start. */
  constructor(
    targeted: readonly string[],
    private readonly stores = new RunOutputStores('unknown-command'),
  ) {
    for (const id of targeted) this.byId.set(id, new InstanceProgress(id, true, stores.create(id)));
  }

  get size(): number {
    return this.byId.size;
  }

  all(): InstanceProgress[] {
    return [...this.byId.values()];
  }

  get(instanceId: string): InstanceProgress | undefined {
    return this.byId.get(instanceId);
  }

  /** The instance's progress; an instance first heard of (live key, SSM listing) is added unconfirmed. */
  instance(instanceId: string): InstanceProgress {
    let p = this.byId.get(instanceId);
    if (!p) this.byId.set(instanceId, (p = new InstanceProgress(instanceId, false, this.stores.create(instanceId))));
    return p;
  }

  confirmedCount(): number {
    let count = 0;
    for (const p of this.byId.values()) if (p.confirmed) count++;
    return count;
  }

  onOutput(listener: Listener<OutputChunk>): Subscription {
    this.outputListeners.add(listener);
    return { dispose: () => this.outputListeners.delete(listener) };
  }

  onStatus(listener: Listener<RunStatusUpdate>): Subscription {
    this.statusListeners.add(listener);
    return { dispose: () => this.statusListeners.delete(listener) };
  }

  setStatus(p: InstanceProgress, status: string, statusDetails: string): void {
    if (p.status === status && p.statusDetails === statusDetails) return;
    p.status = status;
    p.statusDetails = statusDetails;
    notify(this.statusListeners, { instanceId: p.instanceId, status, statusDetails });
  }

  emitOutput(chunk: OutputChunk): void {
    notify(this.outputListeners, chunk);
  }
}

function notify<T>(listeners: ReadonlySet<Listener<T>>, value: T): void {
  for (const listener of [...listeners]) {
    try {
      listener(value);
    } catch {
      // A listener's bug must not break the run.
    }
  }
}
