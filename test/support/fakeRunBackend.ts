// Fakes for unit-testing the wait policy: a virtual clock and a scripted RunBackend that counts calls.
// Time only moves when the code under test sleeps, so nothing depends on real timing.
import type { ManagedInstance } from '../../src/core/api';
import type { RunBackend, SsmCommand, SsmInvocation } from '../../src/core/backend';
import type { Clock } from '../../src/core/clock';
import { chunkKey, encodeFrames, type Frame } from '../../src/core/remote';

export class FakeClock implements Clock {
  nowMs = 0;
  private lastReadMs = 0;
  private readsAtOneInstant = 0;
  // Both limits make a mutant that breaks the run loop fail its test fast instead of hanging it (a mutation run counts
  // a hang as a timeout, 10-30 s each, and the TAP runner's bail does not stop a file at a failure inside a describe):
  // a loop that never ends runs to limitMs of virtual time (5 min: every unit test ends sooner; it was 1 h, and
  // core-wait-policy took 23 s instead of 5 under such a mutant), and one that never sleeps never moves this clock
  // (the unit tests, the 200-instance fleet included, read it at most 20,000 times at one instant).
  constructor(private readonly limitMs = 300_000) {}
  now(): number {
    if (this.nowMs !== this.lastReadMs) {
      this.lastReadMs = this.nowMs;
      this.readsAtOneInstant = 0;
    } else if (++this.readsAtOneInstant > 50_000) {
      throw new Error(`fake clock read 50,000 times at ${this.nowMs} ms: the loop spins without sleeping`);
    }
    return this.nowMs;
  }
  async sleep(ms: number): Promise<void> {
    this.nowMs += Math.max(0, ms);
    if (this.nowMs > this.limitMs) throw new Error(`fake clock passed ${this.limitMs} ms: the loop never ended`);
    await Promise.resolve();
  }
}

export interface StatusStep {
  /** Virtual time from which this status holds. */
  from: number;
  status: string;
  statusDetails?: string;
  responseCode?: number;
  stdout?: string;
  stderr?: string;
}

export interface FakeInstance {
  instanceId: string;
  /** Live-output objects, visible from `at` (ms); seq = index unless given. */
  chunks?: Array<{ at: number; frames: Frame[]; seq?: number }>;
  /** SSM's view over time (the last step whose `from` has passed applies). Before the first: InvocationDoesNotExist. */
  ssm: StatusStep[];
  pingStatus?: string;
  /** How long SSM takes to show Cancelled after CancelCommand. */
  cancelLagMs?: number;
  /** Keys only: objects forged under the run's prefix for an instance SSM never targeted (not counted by SSM). */
  forged?: boolean;
}

export const RUN_PREFIX = 'ec2-runner/runs/0123456789abcdef/';
export const BUCKET = 'test-bucket';

type CallName = keyof RunBackend;
type KeyedChunk = { at: number; frames: Frame[]; key: string };

export class FakeRunBackend implements RunBackend {
  readonly calls: Record<CallName, number> = {
    getInvocation: 0,
    listInvocations: 0,
    getCommand: 0,
    cancel: 0,
    pingStatus: 0,
    listKeys: 0,
    getObject: 0,
    getObjectIfExists: 0,
  };
  readonly cancels: Array<{ at: number; instanceIds?: string[] }> = [];
  /** Every call with its virtual time (calls of one round share a time: only sleeping moves the clock). */
  readonly log: Array<{ at: number; name: CallName }> = [];
  /** Called before every call, e.g. to cancel at a given time. */
  onCall?: (name: CallName) => void | Promise<void>;
  /** Makes one call fail with this error. */
  failures: Partial<Record<CallName, unknown>> = {};
  private readonly cancelledAt = new Map<string, number>();
  private readonly keyedChunks = new WeakMap<object, KeyedChunk[]>();

  constructor(
    private readonly clock: FakeClock,
    readonly instances: FakeInstance[],
    private readonly command: Partial<SsmCommand> = {},
  ) {}

  ssmCalls(): number {
    const c = this.calls;
    return c.getInvocation + c.listInvocations + c.getCommand + c.cancel + c.pingStatus;
  }

  private async enter(name: CallName): Promise<void> {
    this.calls[name]++;
    this.log.push({ at: this.clock.now(), name });
    await this.onCall?.(name);
    const failure = this.failures[name];
    if (failure) throw failure;
  }

  private find(instanceId: string): FakeInstance {
    const instance = this.instances.find((i) => i.instanceId === instanceId);
    if (!instance) throw Object.assign(new Error('no such instance'), { name: 'InvocationDoesNotExist' });
    return instance;
  }

  private stateOf(instance: FakeInstance): SsmInvocation | undefined {
    const now = this.clock.now();
    const cancelledAt = this.cancelledAt.get(instance.instanceId);
    if (cancelledAt !== undefined && now >= cancelledAt + (instance.cancelLagMs ?? 300)) {
      return {
        instanceId: instance.instanceId,
        status: 'Cancelled',
        statusDetails: 'Cancelled',
        responseCode: -1,
        stdout: '',
        stderr: '',
      };
    }
    const step = instance.ssm
      .filter((s) => s.from <= now && (cancelledAt === undefined || s.from <= cancelledAt))
      .pop();
    if (!step) return undefined;
    return {
      instanceId: instance.instanceId,
      status: step.status,
      statusDetails: step.statusDetails ?? step.status,
      responseCode: step.responseCode ?? -1,
      stdout: step.stdout ?? '',
      stderr: step.stderr ?? '',
    };
  }

  private visibleChunks(instance: FakeInstance): KeyedChunk[] {
    const cancelledAt = this.cancelledAt.get(instance.instanceId) ?? Infinity;
    return this.keyed(instance).filter((c) => c.at <= this.clock.now() && c.at <= cancelledAt);
  }

  /** An instance's chunks with their keys, in key order (kept while a test does not replace its `chunks`). */
  private keyed(instance: FakeInstance): KeyedChunk[] {
    const chunks = instance.chunks ?? [];
    let keyed = this.keyedChunks.get(chunks);
    if (!keyed) {
      keyed = chunks
        .map((c, index) => ({
          at: c.at,
          frames: c.frames,
          key: chunkKey(RUN_PREFIX, instance.instanceId, c.seq ?? index),
        }))
        .sort((a, b) => a.key.localeCompare(b.key));
      this.keyedChunks.set(chunks, keyed);
    }
    return keyed;
  }

  async getInvocation(_commandId: string, instanceId: string): Promise<SsmInvocation | undefined> {
    await this.enter('getInvocation');
    return this.stateOf(this.find(instanceId));
  }

  async listInvocations(): Promise<SsmInvocation[]> {
    await this.enter('listInvocations');
    return this.instances
      .map((i) => this.stateOf(i))
      .filter((s): s is SsmInvocation => s !== undefined)
      .map(({ stdout: _o, stderr: _e, ...rest }) => rest);
  }

  async getCommand(commandId: string): Promise<SsmCommand | undefined> {
    await this.enter('getCommand');
    const targets = this.instances.filter((i) => !i.forged);
    const states = targets.map((i) => this.stateOf(i));
    const done = states.filter(
      (s) => s && ['Success', 'Failed', 'Cancelled', 'TimedOut', 'Undeliverable'].includes(s.status),
    );
    const known = states.filter(Boolean).length;
    return {
      commandId,
      status: known > 0 && done.length === targets.length ? 'Success' : known > 0 ? 'InProgress' : 'Pending',
      statusDetails: '',
      targetCount: known > 0 ? targets.length : 0,
      completedCount: done.length,
      errorCount: 0,
      instanceIds: [],
      tagTargets: [],
      commands: [],
      ...this.command,
    };
  }

  async cancel(_commandId: string, instanceIds?: string[]): Promise<void> {
    await this.enter('cancel');
    this.cancels.push({ at: this.clock.now(), instanceIds });
    for (const instance of this.instances) {
      if (!instanceIds || instanceIds.includes(instance.instanceId)) {
        if (!this.cancelledAt.has(instance.instanceId)) this.cancelledAt.set(instance.instanceId, this.clock.now());
      }
    }
  }

  async pingStatus(instanceIds: string[]): Promise<ManagedInstance[]> {
    await this.enter('pingStatus');
    return this.instances
      .filter((i) => instanceIds.includes(i.instanceId) && i.pingStatus !== undefined)
      .map((i) => ({ instanceId: i.instanceId, pingStatus: i.pingStatus! }));
  }

  async listKeys(_bucket: string, prefix: string, startAfter?: string): Promise<string[]> {
    await this.enter('listKeys');
    return this.instances
      .flatMap((i) => this.visibleChunks(i).map((c) => c.key))
      .filter((key) => key.startsWith(prefix) && (startAfter === undefined || key > startAfter))
      .sort();
  }

  async getObject(_bucket: string, key: string): Promise<Uint8Array> {
    await this.enter('getObject');
    const object = this.visibleObject(key);
    if (object) return object;
    throw Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey' });
  }

  async getObjectIfExists(_bucket: string, key: string): Promise<Uint8Array | undefined> {
    await this.enter('getObjectIfExists');
    return this.visibleObject(key);
  }

  /** Only the instances whose key prefix matches are looked at: a 200-instance fleet test makes thousands of GETs. */
  private visibleObject(key: string): Uint8Array | undefined {
    const instanceId = key.slice(RUN_PREFIX.length, key.lastIndexOf('/'));
    for (const instance of this.instances) {
      if (instance.instanceId !== instanceId || !key.startsWith(RUN_PREFIX)) continue;
      const chunk = this.visibleChunks(instance).find((c) => c.key === key);
      if (chunk) return encodeFrames(chunk.frames);
    }
    return undefined;
  }
}

const text = (s: string) => new TextEncoder().encode(s);

/** Frames for a typical script: start, some stdout, exit. */
export function scriptFrames(stdout: string, exitCode = 0): Frame[][] {
  return [
    [
      { type: 'start', info: { pid: 42 } },
      { type: 'stdout', data: text(stdout) },
    ],
    [{ type: 'exit', exitCode }],
  ];
}

export { text };
