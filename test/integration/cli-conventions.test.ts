// Command-line conventions a newcomer expects, through the real CLI (node dist/cli.js) on the
// sandbox: no escape codes outside a colour terminal, the command id in CI logs, actionable usage
// errors, distinguishable exit codes, shebangs, and `cancel` on a finished run.
import { before, after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from '../../src/cli/exitCodes';
import { runCli } from '../support/runChecks';
import { withSandbox, type SandboxFixture } from '../support/sandbox';

const sandboxReady = withSandbox({ instances: 1 });
const ESCAPE = /\u001b\[/;

describe('ec2-runner CLI conventions', () => {
  let fx: SandboxFixture;
  let dir: string;
  let instance: string;
  const file = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    chmodSync(path, 0o755);
    return path;
  };
  before(async () => {
    fx = await sandboxReady;
    instance = fx.onlineInstanceIds[0];
    dir = mkdtempSync(join(tmpdir(), 'ec2-runner-cli-conventions-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('CI log (no terminal), NO_COLOR, TERM=dumb: no escape codes, and the command id is on stderr', async () => {
    for (const extra of [{}, { NO_COLOR: '1' }, { TERM: 'dumb' }]) {
      const r = await runCli(['exec', '-i', instance, '--', 'echo hi'], { ...fx.env, ...extra });
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr + r.stdout.toString(), ESCAPE, JSON.stringify(extra));
      assert.match(r.stderr, new RegExp(`^ec2-runner: command [0-9a-f-]{36} on (\\S+ )?${instance}$`, 'm'));
      assert.equal(r.stdout.toString(), 'hi\n');
    }
  });

  test('a mistyped option gets "did you mean"; an option after FILE says script arguments go after --', async () => {
    const typo = await runCli(['exec', '--instanse', instance, '--', 'true'], fx.env);
    assert.equal(typo.code, EXIT.usage);
    assert.equal(typo.stderr, "ec2-runner: Unknown option '--instanse': did you mean --instance?\n");
    const script = file('train.py', 'import sys\nprint(sys.argv[1:])\n');
    const late = await runCli(['run', script, '-i', instance, '--epochs', '3'], fx.env);
    assert.equal(late.code, EXIT.usage);
    assert.match(
      late.stderr,
      /^ec2-runner: Unknown option '--epochs' after FILE: script arguments go after --, e.g\. ec2-runner run .*train\.py -i ID -- --epochs\n$/,
    );
    const fixed = await runCli(['run', script, '-i', instance, '--', '--epochs', '3'], fx.env);
    assert.equal(fixed.stdout.toString(), "['--epochs', '3']\n");
  });

  test('no such file, an invalid endpoint URL, a bad profile name: one line each, usage or configuration exit codes', async () => {
    const missing = await runCli(['run', join(dir, 'nope.py'), '-i', instance], fx.env);
    assert.equal(missing.code, EXIT.usage);
    assert.match(missing.stderr, /^ec2-runner: No such file: .*nope\.py\. Check the path/);
    assert.doesNotMatch(missing.stderr, /ENOENT/);
    const endpoint = await runCli(['instances', '--endpoint-url', 'localhost:4566'], fx.env);
    assert.equal(endpoint.code, EXIT.usage);
    assert.equal(
      endpoint.stderr,
      'ec2-runner: --endpoint-url "localhost:4566" is not a valid endpoint URL: give http(s)://HOST[:PORT], ' +
        'e.g. http://127.0.0.1:4566.\n',
    );
    const fromEnv = await runCli(['instances'], { ...fx.env, AWS_ENDPOINT_URL: 'not a url' });
    assert.equal(fromEnv.code, EXIT.config);
    assert.match(fromEnv.stderr, /^ec2-runner: AWS_ENDPOINT_URL "not a url" is not a valid endpoint URL/);
    const profile = await runCli(['instances', '--profile', 'x;id'], fx.env);
    assert.equal(profile.code, EXIT.usage);
    assert.match(profile.stderr, /--profile "x;id" is not a profile name/);
  });

  test("exit codes: the script's own 1 and 2 stay theirs; not run, usage and configuration have their own", async () => {
    for (const code of [1, 2])
      assert.equal((await runCli(['exec', '-i', instance, '--', `exit ${code}`], fx.env)).code, code);
    assert.equal((await runCli(['exec', '--', 'true'], fx.env)).code, EXIT.usage);
    assert.equal((await runCli(['exec', '-i', 'i-0123456789abcdef0', '--', 'true'], fx.env)).code, EXIT.notRun);
    const { AWS_ACCESS_KEY_ID: _id, AWS_SECRET_ACCESS_KEY: _secret, ...noKeys } = fx.env;
    assert.equal((await runCli(['instances'], noKeys)).code, EXIT.config);
    const help = await runCli(['--help'], fx.env);
    for (const code of [252, 253, 254, 255]) assert.match(help.stdout.toString(), new RegExp(`^  ${code}  `, 'm'));
  });

  test('shebangs: a file without extension runs with its #! interpreter; README.md is refused, nothing sent', async () => {
    const python = await runCli(
      ['run', file('tool', '#!/usr/bin/env python3\nimport sys\nprint("py", sys.version_info[0])\n'), '-i', instance],
      fx.env,
    );
    assert.equal(python.code, 0, python.stderr);
    assert.equal(python.stdout.toString(), 'py 3\n');
    const bash = await runCli(
      ['run', file('deploy', '#!/bin/bash\nwords=(a b c)\necho "bash ${#words[@]}"\n'), '-i', instance],
      fx.env,
    );
    assert.equal(bash.code, 0, bash.stderr);
    assert.equal(bash.stdout.toString(), 'bash 3\n');
    const readme = await runCli(
      ['run', file('README.md', '# Title\n\nrm -rf is not a plan\n'), '-i', instance],
      fx.env,
    );
    assert.equal(readme.code, EXIT.usage);
    assert.match(readme.stderr, /^ec2-runner: Cannot tell how to run README\.md: .*#! line/);
    assert.doesNotMatch(readme.stderr, /command [0-9a-f-]{36}/, 'nothing was sent');
  });

  test('cancel on a finished run says it had finished', async () => {
    const sent = await runCli(['exec', '-i', instance, '--', 'exit 4'], fx.env);
    const commandId = /command ([0-9a-f-]{36})/.exec(sent.stderr)![1];
    const r = await runCli(['cancel', commandId], fx.env);
    assert.equal(r.code, 0);
    assert.equal(
      r.stderr,
      `ec2-runner: command ${commandId} had already finished (${instance} Failed (exit 4)); nothing to cancel\n`,
    );
  });
});
