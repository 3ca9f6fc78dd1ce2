// The ec2-runner debug type's configuration logic and "Forward a Port…" with fakes (no VS Code).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PortForwardHandle, PortForwardRequest } from '../../src/core/api';
import {
  DebugConfigError,
  SessionEndWatcher,
  attachConfiguration,
  launchSource,
  resolveConfiguration,
} from '../../src/extension/debugConfig';
import {
  type ActiveForward,
  type ForwardUi,
  OPEN_IN_BROWSER,
  PortForwards,
  STOP_FORWARDING,
  checkPortSpec,
} from '../../src/extension/portForwards';

describe('ec2-runner debug configurations', () => {
  test('F5 without launch.json debugs the active Python file', () => {
    const config = resolveConfiguration({}, { path: '/w/train.py', languageId: 'python' });
    assert.deepEqual(config, {
      type: 'ec2-runner',
      request: 'launch',
      name: 'Debug train.py on EC2',
      program: '/w/train.py',
      justMyCode: true,
    });
    assert.throws(() => resolveConfiguration({}, { path: '/w/job.sh', languageId: 'shellscript' }), DebugConfigError);
    assert.throws(() => resolveConfiguration({}), /Open a Python file/);
  });

  test('launch: program defaults to the active file, must be Python; ports and instance are checked', () => {
    const config = resolveConfiguration(
      { type: 'ec2-runner', request: 'launch', name: 'x', instance: 'i-0123456789abcdef0' },
      { path: '/w/a.py', languageId: 'python' },
    );
    assert.equal(config.program, '/w/a.py');
    assert.equal(config.justMyCode, true);
    assert.throws(
      () => resolveConfiguration({ type: 'ec2-runner', request: 'launch', name: 'x', program: '/w/a.sh' }),
      /not a Python file/,
    );
    assert.throws(
      () =>
        resolveConfiguration({
          type: 'ec2-runner',
          request: 'launch',
          name: 'x',
          program: '/w/a.py',
          instance: 'web-1',
        }),
      /instance id/,
    );
    assert.throws(
      () =>
        resolveConfiguration({
          type: 'ec2-runner',
          request: 'launch',
          name: 'x',
          program: '/w/a.py',
          localPort: 70000,
        }),
      /localPort/,
    );
    assert.throws(
      () =>
        resolveConfiguration({ type: 'ec2-runner', request: 'launch', name: 'x', program: '/w/a.py', cwd: 'relative' }),
      /absolute/,
    );
    assert.throws(
      () =>
        resolveConfiguration({
          type: 'ec2-runner',
          request: 'launch',
          name: 'x',
          program: '/w/a.py',
          args: [1] as unknown as string[],
        }),
      /list of strings/,
    );
    assert.throws(
      () => resolveConfiguration({ type: 'ec2-runner', request: 'debug', name: 'x' }),
      /"launch" or an "attach"/,
    );
  });

  test('attach needs remotePort; well-formed pathMappings', () => {
    assert.throws(() => resolveConfiguration({ type: 'ec2-runner', request: 'attach', name: 'x' }), /remotePort/);
    assert.throws(
      () =>
        resolveConfiguration({
          type: 'ec2-runner',
          request: 'attach',
          name: 'x',
          remotePort: 5678,
          pathMappings: [{ localRoot: '/a' }] as never,
        }),
      /pathMappings/,
    );
    const config = resolveConfiguration({
      type: 'ec2-runner',
      request: 'attach',
      name: 'x',
      remotePort: 5678,
      pathMappings: [{ localRoot: '/a', remoteRoot: '/b' }],
    });
    assert.equal(config.remotePort, 5678);
  });

  test('what debugpy receives: an attach to the forwarded port with the mappings', () => {
    const config = resolveConfiguration({ type: 'ec2-runner', request: 'launch', name: 'x', program: '/w/a.py' });
    const attach = attachConfiguration(
      config,
      40123,
      [{ localRoot: '/w', remoteRoot: '/tmp/ec2-runner-abc' }],
      'run-1',
    );
    assert.equal(attach.request, 'attach');
    assert.equal(attach.ec2RunnerRequest, 'launch');
    assert.equal(attach.ec2RunnerPort, 40123);
    assert.equal(attach.ec2RunnerRunId, 'run-1');
    assert.deepEqual(attach.pathMappings, [{ localRoot: '/w', remoteRoot: '/tmp/ec2-runner-abc' }]);
  });

  test('a session the user stopped cancels the run; one whose program ended does not', () => {
    const stopped = new SessionEndWatcher();
    stopped.toAdapter({ type: 'request', command: 'disconnect' });
    stopped.fromAdapter({ type: 'event', event: 'terminated' });
    assert.equal(stopped.userStopped, true);
    const ended = new SessionEndWatcher();
    ended.fromAdapter({ type: 'event', event: 'terminated' });
    ended.toAdapter({ type: 'request', command: 'disconnect' });
    assert.equal(ended.userStopped, false);
    const quiet = new SessionEndWatcher();
    quiet.toAdapter({ type: 'request', command: 'setBreakpoints' });
    assert.equal(quiet.userStopped, false);
  });
});

class FakeForward implements PortForwardHandle {
  sessionId = 's-1';
  mode = 'smux' as const;
  closes = 0;
  private end!: (reason?: string) => void;
  closed = new Promise<string | undefined>((resolve) => (this.end = resolve));
  constructor(readonly localPort: number) {}
  async close() {
    this.closes++;
    this.end(undefined);
  }
  drop(reason: string) {
    this.end(reason);
  }
}

function fakeUi(answers: { port?: string; action?: string; pick?: number }) {
  const log: string[] = [];
  let changes: number[] = [];
  const ui: ForwardUi = {
    askPort: async (_title, validate) => {
      log.push(`validate:${validate('abc') ? 'refused' : 'accepted'}`);
      return answers.port;
    },
    inform: async (text, ...actions) => {
      log.push(`inform:${text}|${actions.join(',')}`);
      return answers.action;
    },
    warn: (text) => log.push(`warn:${text}`),
    pick: async (items) => items[answers.pick ?? 0]?.forward,
    openExternal: async (url) => void log.push(`open:${url}`),
    changed: (forwards: readonly ActiveForward[]) => (changes = [...changes, forwards.length]),
  };
  return { ui, log, changes: () => changes };
}

describe('Forward a Port…', () => {
  const target = { instanceId: 'i-0123456789abcdef0', name: 'gpu-box' };

  test('REMOTE[:LOCAL] is checked before anything is sent', () => {
    assert.equal(checkPortSpec('8888'), undefined);
    assert.equal(checkPortSpec('8888:9999'), undefined);
    assert.ok(checkPortSpec('0'));
    assert.ok(checkPortSpec('8888:'));
    assert.ok(checkPortSpec('70000'));
    assert.ok(checkPortSpec('jupyter'));
  });

  test('forwards the asked ports, shows the local URL, opens it in the browser', async () => {
    const requests: PortForwardRequest[] = [];
    const handle = new FakeForward(9999);
    const { ui, log, changes } = fakeUi({ port: '8888:9999', action: OPEN_IN_BROWSER });
    const forwards = new PortForwards(() => ({ forwardPort: async (r) => (requests.push(r), handle) }), ui);
    const forward = await forwards.forward(target);
    assert.equal(requests[0].remotePort, 8888);
    assert.equal(requests[0].localPort, 9999);
    assert.equal(requests[0].instanceId, target.instanceId);
    assert.equal(forward?.url, 'http://localhost:9999/');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(log.slice(0, 2), [
      'validate:refused',
      `inform:Forwarding http://localhost:9999/ → gpu-box port 8888.|${OPEN_IN_BROWSER},${STOP_FORWARDING}`,
    ]);
    assert.ok(log.includes('open:http://localhost:9999/'));
    assert.equal(forwards.list().length, 1);
    assert.deepEqual(changes(), [1]);
  });

  test('a dismissed input box forwards nothing', async () => {
    let called = false;
    const forwards = new PortForwards(
      () => ({ forwardPort: async () => ((called = true), new FakeForward(1)) }),
      fakeUi({}).ui,
    );
    assert.equal(await forwards.forward(target), undefined);
    assert.equal(called, false);
  });

  test('"Stop Forwarding" on the message, the status bar pick, and a session that ends by itself', async () => {
    const handles = [new FakeForward(1001), new FakeForward(1002), new FakeForward(1003)];
    let next = 0;
    const engine = () => ({ forwardPort: async () => handles[next++] });
    const stopping = fakeUi({ port: '8888', action: STOP_FORWARDING });
    const first = new PortForwards(engine, stopping.ui);
    await first.forward(target);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(handles[0].closes, 1, 'the message button stops it');
    assert.equal(first.list().length, 0);

    const { ui, log } = fakeUi({ port: '6006', pick: 1 });
    const forwards = new PortForwards(engine, ui);
    await forwards.forward(target);
    await forwards.forward(target);
    assert.equal(await forwards.stop(), true, 'the picked one (the second) stops');
    assert.equal(handles[2].closes, 1);
    assert.deepEqual(
      forwards.list().map((f) => f.localPort),
      [1002],
    );
    handles[1].drop('Session idle timeout');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(forwards.list().length, 0);
    assert.ok(
      log.some((l) => l.startsWith('warn:') && l.includes('ended: Session idle timeout')),
      log.join('\n'),
    );
    assert.equal(handles[2].closes, 1, 'a stopped forward is not reported as ended');
  });

  test('dispose closes every forward (window closing)', async () => {
    const handles = [new FakeForward(1), new FakeForward(2)];
    let next = 0;
    const forwards = new PortForwards(() => ({ forwardPort: async () => handles[next++] }), fakeUi({ port: '80' }).ui);
    await forwards.forward(target);
    await forwards.forward(target);
    await forwards.dispose();
    assert.deepEqual(
      handles.map((h) => h.closes),
      [1, 1],
    );
    assert.equal(forwards.list().length, 0);
  });
});

describe('ec2-runner launch with a project folder', () => {
  test('projectRoot stages the folder: entry relative to it, pathMappings from the root', () => {
    const config = resolveConfiguration({
      type: 'ec2-runner',
      request: 'launch',
      name: 'x',
      program: '/w/app/pkg/main.py',
      projectRoot: '/w/app',
    });
    assert.deepEqual(launchSource(config), { project: { root: '/w/app', entry: 'pkg/main.py' }, localRoot: '/w/app' });
    assert.deepEqual(
      launchSource(resolveConfiguration({ type: 'ec2-runner', request: 'launch', name: 'x', program: '/w/a.py' })),
      { localRoot: '/w' },
    );
    assert.throws(
      () =>
        resolveConfiguration({
          type: 'ec2-runner',
          request: 'launch',
          name: 'x',
          program: '/w/other/a.py',
          projectRoot: '/w/app',
        }),
      /not inside/,
    );
    assert.throws(
      () =>
        resolveConfiguration({
          type: 'ec2-runner',
          request: 'launch',
          name: 'x',
          program: '/w/app/a.py',
          projectRoot: 'app',
        }),
      /absolute/,
    );
  });
});
