// Run history persistence and the run controller (start, live output, completion, cancel,
// detach and re-attach), with a fake engine and an in-memory store.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Listener, OutputChunk, RunHandle, RunRequest, RunResult, RunStatusUpdate } from '../../src/core/api';
import { EngineProvider } from '../../src/extension/engineProvider';
import { HISTORY_KEY, RunHistory, type RunRecord } from '../../src/extension/history';
import { ChannelBudget, channelTrimmedLine } from '../../src/extension/channelBudget';
import { RunController, type RunSpec } from '../../src/extension/runController';
import { RunTranscripts, type TranscriptLimits } from '../../src/extension/runTranscripts';
import { DefaultTarget } from '../../src/extension/targets';
import { MemoryStore } from '../support/memoryStore';

/** A RunHandle driven by the test: emit output and status, then finish with a result. */
class FakeHandle implements RunHandle {
  readonly output = new Set<Listener<OutputChunk>>();
  readonly status = new Set<Listener<RunStatusUpdate>>();
  cancelled = 0;
  detached = false;
  private finishRun!: (r: RunResult) => void;
  private readonly done = new Promise<RunResult>((resolve) => (this.finishRun = resolve));
  constructor(
    readonly commandId: string,
    readonly instanceIds: string[] = ['i-0aaaaaaaaaaaaaaaa'],
    readonly outputLocation?: string,
  ) {}
  onOutput(l: Listener<OutputChunk>) {
    this.output.add(l);
    return { dispose: () => this.output.delete(l) };
  }
  onStatus(l: Listener<RunStatusUpdate>) {
    this.status.add(l);
    return { dispose: () => this.status.delete(l) };
  }
  emit(stream: 'stdout' | 'stderr', text: string) {
    for (const l of this.output) l({ instanceId: this.instanceIds[0], stream, data: new TextEncoder().encode(text) });
  }
  finish(status: string, exitCode: number | null, extra: object = {}) {
    this.finishRun({
      commandId: this.commandId,
      invocations: [
        {
          instanceId: this.instanceIds[0],
          status,
          statusDetails: status,
          exitCode,
          stdout: '',
          stderr: '',
          result: null,
          outputSource: 'live',
          ...extra,
        },
      ],
    });
  }
  wait() {
    return this.done;
  }
  async cancel() {
    this.cancelled++;
    this.finish('Cancelled', null, { reason: 'cancelled by the user' });
  }
  detach() {
    this.detached = true;
    this.finishRun({ commandId: this.commandId, invocations: [] });
  }
}

function setup(options: { startError?: Error; channelBudget?: ChannelBudget } = {}) {
  const store = new MemoryStore();
  const history = new RunHistory(store);
  let text = '';
  const shown: boolean[] = [];
  const handles: FakeHandle[] = [];
  const requests: RunRequest[] = [];
  const attached: string[] = [];
  const notified: string[] = [];
  let clock = 1_000;
  const engine = {
    async start(request: RunRequest) {
      requests.push(request);
      if (options.startError) throw options.startError;
      const h = new FakeHandle(
        `cmd-${handles.length + 1}`,
        ['i-0aaaaaaaaaaaaaaaa'],
        's3://bucket/ec2-runner/runs/abc/',
      );
      handles.push(h);
      return h;
    },
    async attach(commandId: string) {
      attached.push(commandId);
      const h = new FakeHandle(commandId);
      handles.push(h);
      return h;
    },
  };
  const transcripts = new RunTranscripts();
  const controller = new RunController({
    engine: () => engine,
    output: { append: (t) => (text += t), show: (p) => shown.push(p), clear: () => (text = '') },
    history,
    notifier: {
      finished: (r, f) => notified.push(`${f}:${r.status}`),
      failedToStart: (r, e) => notified.push(`failed:${(e as Error).message}`),
    },
    transcripts,
    now: () => clock,
    channelBudget: options.channelBudget,
  });
  const spec = (over: Partial<RunSpec> = {}): RunSpec => ({
    label: 'hello.py',
    source: { kind: 'file', uri: 'file:///w/hello.py', fileName: 'hello.py', args: [] },
    request: {
      source: { kind: 'command', command: 'true' },
      target: { kind: 'instances', instanceIds: ['i-0aaaaaaaaaaaaaaaa'] },
    },
    targets: [{ instanceId: 'i-0aaaaaaaaaaaaaaaa', name: 'web-1' }],
    feedback: 'exitCodeAndData',
    clearPreviousOutput: false,
    preserveFocus: true,
    ...over,
  });
  return {
    store,
    history,
    controller,
    transcripts,
    handles,
    requests,
    attached,
    notified,
    shown,
    spec,
    text: () => text,
    tick: (ms: number) => (clock += ms),
  };
}

const until = async (condition: () => boolean) => {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((r) => setImmediate(r));
  assert.ok(condition(), 'condition not reached');
};

describe('run controller', () => {
  test("the output channel shows a run's first N characters, then one line; the done lines name the saved files", async () => {
    const t = setup({ channelBudget: new ChannelBudget(1000) });
    const run = t.controller.start(t.spec());
    await run.started;
    const handle = t.handles[0];
    const header = t.text();
    for (const c of 'abcde') handle.emit('stdout', c.repeat(299) + '\n');
    assert.equal(
      t.text(),
      header +
        'a'.repeat(299) +
        '\n' +
        'b'.repeat(299) +
        '\n' +
        'c'.repeat(299) +
        '\n' +
        'd'.repeat(100) +
        channelTrimmedLine(1000),
    );
    handle.finish('Success', 0, { stdoutFile: '/tmp/out/cmd-1/i-0aaaaaaaaaaaaaaaa.stdout' });
    await run.done;
    assert.match(t.text(), /trimmed: the output channel shows the first 0 MB of this run's output;.*\n\[Done\]/);
    assert.match(
      t.text(),
      /\[Output\] whole stdout of i-0aaaaaaaaaaaaaaaa: file:\/\/\/tmp\/out\/cmd-1\/i-0aaaaaaaaaaaaaaaa.stdout\n/,
    );
    // The next run has a budget of its own.
    const next = t.controller.start(t.spec());
    await next.started;
    t.handles[1].emit('stdout', 'again\n');
    assert.ok(t.text().endsWith('again\n'));
    t.handles[1].finish('Success', 0);
    await next.done;
  });

  test('a run prints header, live output, done line, result and output location, and is recorded', async () => {
    const t = setup();
    const run = t.controller.start(t.spec());
    await run.started;
    const handle = t.handles[0];
    assert.equal(t.history.get(run.record.id)?.state, 'running');
    assert.equal(t.history.get(run.record.id)?.commandId, 'cmd-1');
    handle.emit('stdout', 'hello\n');
    handle.emit('stderr', 'careful\n');
    assert.match(t.text(), /hello\n\[stderr\] careful\n$/, 'output appears before the run ends');
    t.tick(2_500);
    handle.finish('Success', 0, { result: { n: 1 } });
    const final = await run.done;
    assert.equal(
      t.text(),
      '[Running] hello.py on web-1 (i-0aaaaaaaaaaaaaaaa) · command cmd-1\nhello\n[stderr] careful\n[Done] ' +
        'exit code 0 · Success · 2.5 s\n[Result]\n{\n  "n": 1\n}\n[Output] complete output in ' +
        's3://bucket/ec2-runner/runs/abc/\n',
    );
    assert.equal(final.state, 'finished');
    assert.equal(final.exitCode, 0);
    assert.deepEqual(t.shown, [true]);
    assert.deepEqual(t.notified, ['exitCodeAndData:Success']);
    assert.equal(t.transcripts.get(run.record.id), t.text());
    // Persisted as plain data.
    const stored = t.store.get<RunRecord[]>(HISTORY_KEY)!;
    assert.equal(stored[0].status, 'Success');
    assert.equal(stored[0].endedAt, 3_500);
  });

  test('exitCode feedback leaves the result out; fire and forget does not open the output', async () => {
    const t = setup();
    const run = t.controller.start(t.spec({ feedback: 'exitCode' }));
    await run.started;
    t.handles[0].finish('Failed', 2, { result: { n: 1 } });
    await run.done;
    assert.doesNotMatch(t.text(), /\[Result\]/);
    assert.match(t.text(), /\[Done\] exit code 2 · Failed/);
    const quiet = t.controller.start(t.spec({ feedback: 'fireAndForget' }));
    await quiet.started;
    t.handles[1].finish('Success', 0);
    await quiet.done;
    assert.equal(t.shown.length, 1, 'fire and forget did not show the channel');
    assert.deepEqual(t.notified, ['exitCode:Failed', 'fireAndForget:Success']);
  });

  test('a run that cannot start says why and is recorded as failed', async () => {
    const t = setup({
      startError: Object.assign(new Error('The staging bucket b does not exist yet'), {
        name: 'RunnerError',
        code: 'NoSuchBucket',
      }),
    });
    const run = t.controller.start(t.spec());
    const final = await run.done;
    assert.equal(
      t.text(),
      '[Failed] hello.py on web-1 (i-0aaaaaaaaaaaaaaaa) did not start: The staging bucket b does not exist yet\n',
    );
    assert.equal(final.status, 'Failed');
    assert.equal(final.state, 'finished');
    assert.deepEqual(t.notified, ['failed:The staging bucket b does not exist yet']);
  });

  test('cancel goes to the engine and the run ends Cancelled with its reason', async () => {
    const t = setup();
    const run = t.controller.start(t.spec());
    await run.started;
    await t.controller.cancel(run.record.id);
    const final = await run.done;
    assert.equal(t.handles[0].cancelled, 1);
    assert.equal(final.status, 'Cancelled');
    assert.match(t.text(), /\[Cancelling\] hello\.py · command cmd-1\n/);
    assert.match(t.text(), /\[Done\] exit code none · Cancelled · .* · cancelled by the user\n/);
  });

  test('cancel requested while staging is sent as soon as the command exists', async () => {
    const t = setup();
    const run = t.controller.start(t.spec());
    await t.controller.cancel(run.record.id);
    const final = await run.done;
    assert.equal(final.status, 'Cancelled');
    assert.equal(t.handles[0].cancelled, 1);
  });

  test('re-attach leaves alone a run this window is already starting or following', async () => {
    const t = setup();
    const run = t.controller.start(t.spec());
    assert.equal(t.controller.owns(run.record.id), true, 'owned while staging');
    await run.started;
    await t.controller.reattach(t.history.get(run.record.id)!, 'exitCode');
    assert.deepEqual(t.attached, []);
    t.handles[0].finish('Success', 0);
    await run.done;
    assert.equal(t.controller.owns(run.record.id), false);
  });

  test('detach keeps the run recorded as running; a new window re-attaches and continues the output', async () => {
    const t = setup();
    const run = t.controller.start(t.spec());
    await run.started;
    t.controller.detachAll();
    await run.done;
    assert.equal(t.handles[0].detached, true);
    assert.equal(t.history.get(run.record.id)?.state, 'running');

    // A "reloaded window": a new history over the same storage and a new controller.
    const store = t.store;
    const history = new RunHistory(store);
    let text = '';
    const handles: FakeHandle[] = [];
    const controller = new RunController({
      engine: () => ({
        start: () => Promise.reject(new Error('unused')),
        attach: async (id: string) => {
          const h = new FakeHandle(id);
          handles.push(h);
          return h;
        },
      }),
      output: { append: (s) => (text += s), show: () => undefined, clear: () => (text = '') },
      history,
      transcripts: new RunTranscripts(),
      notifier: { finished: () => undefined, failedToStart: () => undefined },
    });
    const pending = history.toReattach();
    assert.deepEqual(
      pending.map((r) => r.commandId),
      ['cmd-1'],
    );
    const done = controller.reattach(pending[0], 'exitCodeAndData');
    await until(() => handles.length === 1 && handles[0].output.size === 1);
    handles[0].emit('stdout', 'still going\n');
    handles[0].finish('Success', 0);
    const final = await done;
    assert.match(
      text,
      /^\[Re-attached\] hello\.py on web-1 \(i-0aaaaaaaaaaaaaaaa\) · command cmd-1\nstill going\n\[Done\] exit code 0 · Success/,
    );
    assert.equal(final.state, 'finished');
    assert.equal(history.toReattach().length, 0);
  });
});

describe('run history', () => {
  test('keeps the newest runs, never drops one still running, and survives a reload', async () => {
    const store = new MemoryStore();
    const history = new RunHistory(store, 3);
    const base = { label: 'x', source: { kind: 'command' as const, command: 'true' }, targets: [], startedAt: 0 };
    await history.add({ ...base, id: 'running', state: 'running', commandId: 'c0' });
    for (const id of ['a', 'b', 'c', 'd']) await history.add({ ...base, id, state: 'finished' });
    assert.deepEqual(
      history.all().map((r) => r.id),
      ['d', 'c', 'running'],
    );
    assert.deepEqual(
      new RunHistory(store).all().map((r) => r.id),
      ['d', 'c', 'running'],
    );
    await history.clearFinished();
    assert.deepEqual(
      history.all().map((r) => r.id),
      ['running'],
    );
  });

  test('ignores malformed stored data', () => {
    const store = new MemoryStore();
    store.values.set(HISTORY_KEY, [
      { nonsense: true },
      null,
      { id: 'ok', label: 'l', source: { kind: 'command', command: 'c' }, targets: [], state: 'finished', startedAt: 1 },
    ]);
    assert.deepEqual(
      new RunHistory(store).all().map((r) => r.id),
      ['ok'],
    );
  });

  test('the default target is remembered per workspace store', async () => {
    const store = new MemoryStore();
    const target = new DefaultTarget(store);
    let changes = 0;
    target.onDidChange(() => changes++);
    await target.set({ instanceId: 'i-1', name: 'web-1' });
    assert.deepEqual(new DefaultTarget(store).get(), { instanceId: 'i-1', name: 'web-1' });
    await target.set(undefined);
    assert.equal(new DefaultTarget(store).get(), undefined);
    assert.equal(changes, 2);
  });
});

describe('engine provider', () => {
  test('loads the engine module only on first use and rebuilds after a settings change', () => {
    let loads = 0;
    const created: Array<{ settings: object; disposed: boolean }> = [];
    let region = 'eu-west-1';
    const provider = new EngineProvider(
      () => {
        loads++;
        return {
          createEngine: (settings) => {
            const entry = { settings, disposed: false };
            created.push(entry);
            return { dispose: () => (entry.disposed = true) } as never;
          },
        };
      },
      () => ({ region }),
    );
    assert.equal(provider.loaded, false);
    assert.equal(loads, 0);
    const first = provider.get();
    assert.equal(provider.get(), first);
    region = 'us-east-1';
    provider.reset();
    provider.get();
    assert.equal(loads, 1);
    assert.deepEqual(
      created.map((c) => c.settings),
      [{ region: 'eu-west-1' }, { region: 'us-east-1' }],
    );
    assert.equal(created[0].disposed, false, 'a replaced engine may still follow runs');
    provider.dispose();
    assert.deepEqual(
      created.map((c) => c.disposed),
      [true, true],
    );
  });
});

describe('run transcripts', () => {
  const small: TranscriptLimits = { perRun: 10, total: 25, runs: 3 };

  test('a run keeps its last part; the runs written longest ago are dropped beyond the run count', () => {
    const store = new RunTranscripts(small);
    store.append('a', '0123456789abc');
    assert.equal(store.get('a'), '3456789abc', 'the tail of one run');
    store.append('b', 'b');
    store.append('c', 'c');
    store.append('a', '!');
    store.append('d', 'd');
    assert.equal(store.get('b'), undefined, 'b was written longest ago');
    assert.deepEqual(
      ['a', 'c', 'd'].map((id) => store.get(id)),
      ['456789abc!', 'c', 'd'],
    );
    assert.deepEqual(store.size, { runs: 3, length: 12 });
  });

  test('the total stays within its budget, never dropping the run being written; listeners hear every append', () => {
    const store = new RunTranscripts(small);
    const heard: string[] = [];
    const subscription = store.onDidAppend((id) => heard.push(id));
    store.append('a', 'a'.repeat(10));
    store.append('b', 'b'.repeat(10));
    store.append('c', 'c'.repeat(10));
    assert.equal(store.get('a'), undefined, 'a dropped: 30 > 25');
    assert.ok(store.size.length <= small.total, `total ${store.size.length}`);
    store.append('c', '');
    subscription.dispose();
    store.append('c', 'x');
    assert.deepEqual(heard, ['a', 'b', 'c']);
  });

  test('a thousand runs of a MiB each keep the window within the default limits', () => {
    const store = new RunTranscripts();
    const mib = 'x'.repeat(1024 * 1024);
    for (let i = 0; i < 1000; i++) store.append(`run-${i}`, mib);
    assert.ok(store.size.length <= 8 * 1024 * 1024, `held ${store.size.length}`);
    assert.ok(store.size.runs <= 20);
    assert.equal(store.get('run-999')?.length, 1024 * 1024);
  });
});
