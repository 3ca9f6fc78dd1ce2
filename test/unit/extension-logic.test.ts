// The extension's vscode-free logic: argument splitting, output text, status bar text, targets,
// filters, errors and settings mapping.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { InvocationResult, ManagedInstance, RunResult, RunSource } from '../../src/core/api';
import { ArgumentSyntaxError, joinArguments, splitArguments } from '../../src/extension/args';
import { profileNamesIn } from '../../src/extension/awsProfiles';
import { describeError } from '../../src/extension/errorInfo';
import {
  completionText,
  doneLine,
  formatDuration,
  headerLine,
  LiveOutputFormatter,
  overallStatus,
  STDERR_PREFIX,
  transcriptFromResult,
} from '../../src/extension/format';
import type { RunRecord } from '../../src/extension/history';
import {
  instanceDescription,
  itemsActedOn,
  matchesFilter,
  pingIcon,
  sortInstances,
  stateForError,
} from '../../src/extension/instanceModel';
import {
  connectionSummary,
  effectiveProfile,
  engineSettingsOf,
  withInterpreterSetting,
} from '../../src/extension/settings';
import { runDescription, statusView } from '../../src/extension/statusText';
import { decideTargets, onlinePickItems } from '../../src/extension/targets';

const enc = (s: string) => new TextEncoder().encode(s);

function invocation(over: Partial<InvocationResult> = {}): InvocationResult {
  return {
    instanceId: 'i-0123456789abcdef0',
    status: 'Success',
    statusDetails: 'Success',
    exitCode: 0,
    stdout: '',
    stderr: '',
    result: null,
    outputSource: 'live',
    ...over,
  };
}

const web: ManagedInstance = {
  instanceId: 'i-0aaaaaaaaaaaaaaaa',
  name: 'web-1',
  pingStatus: 'Online',
  platformName: 'Amazon Linux',
  platformVersion: '2023',
  ipAddress: '10.0.0.5',
  tags: { Env: 'dev', Team: 'ml' },
};
const db: ManagedInstance = {
  instanceId: 'i-0bbbbbbbbbbbbbbbb',
  name: 'db-1',
  pingStatus: 'ConnectionLost',
  platformType: 'Linux',
  tags: { Env: 'prod' },
};
const anon: ManagedInstance = { instanceId: 'i-0cccccccccccccccc', pingStatus: 'Online' };

describe('script arguments', () => {
  test('split like a shell: quotes group, backslash escapes, nothing expands', () => {
    assert.deepEqual(splitArguments(`--name "my file.txt" 'a b' c\\ d $HOME ""`), [
      '--name',
      'my file.txt',
      'a b',
      'c d',
      '$HOME',
      '',
    ]);
    assert.deepEqual(splitArguments('   '), []);
    assert.deepEqual(splitArguments(`"say \\"hi\\""`), ['say "hi"']);
  });

  test('an unterminated quote is one actionable error', () => {
    assert.throws(
      () => splitArguments('--x "open'),
      (e: unknown) => e instanceof ArgumentSyntaxError && /close the quote/.test((e as Error).message),
    );
  });

  test('joining quotes only what needs it and round-trips', () => {
    const args = ['--epochs', '3', 'my file.txt', "it's", ''];
    const line = joinArguments(args);
    assert.equal(line, `--epochs 3 'my file.txt' 'it'\\''s' ''`);
    assert.deepEqual(splitArguments(line), args);
  });
});

describe('output text', () => {
  test('header names the file, the target and the command id', () => {
    assert.equal(
      headerLine('train.py', [{ instanceId: 'i-0aaaaaaaaaaaaaaaa', name: 'web-1' }], 'cmd-1'),
      '[Running] train.py on web-1 (i-0aaaaaaaaaaaaaaaa) · command cmd-1\n',
    );
    assert.equal(
      headerLine('uname -a', [{ instanceId: 'i-0aaaaaaaaaaaaaaaa' }], 'c'),
      '[Running] uname -a on i-0aaaaaaaaaaaaaaaa · command c\n',
    );
  });

  test('done line has exit code, status, duration and the reason for failures', () => {
    assert.equal(doneLine(invocation(), 2300), '[Done] exit code 0 · Success · 2.3 s\n');
    assert.equal(
      doneLine(invocation({ status: 'Cancelled', exitCode: null, reason: 'cancelled by the user' }), 4100),
      '[Done] exit code none · Cancelled · 4.1 s · cancelled by the user\n',
    );
    assert.equal(
      doneLine(invocation({ status: 'TimedOut', exitCode: null, reason: 'timeout of 5 s' }), 5000),
      '[Done] exit code none · TimedOut · 5.0 s · timeout of 5 s\n',
    );
    assert.match(doneLine(invocation({ status: 'InProgress', exitCode: null }), 1000), /^\[Not done yet\]/);
  });

  test('durations read naturally', () => {
    assert.equal(formatDuration(400), '0.4 s');
    assert.equal(formatDuration(125_000), '2 min 5 s');
    assert.equal(formatDuration(3_720_000), '1 h 2 min');
    assert.equal(formatDuration(NaN), '?');
  });

  test('completion: result pretty-printed only when asked, and where the output lives', () => {
    const result: RunResult = { commandId: 'c-1', invocations: [invocation({ result: { accuracy: 0.9 } })] };
    const withData = completionText(result, {
      durationMs: 1000,
      targets: [],
      showResult: true,
      liveLocation: 's3://b/ec2-runner/runs/r1/',
    });
    assert.equal(
      withData,
      '[Done] exit code 0 · Success · 1.0 s\n[Result]\n{\n  "accuracy": 0.9\n}\n[Output] complete output in ' +
        's3://b/ec2-runner/runs/r1/\n',
    );
    const exitOnly = completionText(result, { durationMs: 1000, targets: [], showResult: false });
    assert.doesNotMatch(exitOnly, /Result/);
    const fromSsm = completionText(
      { commandId: 'c-2', invocations: [invocation({ outputSource: 'ssm' })] },
      { durationMs: 1, targets: [], showResult: false },
    );
    assert.match(fromSsm, /\[Output\] from SSM \(may be truncated.*command c-2/);
  });

  test('several instances: each done line names its instance', () => {
    const a = invocation({ instanceId: 'i-0aaaaaaaaaaaaaaaa' });
    const b = invocation({ instanceId: 'i-0bbbbbbbbbbbbbbbb', status: 'Failed', exitCode: 3 });
    const text = completionText(
      { commandId: 'c', invocations: [a, b] },
      { durationMs: 1000, targets: [{ instanceId: a.instanceId, name: 'web-1' }], showResult: false },
    );
    assert.match(text, /^\[Done\] web-1 \(i-0aaaaaaaaaaaaaaaa\): exit code 0 · Success/m);
    assert.match(text, /^\[Done\] i-0bbbbbbbbbbbbbbbb: exit code 3 · Failed/m);
    assert.deepEqual(overallStatus({ commandId: 'c', invocations: [a, b] }), {
      status: 'Failed',
      exitCode: 3,
      reason: undefined,
    });
  });

  test('live output: stderr lines are prefixed, open lines are closed before another stream writes', () => {
    const f = new LiveOutputFormatter();
    const id = 'i-0aaaaaaaaaaaaaaaa';
    let out = f.push({ instanceId: id, stream: 'stdout', data: enc('hello\nwor') });
    out += f.push({ instanceId: id, stream: 'stdout', data: enc('ld\n') });
    out += f.push({ instanceId: id, stream: 'stderr', data: enc('warn 1\nwarn') });
    out += f.push({ instanceId: id, stream: 'stdout', data: enc('progress 50%') });
    out += f.finish();
    assert.equal(out, `hello\nworld\n${STDERR_PREFIX}warn 1\n${STDERR_PREFIX}warn\nprogress 50%\n`);
  });

  test('live output: a multi-byte character split across chunks is decoded whole', () => {
    const f = new LiveOutputFormatter();
    const bytes = enc('π=3.14\n');
    const id = 'i-0aaaaaaaaaaaaaaaa';
    const out =
      f.push({ instanceId: id, stream: 'stdout', data: bytes.slice(0, 1) }) +
      f.push({ instanceId: id, stream: 'stdout', data: bytes.slice(1) }) +
      f.finish();
    assert.equal(out, 'π=3.14\n');
  });

  test('live output with several instances prefixes every line with the instance', () => {
    const f = new LiveOutputFormatter((id) => (id === 'i-1' ? 'web-1' : id));
    const out =
      f.push({ instanceId: 'i-1', stream: 'stdout', data: enc('a\nb\n') }) +
      f.push({ instanceId: 'i-2', stream: 'stderr', data: enc('c\n') });
    assert.equal(out, `[web-1] a\n[web-1] b\n[i-2] ${STDERR_PREFIX}c\n`);
  });

  test('a transcript rebuilt from a status snapshot has stdout, prefixed stderr and the end', () => {
    const text = transcriptFromResult(
      'job.py',
      [{ instanceId: 'i-0123456789abcdef0', name: 'w' }],
      {
        commandId: 'c',
        invocations: [invocation({ stdout: 'out\n', stderr: 'err\n', exitCode: 1, status: 'Failed' })],
      },
      true,
    );
    assert.equal(
      text,
      `[Status] job.py on w (i-0123456789abcdef0) · command c\nout\n${STDERR_PREFIX}err\n[Done] exit code 1 ` +
        `· Failed · ?\n[Output] complete output from the live channel (command c)\n`,
    );
  });
});

function record(over: Partial<RunRecord> = {}): RunRecord {
  return {
    id: 'r1',
    label: 'train.py',
    source: { kind: 'file', uri: 'file:///w/train.py', fileName: 'train.py', args: [] },
    targets: [{ instanceId: 'i-0aaaaaaaaaaaaaaaa', name: 'web-1' }],
    state: 'finished',
    startedAt: 1000,
    ...over,
  };
}

describe('status bar text', () => {
  test('nothing run yet: the default target, click selects one', () => {
    assert.deepEqual(statusView([], undefined, undefined), {
      text: '$(server) EC2: no target',
      tooltip: 'No default EC2 target. Click to choose one.',
      command: 'ec2Runner.selectTarget',
      showCancel: false,
    });
    assert.equal(statusView([], undefined, { instanceId: 'i-1', name: 'web-1' }).text, '$(server) web-1');
  });

  test('after a run: file and target, click reruns, tooltip tells the outcome', () => {
    const view = statusView([], record({ status: 'Failed', exitCode: 2, endedAt: 4100 }), undefined);
    assert.equal(view.text, '$(play) train.py → web-1');
    assert.equal(view.command, 'ec2Runner.rerunLast'); // what the click does: extension-rerun.test.ts
    assert.match(view.tooltip, /last run: Failed, exit code 2, 3\.1 s/);
    assert.equal(view.showCancel, false);
  });

  test('while running: a spinner, click shows output, cancel is shown', () => {
    const running = record({ state: 'running', status: 'InProgress' });
    const view = statusView([running], running, undefined);
    assert.equal(view.text, '$(sync~spin) train.py → web-1');
    assert.equal(view.command, 'ec2Runner.showOutput');
    assert.equal(view.showCancel, true);
    assert.equal(
      statusView([running, record({ id: 'r2', state: 'running' })], running, undefined).text,
      '$(sync~spin) 2 runs',
    );
  });

  test('runs view description', () => {
    assert.equal(
      runDescription(record({ status: 'Success', exitCode: 0, endedAt: 3000 })),
      'web-1 · Success · exit code 0 · 2.0 s',
    );
    assert.equal(runDescription(record({ state: 'starting' })), 'web-1 · Starting');
  });
});

describe('targets and instances', () => {
  test('explicit targets win, then the default, else ask', () => {
    const t = { instanceId: 'i-1' };
    assert.deepEqual(decideTargets([t], { instanceId: 'i-2' }), { kind: 'use', targets: [t] });
    assert.deepEqual(decideTargets([], { instanceId: 'i-2' }), { kind: 'use', targets: [{ instanceId: 'i-2' }] });
    assert.deepEqual(decideTargets(undefined, undefined), { kind: 'ask' });
  });

  test('the quick pick offers Online instances only, sorted, default marked', () => {
    const items = onlinePickItems([web, db, anon], { instanceId: web.instanceId });
    assert.deepEqual(
      items.map((i) => i.label),
      [anon.instanceId, 'web-1'],
    );
    assert.equal(items[1].description, 'default · i-0aaaaaaaaaaaaaaaa · Amazon Linux 2023 · 10.0.0.5');
    assert.deepEqual(items[1].target, { instanceId: web.instanceId, name: 'web-1' });
  });

  test('filter matches name, id, IP, platform and tags; all words must match', () => {
    assert.ok(matchesFilter(web, 'WEB'));
    assert.ok(matchesFilter(web, '10.0.0'));
    assert.ok(matchesFilter(web, 'env=dev'));
    assert.ok(matchesFilter(web, 'web amazon'));
    assert.ok(!matchesFilter(web, 'web prod'));
    assert.ok(!matchesFilter(db, 'env=dev'));
    assert.ok(matchesFilter(db, 'connectionlost'));
  });

  test('Online first, then by name; ping icons differ in shape and colour', () => {
    assert.deepEqual(
      sortInstances([db, web, anon]).map((i) => i.instanceId),
      [anon.instanceId, web.instanceId, db.instanceId],
    );
    assert.notEqual(pingIcon('Online').id, pingIcon('ConnectionLost').id);
    assert.notEqual(pingIcon('Online').color, pingIcon('ConnectionLost').color);
    assert.equal(instanceDescription(db), 'i-0bbbbbbbbbbbbbbbb · ConnectionLost · Linux');
  });

  test('a view-item command acts on the selection only when it includes the clicked item', () => {
    const same = (a: string, b: string) => a === b;
    assert.deepEqual(itemsActedOn('a', ['a', 'b'], same), ['a', 'b']);
    assert.deepEqual(itemsActedOn('c', ['a', 'b'], same), ['c']);
    assert.deepEqual(itemsActedOn(undefined, ['a'], same), ['a']);
  });

  test('welcome states follow the engine error codes', () => {
    assert.equal(stateForError('NoCredentials'), 'noCredentials');
    assert.equal(stateForError('CredentialsExpired'), 'noCredentials');
    assert.equal(
      stateForError('ProfileNotFound'),
      'noCredentials',
      'a missing profile is a credentials problem (welcome with the reason)',
    );
    assert.equal(stateForError('NoRegion'), 'noRegion');
    assert.equal(stateForError('NoSuchBucket'), 'noBucket');
    assert.equal(stateForError('AccessDenied'), 'error');
    assert.equal(stateForError(undefined), 'error');
  });
});

describe('errors and settings', () => {
  const runnerError = (code: string, message: string) =>
    Object.assign(new Error(message), { name: 'RunnerError', code });

  test('expired SSO offers the login command for the profile', () => {
    const info = describeError(
      runnerError('CredentialsExpired', 'AWS SSO token is expired: run `aws sso login --profile dev` and retry.'),
      'dev',
    );
    assert.equal(info.actions[0].command, 'ec2Runner.ssoLogin');
    assert.equal(info.actions[0].title, 'Run aws sso login --profile dev');
  });

  test('a missing bucket offers to create it; unknown errors say they are unexpected', () => {
    assert.equal(describeError(runnerError('NoSuchBucket', 'x')).actions[0].command, 'ec2Runner.createBucket');
    assert.match(describeError(new Error('boom')).message, /unexpectedly: boom/);
    assert.deepEqual(describeError(runnerError('AccessDenied', 'Access denied for ssm:SendCommand')).actions, []);
  });

  test('empty settings fall back to the AWS environment (undefined for the engine)', () => {
    assert.deepEqual(
      engineSettingsOf({ profile: '', region: ' ', endpointUrl: '', bucket: '', keyPrefix: 'ec2-runner/' }),
      {
        profile: undefined,
        region: undefined,
        endpointUrl: undefined,
        bucket: undefined,
        keyPrefix: 'ec2-runner/',
      },
    );
    assert.equal(effectiveProfile({ profile: '' }, { AWS_PROFILE: 'envp' }), 'envp');
    assert.equal(effectiveProfile({ profile: 'set' }, { AWS_PROFILE: 'envp' }), 'set');
    assert.equal(
      connectionSummary(
        { profile: '', region: '', endpointUrl: '' },
        { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' },
      ),
      'default credentials · us-east-1 · http://127.0.0.1:4566',
    );
  });

  test('the interpreter setting reaches every Python source (file, selection, project), not shell scripts or commands', () => {
    const venv = ' /opt/venv/bin/python -u ';
    const content = enc('x');
    const interpreterOf = (source: RunSource, setting = venv) => {
      const given = withInterpreterSetting(source, setting);
      return given.kind === 'command' ? 'none for a command' : given.interpreter;
    };
    assert.equal(interpreterOf({ kind: 'file', fileName: 'a.py', content }), '/opt/venv/bin/python -u');
    assert.equal(interpreterOf({ kind: 'selection', text: 'print(1)', language: 'python' }), '/opt/venv/bin/python -u');
    assert.equal(interpreterOf({ kind: 'project', root: '/p', entry: 'src/main.py' }), '/opt/venv/bin/python -u');
    assert.equal(interpreterOf({ kind: 'file', fileName: 'a.sh', content }), undefined);
    assert.equal(interpreterOf({ kind: 'selection', text: 'ls', language: 'shellscript' }), undefined);
    assert.equal(interpreterOf({ kind: 'project', root: '/p', entry: 'run.sh' }), undefined);
    assert.deepEqual(withInterpreterSetting({ kind: 'command', command: 'ls' }, venv), {
      kind: 'command',
      command: 'ls',
    });
    assert.equal(
      interpreterOf({ kind: 'selection', text: 'print(1)', language: 'python' }, '  '),
      undefined,
      'empty: the engine default',
    );
    assert.equal(
      interpreterOf({ kind: 'file', fileName: 'a.py', content, interpreter: 'pypy3' }),
      'pypy3',
      'a source that names one keeps it',
    );
  });

  test('profile names come from section headers only', () => {
    assert.deepEqual(profileNamesIn('[default]\nregion=x\n[profile dev]\n[sso-session corp]\n[services s]\n', true), [
      'default',
      'dev',
    ]);
    assert.deepEqual(profileNamesIn('[default]\naws_secret_access_key=SECRET\n[ci]\n', false), ['default', 'ci']);
  });
});
