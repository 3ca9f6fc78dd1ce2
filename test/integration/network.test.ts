// Real-account situations through the engine (real SDK clients) and the ec2-runner CLI: instances that
// cannot reach S3, a script's own exit code 194, agents without AWS_SSM_INSTANCE_ID, background
// processes left by a script.
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Engine, type RunRequest } from '../../src/core';
import { LIVE_OUTPUT_UNAVAILABLE } from '../../src/core/outcome';
import { nothingLeftRunning, processesOfCommand, runCli } from '../support/runChecks';
import { engineOnSandbox } from '../support/engineOnSandbox';
import type { SandboxFixture } from '../support/sandbox';

const utf8 = (s: string) => new TextEncoder().encode(s);
/** Scripts run at the lowest CPU priority: on a busy machine their start-up alone can take seconds. */
const BUSY_MACHINE_MS = 90_000;
/** The product's goals when S3 cannot be reached (README "What the instance and network need"). */
const SHELL_END_AFTER_SCRIPT_MS = 5_000;
const STAGED_FAILURE_MS = 15_000;

/**
 * The best of a few tries: sandbox scripts run at the lowest CPU priority, so on an overloaded machine an
 * "instance" can stall for seconds that a real instance (with CPUs of its own) never loses. A broken
 * product misses the goal every time; a load spike only some of the time.
 */
async function bestOf<T>(
  tries: number,
  attempt: () => Promise<{ ms: number; value: T }>,
  goalMs: number,
): Promise<{ ms: number; value: T; all: number[] }> {
  const all: number[] = [];
  for (let i = 0; ; i++) {
    const outcome = await attempt();
    all.push(outcome.ms);
    if (outcome.ms <= goalMs || i === tries - 1) return { ...outcome, all };
  }
}

// Normal CPU priority: the goals below time instance-side waits, which a starved "instance" would blur.
const sandboxReady = engineOnSandbox({ instances: 3, deliveryDelayMs: 50, instanceNiceness: 0 });

describe('instances that cannot reach S3, exit code 194, old agents', () => {
  let fx: SandboxFixture;
  let engine: Engine;
  let reachable: string;
  let cutOff: string;
  const dir = mkdtempSync(join(tmpdir(), 'network-test-'));

  before(async () => {
    ({ fx, engine } = await sandboxReady);
    [reachable, cutOff] = fx.onlineInstanceIds;
    fx.sandbox.configure({ s3UnreachableInstances: [cutOff] });
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const on = (instanceId: string, source: RunRequest['source']): RunRequest => ({
    source,
    target: { kind: 'instances', instanceIds: [instanceId] },
  });
  const s3Writes = () => (fx.sandbox.stats()['s3:PutObject'] ?? 0) + (fx.sandbox.stats()['s3:HeadObject'] ?? 0);
  const cli = (args: string[]) => runCli(args, fx.env, BUSY_MACHINE_MS + 30_000);

  test('a small file travels inside the command: nothing is staged in S3, live output as usual', async () => {
    fx.sandbox.resetStats();
    const handle = await engine.start(
      on(reachable, {
        kind: 'file',
        fileName: 'inline.py',
        content: utf8('import sys\nprint("inline", sys.argv[1:])\n'),
        args: ['é 中文', ''],
      }),
    );
    const { invocations } = await handle.wait();
    assert.equal(invocations[0].stdout, "inline ['é 中文', '']\n");
    assert.equal(invocations[0].outputSource, 'live');
    assert.equal(s3Writes(), 0, 'no HeadObject or PutObject: the file was not staged');
  });

  test('CLI exec on an instance without S3: ends within 5 s of its script, with SSM output and one note', async () => {
    const {
      ms,
      value: result,
      all,
    } = await bestOf(
      3,
      async () => {
        const started = Date.now();
        const result = await cli(['exec', '--instance', cutOff, '--', 'echo hi; date +%s%3N >&2']);
        const ended = Date.now();
        assert.equal(result.code, 0, result.stderr);
        const scriptEnd = Number(/^(\d{13})$/m.exec(result.stderr)?.[1]);
        assert.ok(scriptEnd >= started && scriptEnd <= ended, `script end ${scriptEnd} within the run`);
        return { ms: ended - scriptEnd, value: result };
      },
      SHELL_END_AFTER_SCRIPT_MS,
    );
    assert.ok(ms <= SHELL_END_AFTER_SCRIPT_MS, `the CLI ended ${all.join(', ')} ms after the script`);
    assert.equal(result.stdout.toString(), 'hi\n');
    assert.match(
      result.stderr,
      /S3 could not be reached within 3 s, so there was no live output.*S3 gateway endpoint.*NAT route/,
    );
  });

  test('engine: a file run on an instance without S3 works through the command alone', async () => {
    fx.sandbox.resetStats();
    const handle = await engine.start(
      on(cutOff, { kind: 'file', fileName: 'offline.py', content: utf8('print("no S3 needed")\n') }),
    );
    const { invocations } = await handle.wait();
    assert.equal(invocations[0].status, 'Success');
    assert.equal(invocations[0].stdout, 'no S3 needed\n');
    assert.equal(invocations[0].outputSource, 'ssm');
    assert.match(invocations[0].reason ?? '', new RegExp(LIVE_OUTPUT_UNAVAILABLE));
    assert.equal(s3Writes(), 0);
  });

  test('a project, or a file too large to inline, fails within 15 s naming the fix', async () => {
    const project = join(dir, 'proj');
    const big = join(dir, 'big.py');
    await import('node:fs/promises').then((fs) => fs.mkdir(project));
    writeFileSync(join(project, 'main.py'), 'print("project")\n');
    // Random bytes do not compress: far over what fits in the command.
    writeFileSync(big, `# ${randomBytes(40 * 1024).toString('base64')}\nprint("big")\n`);
    for (const args of [
      ['run', project, '--entry', 'main.py'],
      ['run', big],
    ]) {
      const result = await cli([...args, '--instance', cutOff]);
      assert.equal(result.code, 125, result.stderr);
      const lines = result.stderr.split('\n').filter((line) => /S3 gateway endpoint/.test(line));
      assert.equal(lines.length, 1, `one message naming the fix:\n${result.stderr}`);
      assert.match(
        lines[0],
        /cannot reach S3 from this instance \(no connection within 5 s\).*an S3 gateway endpoint in its VPC, or a NAT route/,
      );
    }
    // Timed through the engine, from sending to the result (the CLI adds its own start-up).
    const { ms, all } = await bestOf(
      3,
      async () => {
        const handle = await engine.start(on(cutOff, { kind: 'project', root: project, entry: 'main.py' }));
        const sent = Date.now();
        const { invocations } = await handle.wait();
        assert.equal(invocations[0].exitCode, 125);
        assert.match(invocations[0].reason ?? '', /cannot reach S3.*NAT route/);
        return { ms: Date.now() - sent, value: undefined };
      },
      STAGED_FAILURE_MS,
    );
    assert.ok(ms <= STAGED_FAILURE_MS, `failed ${all.join(', ')} ms after sending`);
  });

  for (const [label, instance] of [
    ['live channel', 'reachable'],
    ['SSM output only', 'cutOff'],
  ] as const) {
    test(`a script's own exit code 194 (${label}): CLI exit status 194, its output once, one execution`, async () => {
      const counter = join(dir, `runs-194-${instance}`);
      writeFileSync(counter, '');
      const script = join(dir, 'reboot194.py');
      writeFileSync(script, `import sys\nopen(sys.argv[1], "a").write("x")\nprint("before exit")\nsys.exit(194)\n`);
      const result = await cli([
        'run',
        script,
        '--instance',
        instance === 'reachable' ? reachable : cutOff,
        '--',
        counter,
      ]);
      assert.equal(result.code, 194, result.stderr);
      assert.equal(result.stdout.toString(), 'before exit\n');
      assert.doesNotMatch(result.stderr, /reported to SSM as 195/);
      // The sandbox reruns a command whose script exits 194 (sandbox-agent-model.test.ts): one run here.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      assert.equal(readFileSync(counter, 'utf8'), 'x');
    });
  }

  test('an agent without AWS_SSM_INSTANCE_ID: live output under the right instance ids, no phantom invocation', async () => {
    fx.sandbox.configure({ agentWithoutInstanceId: true });
    try {
      const handle = await engine.start({
        source: { kind: 'command', command: 'echo "on $(hostname)"' },
        target: { kind: 'tags', tags: [{ key: 'Role', value: 'worker' }] },
      });
      const { invocations } = await handle.wait();
      assert.deepEqual(invocations.map((i) => i.instanceId).sort(), [...fx.onlineInstanceIds].sort());
      const fromLive = invocations.filter((i) => i.outputSource === 'live').map((i) => i.instanceId);
      assert.deepEqual(
        fromLive,
        invocations.filter((i) => i.instanceId !== cutOff).map((i) => i.instanceId),
      );
      assert.ok(invocations.every((i) => i.status === 'Success'));
    } finally {
      fx.sandbox.configure({ agentWithoutInstanceId: false });
    }
  });

  test('ec2-runner sandbox --help lists the switches; --config refuses a switch that is not true or false', async () => {
    const help = await cli(['sandbox', '--help']);
    assert.equal(help.code, 0);
    for (const flag of ['--s3-unreachable', 's3UnreachableInstances', '--agent-without-instance-id'])
      assert.ok(help.stderr.includes(flag), flag);
    const config = join(dir, 'bad-switch.json');
    writeFileSync(config, JSON.stringify({ s3Unreachable: 'yes' }));
    const bad = await cli(['sandbox', '--config', config]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /s3Unreachable must be true or false, got yes/);
  });

  test('processes a script leaves in its group are stopped when it ends (the agent would leave them)', async () => {
    const started = Date.now();
    const handle = await engine.start(
      on(reachable, { kind: 'command', command: 'sleep 60 & sleep 60 >/dev/null 2>&1 & echo started' }),
    );
    const { invocations } = await handle.wait();
    assert.equal(invocations[0].stdout, 'started\n');
    assert.ok(Date.now() - started < BUSY_MACHINE_MS / 3, 'the run did not wait for the sleeps');
    await nothingLeftRunning(handle.commandId, 10_000);
    assert.deepEqual(processesOfCommand(handle.commandId), []);
  });
});
