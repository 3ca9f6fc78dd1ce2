// Fault matrix, run side: the live-output channel breaking, the instance going ConnectionLost, the CLI killed and
// re-attached, temp dirs of killed runs. (The VS Code window reload mid-run is covered by the e2e suites, test/e2e.)
// Every run must end with the right status and exit code and the output of the same script run
// locally, byte for byte (or, where the live channel failed, SSM's output with a clear note).
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListCommandsCommand, SSMClient } from '@aws-sdk/client-ssm';
import { nothingLeftRunning, runCli, startCli } from '../support/runChecks';
import {
  describeWithFaultBench,
  chattyPython,
  fileRequest,
  runCollecting,
  runLocally,
  WRAPPER_NOTE,
  type ScriptCase,
} from '../soak/referenceRuns';

describeWithFaultBench('reliability: channel, instance and client failures during runs', (bench) => {
  test('the live-output channel fails mid-run: SSM output with a clear note, exit code kept', async () => {
    const go = join(bench.dir, 'go-live-fails');
    const script: ScriptCase = {
      fileName: 'channel-breaks.py',
      content: [
        'import os, sys, time',
        'print("before the break")',
        `deadline = time.time() + 20`,
        `while not os.path.exists(${JSON.stringify(go)}) and time.time() < deadline: time.sleep(0.05)`,
        'for i in range(5): print("after the break", i)',
        'sys.stderr.write("an error line\\n")',
        'sys.exit(5)',
        '',
      ].join('\n'),
    };
    const local = runLocally({
      ...script,
      content: script.content.replace(JSON.stringify(go), JSON.stringify(bench.dir)),
    });
    const run = await runCollecting(bench.engine, fileRequest(script, bench.online[0]), () => {
      bench.fx.sandbox.configure({ postObjectFailStatus: 403 });
      writeFileSync(go, '');
    });
    const invocation = run.result.invocations[0];
    assert.equal(invocation.status, 'Failed');
    assert.equal(invocation.exitCode, 5);
    assert.equal(invocation.outputSource, 'ssm');
    assert.match(invocation.reason ?? '', /live output unavailable; SSM output may be truncated/);
    assert.ok(run.stdout.equals(local.stdout), `stdout: ${run.stdout}`);
    assert.equal(invocation.stdout, local.stdout.toString());
    // SSM's stderr is the script's plus the wrapper's note saying why the channel stopped.
    assert.match(
      invocation.stderr,
      /^ec2-runner: live output upload refused \(HTTP 403 AccessDenied\); output is kept on this instance/m,
    );
    assert.equal(invocation.stderr.replace(WRAPPER_NOTE, ''), local.stderr.toString());
    await nothingLeftRunning(run.commandId);
  });

  test('the instance goes ConnectionLost after SendCommand, before delivery: Undeliverable, cancelled, nothing ran', async () => {
    bench.fx.sandbox.configure({ deliveryDelayMs: 2500 });
    const marker = join(bench.dir, 'never-ran');
    const handle = await bench.engine.start({
      source: { kind: 'command', command: `touch ${marker}` },
      target: { kind: 'instances', instanceIds: [bench.online[1]] },
    });
    bench.fx.sandbox.setPingStatus(bench.online[1], 'ConnectionLost');
    const result = await handle.wait();
    const invocation = result.invocations[0];
    assert.equal(invocation.status, 'Undeliverable');
    assert.equal(invocation.exitCode, null);
    assert.match(
      invocation.reason ?? '',
      /not connected to SSM \(PingStatus ConnectionLost.*the command was cancelled/,
    );
    // It comes back: the cancelled command must not run late (delivery now takes 200 ms).
    bench.fx.sandbox.configure({ deliveryDelayMs: 200 });
    bench.fx.sandbox.setPingStatus(bench.online[1], 'Online');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(existsSync(marker), false, 'the command ran after all');
  });

  test('the instance goes ConnectionLost mid-run: the script keeps running, the run completes (agent reports on reconnect)', async () => {
    let lost = false;
    await bench.assertMatchesLocal(chattyPython('conn-lost', 6, { seconds: 1 }), bench.online[0], () => {
      bench.fx.sandbox.setPingStatus(bench.online[0], 'ConnectionLost');
      lost = true;
    });
    assert.ok(lost);
  });

  test('the CLI is SIGKILLed mid-run; `attach` from a new process replays everything and exits with the remote code', async () => {
    const script = chattyPython('attach', 9, { seconds: 2, lines: 30 });
    const path = join(bench.dir, script.fileName);
    writeFileSync(path, script.content);
    const local = runLocally(script);
    const cli = startCli(['run', path, '--instance', bench.online[0]], bench.fx.env);
    await cli.waitFor(/attach line 2 /);
    cli.kill('SIGKILL');
    const killed = await cli.result;
    assert.equal(killed.signal, 'SIGKILL');
    const ssm = new SSMClient(bench.fx.clientConfig);
    const listed = await ssm.send(new ListCommandsCommand({ MaxResults: 5 }));
    ssm.destroy();
    const commandId = listed.Commands?.find((c) => c.Comment === `ec2-runner: run ${script.fileName}`)?.CommandId;
    assert.ok(commandId, 'the killed CLI had sent the command');
    const attached = await runCli(['attach', commandId!], bench.fx.env, 60_000);
    assert.equal(attached.code, 9, attached.stderr);
    assert.ok(attached.stdout.equals(local.stdout), `attach stdout:\n${attached.stdout}`);
    assert.equal(attached.stderr, local.stderr.toString());
    await nothingLeftRunning(commandId!);
  });

  test('temp dirs left by a SIGKILLed run (SSM cancel/timeout) are swept by the next run once older than any run can be', async () => {
    // The agent sets no TMPDIR (as on real instances): the wrapper's temp dirs live in /tmp, shared by
    // every sandbox instance here, so the names are unique to this test.
    const instanceTmp = '/tmp';
    const tag = randomBytes(3).toString('hex');
    const stale = join(instanceTmp, `ec2-runner-${tag}_x`);
    const recent = join(instanceTmp, `ec2-runner-${tag}_y`);
    const unrelated = join(instanceTmp, `ec2-runner-keep-me-${tag}`);
    for (const d of [stale, recent, unrelated]) mkdirSync(d, { recursive: true });
    const fourDaysAgo = Date.now() / 1000 - 4 * 86400;
    utimesSync(stale, fourDaysAgo, fourDaysAgo);
    utimesSync(unrelated, fourDaysAgo, fourDaysAgo);
    try {
      await bench.assertMatchesLocal(chattyPython('sweep', 0, { lines: 2, seconds: 0.1 }), bench.online[1]);
      assert.equal(existsSync(stale), false, 'a stale temp dir is removed');
      assert.equal(existsSync(recent), true, 'a recent one (maybe a live run) is kept');
      assert.equal(existsSync(unrelated), true, 'only our own names are touched');
    } finally {
      for (const d of [stale, recent, unrelated]) rmSync(d, { recursive: true, force: true });
    }
  });
});
