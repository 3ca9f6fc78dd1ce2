// Debug Active File on EC2 and Forward a Port… in the real VS Code against the sandbox: a debug
// session of the ec2-runner type stops at a breakpoint set in the local file, shows a local
// variable's value, continues to the end, and the run reports the exit code in the Output channel
// and the Runs view; a port of the instance is forwarded, answers over HTTP, and stops.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as vscode from 'vscode';
import { api, onlineNode, openScript, requireSandboxEnvironment, waitFor, within } from './helpers';

const DEBUG_PY = `import sys

def total_of(n):
    total = 0
    for i in range(n):
        total += i
    return total

result = total_of(5)
print("debugged result", result, flush=True)
sys.exit(3)
`;
const BREAK_LINE = 7; // return total

interface Seen {
  stops: Array<{ threadId: number; reason: string; description?: string }>;
  terminated: boolean;
}

function watchSessions(): { seen: Seen; dispose(): void } {
  const seen: Seen = { stops: [], terminated: false };
  const disposables = [
    vscode.debug.registerDebugAdapterTrackerFactory('ec2-runner', {
      createDebugAdapterTracker: () => ({
        onDidSendMessage: (message: { type?: string; event?: string; body?: Seen['stops'][number] }) => {
          if (message.type === 'event' && message.event === 'stopped' && message.body) seen.stops.push(message.body);
        },
      }),
    }),
    vscode.debug.onDidTerminateDebugSession((session) => {
      if (session.type === 'ec2-runner') seen.terminated = true;
    }),
  ];
  return { seen, dispose: () => disposables.forEach((d) => d.dispose()) };
}

suite('Debug and port forwarding on EC2', () => {
  suiteSetup(async () => {
    requireSandboxEnvironment();
    const testApi = await api();
    await testApi.instancesProvider.refresh();
    await vscode.commands.executeCommand('ec2Runner.setDefaultTarget', await onlineNode(testApi));
  });

  teardown(async () => {
    // A failed test may leave a session paused: stopping it cancels its run (so waitForIdle ends).
    await vscode.debug.stopDebugging();
    vscode.debug.removeBreakpoints(vscode.debug.breakpoints);
    await (await api()).waitForIdle();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('Debug Active File on EC2 stops at a local breakpoint, shows locals, continues; the run reports exit code 3', async function () {
    this.timeout(240_000);
    const testApi = await api();
    testApi.clearOutput();
    const editor = await openScript('debug_me.py', DEBUG_PY);
    vscode.debug.addBreakpoints([
      new vscode.SourceBreakpoint(new vscode.Location(editor.document.uri, new vscode.Position(BREAK_LINE - 1, 0))),
    ]);
    const watch = watchSessions();
    try {
      const runsBefore = testApi.history().length;
      assert.equal(
        await within(
          180_000,
          'Debug Active File on EC2',
          vscode.commands.executeCommand<boolean>('ec2Runner.debugActiveFile'),
        ),
        true,
        'the debug session started',
      );
      const session = vscode.debug.activeDebugSession;
      assert.equal(session?.type, 'ec2-runner');
      assert.equal(session?.configuration.request, 'attach');
      const stopped = (await waitFor('the breakpoint to be hit', () => watch.seen.stops[0], 120_000))!;
      assert.equal(stopped.reason, 'breakpoint');
      const frames = await session!.customRequest('stackTrace', {
        threadId: stopped.threadId,
        startFrame: 0,
        levels: 1,
      });
      const top = frames.stackFrames[0];
      assert.equal(top.line, BREAK_LINE);
      // In code-server the workbench shows remote-host paths as vscode-remote://AUTHORITY/PATH.
      assert.ok(
        String(top.source.path).endsWith(editor.document.uri.path),
        `the frame is the local file: ${top.source.path}`,
      );
      const scopes = await session!.customRequest('scopes', { frameId: top.id });
      const locals = scopes.scopes.find((s: { name: string }) => /local/i.test(s.name));
      const variables = await session!.customRequest('variables', { variablesReference: locals.variablesReference });
      const total = variables.variables.find((v: { name: string }) => v.name === 'total');
      assert.equal(total?.value, '10');
      await session!.customRequest('continue', { threadId: stopped.threadId });
      // sys.exit(3) is an uncaught SystemExit: VS Code's default exception filter stops there, as for local Python.
      const atExit = (await waitFor('the stop at sys.exit(3)', () => watch.seen.stops[1], 120_000))!;
      assert.equal(atExit.reason, 'exception');
      await session!.customRequest('continue', { threadId: atExit.threadId });
      await waitFor('the debug session to end', () => watch.seen.terminated, 120_000);
      const record = (await waitFor(
        'the debug run to finish',
        () => {
          const latest = testApi.history()[0];
          return testApi.history().length > runsBefore && latest.state === 'finished' ? latest : undefined;
        },
        120_000,
      ))!;
      assert.equal(record.exitCode, 3);
      assert.equal(record.label, 'debug debug_me.py');
      const text = testApi.outputText();
      assert.match(text, /^debugged result 10$/m);
      assert.match(text, /^\[Done\] exit code 3 /m);
      assert.match(text, /debugpy \S+ \((the instance's|staged)\) waits for the debugger/);
    } finally {
      watch.dispose();
    }
  });

  test('Forward a Port… reaches a port of the instance over HTTP, then stops', async function () {
    this.timeout(120_000);
    // The sandbox's instances run on this machine: a server here is a server "on the instance".
    const server = http.createServer((_request, response) => response.end('served on the instance'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const remotePort = (server.address() as AddressInfo).port;
    try {
      const testApi = await api();
      const node = await onlineNode(testApi);
      const forward = await within(
        60_000,
        'Forward a Port…',
        vscode.commands.executeCommand<{ localPort: number; url: string }>(
          'ec2Runner.forwardPort',
          node,
          String(remotePort),
        ),
      );
      assert.ok(forward, 'the forward started');
      assert.equal(forward.url, `http://localhost:${forward.localPort}/`);
      assert.deepEqual(
        testApi.portForwards().map((f) => f.remotePort),
        [remotePort],
      );
      const body = await new Promise<string>((resolve, reject) => {
        http
          .get(`http://127.0.0.1:${forward.localPort}/`, (response) => {
            let text = '';
            response.on('data', (chunk) => (text += chunk));
            response.on('end', () => resolve(text));
          })
          .on('error', reject);
      });
      assert.equal(body, 'served on the instance');
      assert.equal(await vscode.commands.executeCommand('ec2Runner.stopPortForwarding'), true);
      assert.deepEqual(testApi.portForwards(), []);
      await waitFor(
        'the local port to close',
        () =>
          new Promise<boolean>((resolve) => {
            http.get(`http://127.0.0.1:${forward.localPort}/`, () => resolve(false)).on('error', () => resolve(true));
          }),
        20_000,
      );
    } finally {
      server.close();
    }
  });
});
