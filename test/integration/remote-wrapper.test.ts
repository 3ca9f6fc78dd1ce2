// The wrapper suite against a loopback stand-in for S3, plus what only the stand-in can do
// (upload fault injection) and what does not depend on the transport.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildRemoteCommands, buildRenewalCommands } from '../../src/core/remote';
import { MARK_RAN, type RemoteCase, type RemoteTransport, runRemote } from '../support/remoteHarness';
import {
  binDirWith,
  type LocalRun,
  realPythonDir,
  runCommandsLocally,
  scratchDir,
  writeFakeAwsCli,
} from '../support/remoteRun';
import { localTransport, RemoteTestServer } from '../support/remoteTestServer';
import { describeWrapperSuite, PYTHON_FIRST_PATH as PATH } from '../support/remoteWrapperSuite';

describeWrapperSuite('remote wrapper (python path, loopback S3 stand-in)', {
  start: async () => {
    const server = await RemoteTestServer.start();
    return { transport: localTransport(server), stop: () => server.close() };
  },
  randomArgumentRuns: 10,
});

describe('remote wrapper: upload faults, instance-role mode, Python 3.6 syntax', () => {
  let server: RemoteTestServer;
  let transport: RemoteTransport;
  before(async () => {
    server = await RemoteTestServer.start();
    transport = localTransport(server);
  });
  after(() => server.close());
  const run = (remoteCase: Omit<RemoteCase, 'path'> & { path?: string }) =>
    runRemote(transport, { path: PATH, ...remoteCase });

  test('transient upload failures are retried without losing or reordering output', async () => {
    server.injectPostFaults((attempt) => (attempt < 2 ? 503 : undefined));
    try {
      const outcome = await run({ script: 'import time\nfor i in range(5):\n    print(i)\n    time.sleep(0.1)\n' });
      assert.equal(outcome.live.stdout.toString(), '0\n1\n2\n3\n4\n');
      assert.deepEqual(outcome.live.exit, { exitCode: 0 });
      assert.ok(!outcome.local.stderr.toString().includes('live output upload refused'));
      assert.ok(server.postAttempts > outcome.live.objectCount, 'some uploads were retried');
    } finally {
      server.injectPostFaults(() => undefined);
    }
  });

  test('the upload gap bounds the uploads of continuous output, not what arrives or its order', async () => {
    // 4.5 s of a line every 30 ms: a 0.2 s gap would be ~22 uploads; a 3 s gap allows 3 at once, then one per 3 s.
    // The gap is well above the spool check (0.5 s), so output taken at each check would exceed it.
    const script = 'import time\nfor i in range(150):\n    print(i)\n    time.sleep(0.03)\n';
    const gapSeconds = 3;
    const outcome = await run({ script, uploadGapSeconds: gapSeconds });
    assert.equal(outcome.live.stdout.toString(), Array.from({ length: 150 }, (_, i) => `${i}\n`).join(''));
    assert.deepEqual(outcome.live.exit, { exitCode: 0 });
    const allowed = 3 + Math.ceil(outcome.durationMs / 1000 / gapSeconds) + 1; // burst + one per gap + the urgent exit
    assert.ok(
      outcome.live.objectCount <= allowed,
      `${outcome.live.objectCount} uploads in ${outcome.durationMs} ms (at most ${allowed})`,
    );
  });

  test('when uploads are refused mid-run the script keeps running, nothing is lost, and a renewal uploads the rest in order', async () => {
    server.injectPostFaults((attempt) => (attempt >= 2 ? 403 : undefined));
    let renewal: LocalRun | undefined;
    let leftBeforeRenewal: string[] = [];
    try {
      const script =
        `${MARK_RAN}import sys, time\n` + 'for i in range(8):\n    print(i)\n    time.sleep(0.1)\nsys.exit(5)\n';
      const outcome = await run({
        script,
        afterRun: async (runOnInstance, runId, target) => {
          leftBeforeRenewal = [...server.objects.keys()].filter((key) => key.startsWith(target.keyPrefix));
          server.injectPostFaults(() => undefined);
          renewal = await runOnInstance(buildRenewalCommands(runId, target));
        },
      });
      assert.equal(outcome.ran, true);
      assert.equal(outcome.local.exitCode, 5);
      assert.equal(outcome.local.stdout.toString(), '0\n1\n2\n3\n4\n5\n6\n7\n');
      assert.match(
        outcome.local.stderr.toString(),
        /ec2-runner: live output upload refused \(HTTP 403 InjectedFault\); output is kept on this instance/,
      );
      assert.match(
        outcome.local.stderr.toString(),
        /live output object\(s\) are kept on this instance until the client renews the upload policy/,
      );
      assert.ok(
        leftBeforeRenewal.length >= 1 && leftBeforeRenewal.length < outcome.live.objectCount,
        `${leftBeforeRenewal.length} of ${outcome.live.objectCount} objects before the renewal`,
      );
      assert.equal(renewal!.exitCode, 0, renewal!.stdout.toString() + renewal!.stderr.toString());
      assert.match(renewal!.stdout.toString(), /uploaded \d+ kept live output object\(s\), 0 left/);
      // Complete, in order, no gap or duplicate: assembleLiveOutput refuses a gap in the sequence.
      assert.equal(outcome.live.stdout.toString(), '0\n1\n2\n3\n4\n5\n6\n7\n');
      assert.deepEqual(outcome.live.exit, { exitCode: 5 });
      assert.deepEqual(outcome.tmpLeftovers, [], 'the spool is removed once everything is uploaded');
    } finally {
      server.injectPostFaults(() => undefined);
    }
  });

  test('instance-role mode downloads with aws s3 cp; a missing object or CLI runs nothing', async () => {
    const scratch = scratchDir();
    try {
      const bin = join(scratch.root, 'bin');
      writeFakeAwsCli(bin, join(scratch.root, 's3'), 'eu-west-1');
      const withRole: RemoteTransport = {
        ...transport,
        stage: async (body, fileName, broken) => {
          const key = `staged/${fileName}`;
          if (!broken) {
            mkdirSync(join(scratch.root, 's3', 'bucket', 'staged'), { recursive: true });
            writeFileSync(join(scratch.root, 's3', 'bucket', key), body);
          }
          return { kind: 'instance-role', s3Uri: `s3://bucket/${key}`, region: 'eu-west-1' };
        },
      };
      const script = `${MARK_RAN}import sys\nprint(sys.argv[1:])\n`;
      const good = await runRemote(withRole, {
        path: `${bin}:${PATH}`,
        script,
        fileName: 'role run.py',
        args: ['a b'],
      });
      assert.equal(good.local.exitCode, 0, good.local.stderr.toString());
      assert.equal(good.live.stdout.toString(), "['a b']\n");
      const missing = await runRemote(withRole, {
        path: `${bin}:${PATH}`,
        script,
        fileName: 'gone.py',
        broken: 'missing',
      });
      assert.equal(missing.ran, false);
      assert.equal(missing.local.exitCode, 125);
      assert.match(missing.live.errors[0], /^download failed: aws s3 cp exited 1: fatal error: .*404.*s3:GetObject/);
      // Only sh and Python: a PATH filtered of every folder holding an aws CLI can lose sh too (/usr/bin).
      const noCliBin = binDirWith(join(scratch.root, 'no-cli'), ['sh']);
      symlinkSync(join(realPythonDir(), 'python3'), join(noCliBin, 'python3'));
      const noCli = await runRemote(withRole, { path: noCliBin, script });
      assert.equal(noCli.ran, false);
      assert.match(noCli.live.errors[0], /^download failed: the aws CLI is not on this instance's PATH/);
    } finally {
      scratch.dispose();
    }
  });

  test('what the script leaves in its process group is stopped (SIGTERM first); what left the group runs on', async () => {
    // A child and an orphan (its parent shell ends at once) that note the SIGTERM they get, and a daemon in a
    // session of its own.
    const script = [
      MARK_RAN + 'import subprocess, time',
      'here = os.path.dirname(os.environ["EC2R_TEST_MARKER"])',
      'helper = os.path.join(here, "leftover.sh")',
      'open(helper, "w").write("trap \'echo TERM > $1; exit 0\' TERM\\ntouch $1.ready\\nsleep 30 &\\nwait\\n")',
      'quiet = dict(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)',
      'subprocess.Popen(["sh", helper, os.path.join(here, "child")], **quiet)',
      'subprocess.Popen(["sh", "-c", \'sh "$0" "$1" &\', helper, os.path.join(here, "orphan")], **quiet).wait()',
      'daemon = subprocess.Popen(["sleep", "30"], start_new_session=True, **quiet)',
      'open(os.path.join(here, "daemon"), "w").write(str(daemon.pid))',
      'deadline = time.time() + 20',
      'ready = lambda: all(os.path.exists(os.path.join(here, n + ".ready")) for n in ("child", "orphan"))',
      'while time.time() < deadline and not ready():',
      '    time.sleep(0.02)  # until both have set their trap',
    ].join('\n');
    let dir = '';
    let daemonPid = 0;
    const noted: Record<string, string> = {};
    const outcome = await run({
      script,
      whileRunning: async (_prefix, markerDir) => void (dir = markerDir),
      afterRun: async () => {
        for (const name of ['child', 'orphan'])
          noted[name] = existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8').trim() : 'nothing';
        daemonPid = Number(readFileSync(join(dir, 'daemon'), 'utf8'));
      },
    });
    try {
      assert.deepEqual(outcome.live.exit, { exitCode: 0 }, outcome.local.stderr.toString());
      assert.deepEqual(noted, { child: 'TERM', orphan: 'TERM' });
      assert.doesNotThrow(() => process.kill(daemonPid, 0), 'the daemon in its own session keeps running');
    } finally {
      if (daemonPid > 0) process.kill(daemonPid, 'SIGKILL');
    }
  });

  test("the wrapper takes the place of the agent's shell: the agent sees the end when the wrapper exits", async () => {
    // The script prints its parent's pid: the wrapper's. With exec it is the process the agent started.
    const dirs = scratchDir();
    try {
      let spawned = 0;
      const commands = buildRemoteCommands({ runId: 'r', shellCommand: 'echo "parent $PPID"' });
      const local = await runCommandsLocally(commands, {
        cwd: dirs.agent,
        env: { ...process.env, TMPDIR: dirs.tmp },
        onSpawn: (pid) => (spawned = pid),
      });
      assert.equal(local.exitCode, 0, local.stderr.toString());
      assert.equal(local.stdout.toString(), `parent ${spawned}\n`);
    } finally {
      dirs.dispose();
    }
  });

  test('the wrapper parses as Python 3.6', () => {
    const commands = buildRemoteCommands({ runId: 'r', shellCommand: 'true' });
    const start = commands.findIndex((line) => line.includes("<<'EC2RUNNER_EOF'"));
    const end = commands.indexOf('EC2RUNNER_EOF');
    const program = commands.slice(start + 1, end).join('\n');
    const check = spawnSync('python3', ['-c', 'import ast, sys; ast.parse(sys.stdin.read(), feature_version=(3, 6))'], {
      input: program,
      encoding: 'utf8',
    });
    assert.equal(check.status, 0, check.stderr);
  });
});
