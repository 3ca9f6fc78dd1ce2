// Runs shown in a terminal (`ec2Runner.runIn`: terminal) and interactive runs, through the real
// Runner, RunController, TerminalRun and session adapter, with a fake editor host and fake engine:
// output passes through as a terminal shows it, Ctrl+C cancels (or reaches the pty), typed input and
// the panel's size reach an interactive run, and its exit code is reported as for any run.
import { editorHost } from '../support/fakeEditorHost'; // first: installs the `vscode` stand-in
import { beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type {
  InteractiveRunRequest,
  Listener,
  OutputChunk,
  RunHandle,
  RunRequest,
  RunResult,
} from '../../src/core/api';
import { RunHistory, interruptedRuns } from '../../src/extension/history';
import { BASE_SETTINGS, MemoryStore } from '../support/extensionFakes';
import { RunTranscripts } from '../../src/extension/runTranscripts';
import { RunController } from '../../src/extension/runController';
import { Runner } from '../../src/extension/runner';
import type { ExtensionSettings } from '../../src/extension/settings';
import { sessionResult } from '../../src/extension/sessionRun';
import { DefaultTarget } from '../../src/extension/targets';
import {
  CTRL_C,
  noticeText,
  TerminalRun,
  terminalNewlines,
  type TerminalRunOptions,
} from '../../src/extension/terminalRun';

const SETTINGS: ExtensionSettings = { ...BASE_SETTINGS, runIn: 'terminal' };
const WEB = { instanceId: 'i-0aaaaaaaaaaaaaaaa', name: 'web-1' };
const bytes = (text: string) => new TextEncoder().encode(text);
const strip = (text: string) => text.replace(/\u001b\[\d+m/g, '');

/** A Run Command run the test drives: output, then an end with `exitCode` (or Cancelled after cancel()). */
class FakeHandle {
  readonly instanceIds = [WEB.instanceId];
  private readonly listeners = new Set<Listener<OutputChunk>>();
  private finish!: (result: RunResult) => void;
  private readonly ended = new Promise<RunResult>((resolve) => (this.finish = resolve));
  cancelled = false;
  constructor(readonly commandId: string) {}
  onOutput(listener: Listener<OutputChunk>) {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  }
  onStatus() {
    return { dispose() {} };
  }
  emit(stream: 'stdout' | 'stderr', data: Uint8Array) {
    for (const l of this.listeners) l({ instanceId: WEB.instanceId, stream, data });
  }
  end(exitCode: number, status = exitCode === 0 ? 'Success' : 'Failed') {
    this.finish({
      commandId: this.commandId,
      invocations: [
        {
          instanceId: WEB.instanceId,
          status,
          statusDetails: status,
          exitCode,
          stdout: '',
          stderr: '',
          result: null,
          outputSource: 'live',
        },
      ],
    });
  }
  wait() {
    return this.ended;
  }
  async cancel() {
    this.cancelled = true;
    this.end(130, 'Cancelled');
  }
  detach() {}
}

/** An interactive run on a fake pty: records input and sizes; the test ends it with an exit code. */
class FakeInteractive {
  input = '';
  sizes: string[] = [];
  terminated = false;
  request?: InteractiveRunRequest;
  /** The session opens when the test says so (`open()`), like a slow StartSession. */
  private opening = Promise.resolve();
  open = () => undefined as void;
  holdOpening() {
    this.opening = new Promise<void>((resolve) => (this.open = resolve));
  }
  private finish!: (outcome: { exitCode?: number; reason?: string }) => void;
  readonly done = new Promise<{ exitCode?: number; reason?: string }>((resolve) => (this.finish = resolve));
  async handle(request: InteractiveRunRequest) {
    this.request = request;
    await this.opening;
    return {
      sessionId: 'sess-0123456789abcdef0',
      write: (b: Buffer) => void (this.input += b.toString('utf8')),
      resize: (cols: number, rows: number) => void this.sizes.push(`${cols}x${rows}`),
      done: this.done,
      terminate: async () => {
        this.terminated = true;
        this.finish({ reason: 'Terminated' });
      },
    };
  }
  end(exitCode: number) {
    this.finish({ exitCode });
  }
}

function setup(settings: Partial<ExtensionSettings> = {}) {
  const history = new RunHistory(new MemoryStore());
  const defaultTarget = new DefaultTarget(new MemoryStore());
  const handles: FakeHandle[] = [];
  const requests: RunRequest[] = [];
  const interactive = new FakeInteractive();
  let channel = '';
  const terminals: Array<{
    name: string;
    run: TerminalRun;
    text: () => string;
    closed: boolean;
    preserveFocus: boolean;
  }> = [];
  const controller = new RunController({
    transcripts: new RunTranscripts(),
    engine: () => ({
      start: async (request: RunRequest) => {
        requests.push(request);
        const handle = new FakeHandle(`cmd-${handles.length + 1}`);
        handles.push(handle);
        return handle as unknown as RunHandle;
      },
      attach: async () => assert.fail('nothing to re-attach'),
    }),
    output: { append: (t) => void (channel += t), show() {}, clear() {} },
    history,
    notifier: { finished() {}, failedToStart: (_r, error) => assert.fail(String(error)) },
  });
  const runner = new Runner({
    controller,
    engine: () => ({
      listInstances: async () => assert.fail('the default target is set'),
      startInteractiveRun: async (request) => interactive.handle(request),
      awsCliCommands: async () => assert.fail('not copied'),
    }),
    terminals: {
      create: (name: string, options: Omit<TerminalRunOptions, 'write' | 'close'>, preserveFocus: boolean) => {
        let written = '';
        const entry = {
          name,
          run: undefined as unknown as TerminalRun,
          text: () => written,
          closed: false,
          preserveFocus,
        };
        entry.run = new TerminalRun({
          ...options,
          write: (t) => void (written += t),
          close: () => void (entry.closed = true),
        });
        terminals.push(entry);
        return entry.run;
      },
    },
    defaultTarget,
    settings: () => ({ ...SETTINGS, ...settings }),
    workspaceState: new MemoryStore() as never,
    globalState: new MemoryStore() as never,
    connectionSummary: () => 'sandbox',
    showError: (error) => assert.fail(String(error)),
  });
  return { history, defaultTarget, handles, requests, interactive, terminals, runner, channel: () => channel };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));
async function until(what: string, condition: () => unknown): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await tick();
  assert.ok(condition(), what);
}

describe('terminal text', () => {
  test('"\\n" becomes "\\r\\n"; "\\r" alone (a progress bar) and "\\r\\n" stay as they are', () => {
    assert.equal(terminalNewlines('a\nb\r\nc\rd'), 'a\r\nb\r\nc\rd');
    assert.equal(terminalNewlines('\u001b[32mok\u001b[0m\n'), '\u001b[32mok\u001b[0m\r\n');
  });

  test("EC2 Runner's own lines are dimmed line by line", () => {
    assert.equal(noticeText('[Done] exit code 0\n'), '\u001b[2m[Done] exit code 0\u001b[22m\r\n');
  });

  test('text written before VS Code opens the terminal is held, then shown in order; a notice starts on a fresh line', () => {
    let written = '';
    const run = new TerminalRun({ write: (t) => void (written += t), close() {}, interactive: false, cancel() {} });
    run.output({ instanceId: WEB.instanceId, stream: 'stdout', data: bytes('10%\r20%') });
    assert.equal(written, '', 'nothing is written before open()');
    run.open(undefined);
    run.notice('[Done] exit code 0\n');
    assert.equal(strip(written), '10%\r20%\r\n[Done] exit code 0\r\n');
  });

  test('a character split across chunks is decoded whole; several instances prefix their lines', () => {
    let written = '';
    const names: Record<string, string> = { a: 'web-1', b: 'web-2' };
    const run = new TerminalRun({
      write: (t) => void (written += t),
      close() {},
      interactive: false,
      cancel() {},
      instanceLabel: (id) => names[id],
    });
    run.open(undefined);
    const euro = bytes('€\n');
    run.output({ instanceId: 'a', stream: 'stdout', data: euro.subarray(0, 2) });
    run.output({ instanceId: 'a', stream: 'stdout', data: euro.subarray(2) });
    run.output({ instanceId: 'b', stream: 'stdout', data: bytes('half') });
    run.output({ instanceId: 'a', stream: 'stdout', data: bytes('x\n') });
    assert.equal(strip(written), '[web-1] €\r\n[web-2] half\r\n[web-1] x\r\n');
  });
});

describe('a run in a terminal (ec2Runner.runIn: terminal)', () => {
  beforeEach(() => editorHost.reset());

  test('output passes through as a terminal shows it, not in the output channel; the exit code is reported; Runs view history as usual', async () => {
    const t = setup();
    await t.defaultTarget.set(WEB);
    editorHost.files.set('/w/bar.py', 'print(1)');
    editorHost.open('/w/bar.py');
    const done = t.runner.runFile();
    await until('the run started', () => t.handles.length === 1);
    const [terminal] = t.terminals;
    assert.equal(terminal.name, 'EC2: bar.py');
    terminal.run.open({ columns: 80, rows: 24 });
    t.handles[0].emit('stdout', bytes('\u001b[32mgreen\u001b[0m\n'));
    t.handles[0].emit('stderr', bytes('\r 50%|#####     |\r100%|##########|\n'));
    t.handles[0].end(3);
    const record = await done;
    const text = terminal.text();
    assert.ok(text.includes('\u001b[32mgreen\u001b[0m\r\n'), 'colours pass through');
    assert.ok(
      text.includes('\r 50%|#####     |\r100%|##########|\r\n'),
      'a progress bar keeps its "\\r", stderr is not prefixed',
    );
    assert.match(strip(text), /^\[Running\] bar\.py on web-1 \(i-0aaaaaaaaaaaaaaaa\) · command cmd-1\r\n/);
    assert.match(strip(text), /\[Done\] exit code 3 · Failed/);
    assert.match(strip(text), /Press any key to close this terminal\.\r\n$/);
    assert.equal(t.channel(), '', 'the output channel stays empty');
    assert.equal(record?.exitCode, 3);
    assert.equal(t.history.last()?.status, 'Failed');
    // After the end any key closes the terminal, as a task's does.
    terminal.run.handleInput('x');
    assert.equal(terminal.closed, true);
  });

  test('Ctrl+C in the terminal cancels the run; other keys only get a hint', async () => {
    const t = setup();
    await t.defaultTarget.set(WEB);
    editorHost.files.set('/w/long.py', 'x');
    editorHost.open('/w/long.py');
    const done = t.runner.runFile();
    await until('the run started', () => t.handles.length === 1 && t.history.last()?.state === 'running');
    const [terminal] = t.terminals;
    terminal.run.open(undefined);
    terminal.run.handleInput('abc');
    assert.equal(t.handles[0].cancelled, false);
    assert.match(terminal.text(), /does not reach a Run Command run/);
    terminal.run.handleInput(CTRL_C);
    const record = await done;
    assert.equal(t.handles[0].cancelled, true);
    assert.equal(record?.status, 'Cancelled');
    assert.match(strip(terminal.text()), /\[Cancelling\] long\.py · command cmd-1/);
  });

  test('the default (outputChannel) and fire-and-forget runs open no terminal', async () => {
    for (const settings of [{ runIn: 'outputChannel' as const }, { feedback: 'fireAndForget' as const }]) {
      const t = setup(settings);
      await t.defaultTarget.set(WEB);
      editorHost.files.set('/w/a.py', 'x');
      editorHost.open('/w/a.py');
      const done = t.runner.runFile();
      await until('the run started', () => t.handles.length === 1);
      t.handles[0].end(0);
      await done;
      assert.equal(t.terminals.length, 0, JSON.stringify(settings));
    }
  });
});

describe('an interactive run in a terminal', () => {
  beforeEach(() => editorHost.reset());

  test('typed input (held until the session is open) and the panel size reach the run; Ctrl+C goes to the pty; the exit code is reported; rerun is interactive again', async () => {
    const t = setup({ runIn: 'outputChannel', env: { A: '1' }, workingDirectory: '/srv' });
    await t.defaultTarget.set(WEB);
    editorHost.files.set('/w/sum.py', 'print(int(input()) + int(input()))');
    editorHost.open('/w/sum.py');
    t.interactive.holdOpening();
    const done = t.runner.runFileInteractively();
    await until('the session is being opened', () => t.interactive.request);
    const terminal = t.terminals[0];
    assert.equal(terminal.preserveFocus, false, 'the terminal takes the focus: the user types there');
    terminal.run.open({ columns: 100, rows: 30 });
    terminal.run.handleInput('2\r');
    assert.equal(t.interactive.input, '');
    t.interactive.open();
    await until('the session is open', () => t.interactive.sizes.length > 0);
    assert.equal(t.interactive.request?.instanceId, WEB.instanceId);
    assert.equal(t.interactive.request?.workingDirectory, '/srv');
    assert.deepEqual(t.interactive.request?.env, { A: '1' });
    assert.equal(t.interactive.input, '2\r', 'input typed before the session opened is sent once it is');
    assert.deepEqual(t.interactive.sizes, ['100x30']);
    terminal.run.setDimensions({ columns: 120, rows: 40 });
    assert.deepEqual(t.interactive.sizes, ['100x30', '120x40']);
    terminal.run.handleInput('40\r');
    terminal.run.handleInput(CTRL_C);
    assert.equal(t.interactive.input, `2\r40\r${CTRL_C}`, 'Ctrl+C is a keystroke for the pty');
    assert.equal(t.interactive.terminated, false, 'Ctrl+C does not end the session');
    t.interactive.request?.onOutput(Buffer.from('2\r\n40\r\n42\r\n'));
    await until('the run is running', () => t.history.last()?.state === 'running');
    assert.equal(t.history.last()?.sessionId, 'sess-0123456789abcdef0');
    assert.equal(t.history.last()?.commandId, undefined, 'a session is never re-attached as a command');
    t.interactive.end(0);
    const record = await done;
    assert.equal(record?.exitCode, 0);
    assert.equal(record?.status, 'Success');
    const text = strip(terminal.text());
    assert.match(
      text,
      /^\[Running\] sum\.py on web-1 \(i-0aaaaaaaaaaaaaaaa\) · session sess-0123456789abcdef0\r\n2\r\n40\r\n42\r\n\[Done\] exit code 0 · Success/,
    );
    assert.doesNotMatch(text, /\[Output\]/, 'no "complete output in S3" line for a session');
    assert.equal(record?.source.kind === 'file' && record.source.interactive, true);
    assert.equal(t.channel(), '');
  });

  test('Cancel Run (or closing the terminal) ends the session: Cancelled', async () => {
    const t = setup();
    await t.defaultTarget.set(WEB);
    editorHost.files.set('/w/wait.py', 'input()');
    editorHost.open('/w/wait.py');
    const done = t.runner.runFileInteractively();
    await until('the run is running', () => t.history.last()?.state === 'running');
    t.terminals[0].run.close();
    const record = await done;
    assert.equal(t.interactive.terminated, true);
    assert.equal(record?.status, 'Cancelled');
    assert.equal(record?.exitCode, null);
  });

  test('a session that ends without an exit status is a failure that says so', () => {
    const result = sessionResult('s', 'i', { reason: 'agent stopped' }, false, new Date(0), new Date(1));
    assert.equal(result.invocations[0].status, 'Failed');
    assert.equal(result.invocations[0].exitCode, null);
    assert.match(
      result.invocations[0].reason ?? '',
      /ended before the script reported its exit status \(agent stopped\)/,
    );
  });

  test('after a reload an interactive run left "running" is marked as ended with its window, not re-attached', async () => {
    const history = new RunHistory(new MemoryStore());
    const base = {
      label: 'sum.py',
      source: { kind: 'file' as const, uri: 'file:///w/sum.py', fileName: 'sum.py', args: [], interactive: true },
      targets: [WEB],
      startedAt: 1,
    };
    await history.add({ ...base, id: 'a', state: 'running', sessionId: 'sess-1' });
    await history.add({ ...base, id: 'b', state: 'running', commandId: 'cmd-1' });
    assert.deepEqual(
      history.toReattach().map((r) => r.id),
      ['b'],
    );
    const interrupted = interruptedRuns(history, () => false);
    assert.deepEqual(
      interrupted.map((i) => i.record.id),
      ['a'],
    );
    assert.match(String(interrupted[0].change.reason), /interactive session/);
  });
});
