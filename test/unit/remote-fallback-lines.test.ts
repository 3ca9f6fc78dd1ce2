// The plain-sh fallback's own lines (src/core/remote/fallbackScript.ts), run with sh on a PATH without Python:
// where the script runs and what its environment holds, the download check with shasum, a signal, a project
// folder, argv built from nothing, and the Session Manager variant. Files travel inline: no server, fast.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { buildRemoteCommands, type RemotePayload, type RemoteRunSpec } from '../../src/core/remote';
import { fallbackScriptLines } from '../../src/core/remote/fallbackScript';
import { binDirWith, runCommandsLocally, scratchDir } from '../support/remoteRun';

const RUN_ID = 'r0123';
const TOOLS = ['sh', 'base64', 'gzip', 'mktemp', 'rm', 'mkdir', 'cat'];

const scratch = scratchDir();
after(() => scratch.dispose());
const withSha256sum = binDirWith(join(scratch.root, 'sha256sum'), [...TOOLS, 'sha256sum']);
const withShasumOnly = binDirWith(join(scratch.root, 'shasum'), [...TOOLS, 'shasum']);

/** A run of `script` with sh, the file sent inline with the command. */
function inlineRun(script: string, payload: Partial<RemotePayload> = {}): RemoteRunSpec {
  const bytes = Buffer.from(script);
  return {
    runId: RUN_ID,
    payload: {
      fileName: 'job.sh',
      sha256: createHash('sha256').update(bytes).digest('hex'),
      interpreter: 'sh',
      args: [],
      fetch: { kind: 'inline', gzipBase64: gzipSync(bytes).toString('base64') },
      ...payload,
    },
  };
}

/** Runs the lines as the agent does; `tmp` is the TMPDIR, `left` what stayed in it. */
async function runLines(lines: string[], bin = withSha256sum) {
  const dirs = scratchDir();
  try {
    const run = await runCommandsLocally(lines, { cwd: dirs.agent, env: { PATH: bin, TMPDIR: dirs.tmp } });
    const [out, err] = [run.stdout.toString(), run.stderr.toString()];
    return { ...run, out, err, tmp: dirs.tmp, agent: dirs.agent, left: readdirSync(dirs.tmp) };
  } finally {
    dirs.dispose();
  }
}

describe('the sh fallback: where the script runs and what it is given', () => {
  test('no working directory: the run’s temp dir, unbuffered Python, the result and artifacts paths', async () => {
    const run = await runLines(
      buildRemoteCommands({
        runId: RUN_ID,
        shellCommand:
          'pwd; echo "unbuffered=$PYTHONUNBUFFERED"; echo "result=$EC2_RUNNER_RESULT"; ' +
          'echo "artifacts=$EC2_RUNNER_ARTIFACTS"; [ -d "$EC2_RUNNER_ARTIFACTS" ] && echo "artifacts folder exists"',
      }),
    );
    assert.equal(run.exitCode, 0, run.err);
    const [dir, ...rest] = run.out.split('\n');
    assert.match(dir, new RegExp(`^${run.tmp}/ec2-runner-[A-Za-z0-9]{6}$`), 'the run’s own temp dir');
    assert.deepEqual(rest, [
      'unbuffered=1',
      `result=${dir}/result.json`,
      `artifacts=${dir}/artifacts`,
      'artifacts folder exists',
      '',
    ]);
    assert.deepEqual(run.left, [], 'the temp dir is removed after the run');
  });

  test('arguments the shell was started with never reach the script (argv is built from nothing)', async () => {
    // The agent starts the script without arguments; the fallback must not depend on it.
    const stray = 'set -- stray words';
    const shell = await runLines([stray, ...buildRemoteCommands({ runId: RUN_ID, shellCommand: 'echo "shell $#"' })]);
    assert.equal(shell.out, 'shell 0\n', shell.err);
    const file = await runLines([stray, ...buildRemoteCommands(inlineRun('echo "file $# [$1]"', { args: ['a b'] }))]);
    assert.equal(file.out, 'file 1 [a b]\n', file.err);
  });

  test('an instance with shasum but no sha256sum still checks the download', async () => {
    const good = await runLines(buildRemoteCommands(inlineRun('echo checked')), withShasumOnly);
    assert.equal(good.exitCode, 0, good.err);
    assert.equal(good.out, 'checked\n');
    const tampered = inlineRun('echo tampered', { sha256: 'ab'.repeat(32) });
    const bad = await runLines(buildRemoteCommands(tampered), withShasumOnly);
    assert.equal(bad.exitCode, 125);
    assert.equal(bad.out, '', 'nothing ran');
    assert.match(bad.err, /ec2-runner: checksum mismatch: expected (ab){32} got [0-9a-f]{64}/);
  });

  test('a TERM to the shell ends the run with 143 and still removes its temp dir', async () => {
    // $PPID of the shell command is the fallback's shell; its trap exits once the command is done.
    const run = await runLines(buildRemoteCommands({ runId: RUN_ID, shellCommand: 'kill -TERM $PPID' }));
    assert.deepEqual([run.exitCode, run.signal], [143, null], run.err);
    assert.deepEqual(run.left, []);
  });

  test('a project folder needs Python: refused before the download, saying what to install', async () => {
    const run = await runLines(buildRemoteCommands(inlineRun('echo ran', { archive: { entry: 'main.py' } })));
    assert.equal(run.exitCode, 125);
    assert.equal(run.out, '', 'nothing ran');
    assert.match(
      run.err,
      /\nec2-runner: running a project folder needs python3 \(3\.6 or later\) on the instance: install it\n$/,
    );
  });
});

describe('the Session Manager variant (interactive runs)', () => {
  test('the run lines replace the last step, and nothing is said about a missing python3', async () => {
    const spec: RemoteRunSpec = { runId: RUN_ID, shellCommand: 'echo "in session"; exit 3' };
    const lines = fallbackScriptLines(spec, [], { runLines: ['"$@"', 'echo "status $?"'] });
    assert.equal(lines[lines.length - 1], 'echo "status $?"');
    const run = await runLines(lines);
    assert.equal(run.err, '');
    assert.equal(run.out, 'in session\nstatus 3\n');
    assert.equal(run.exitCode, 0);
  });
});
