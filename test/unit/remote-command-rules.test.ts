// Every rule of the command text, one test each (issue 18, mutation testing): each refusal with its own
// reason and advice, the run spec the wrapper reads, the sh prelude that picks a Python and hands it the
// wrapper (run with sh and a stand-in python), renewal commands, the header and shlex-like splitting.
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { inflateSync } from 'node:zlib';
import { RunnerError } from '../../src/core/api';
import {
  buildRemoteCommands,
  buildRenewalCommands,
  parseRemoteHeader,
  type RemotePayload,
  type RemoteRunSpec,
} from '../../src/core/remote';
import { formatRemoteHeader, formatRenewalHeader, isValidOutputLocation } from '../../src/core/remote/header';
import { splitShellWords } from '../../src/core/remote/shellWords';
import { wrapperProgram } from '../../src/core/remote/wrapperProgram';
import { assertRefused as refused, specOf } from '../support/commandSpec';
import { binDirWith, runCommandsLocally, scratchDir } from '../support/remoteRun';

const RUN_ID = 'r0123';
const SHA = 'ab'.repeat(32);
const OUTPUT = {
  url: 'https://bucket.s3.amazonaws.com/',
  fields: { key: 'k', Policy: 'p' },
  keyPrefix: 'ec2-runner/runs/r0123/',
};

function payload(overrides: Partial<RemotePayload> = {}): RemotePayload {
  return {
    fileName: 'main.py',
    sha256: SHA,
    interpreter: 'python3',
    args: [],
    fetch: { kind: 'presigned', url: 'https://bucket.s3.amazonaws.com/k?X-Amz-Signature=1' },
    ...overrides,
  };
}

const fileRun = (p: Partial<RemotePayload> = {}, spec: Partial<RemoteRunSpec> = {}): RemoteRunSpec => ({
  runId: RUN_ID,
  payload: payload(p),
  ...spec,
});

/** The wrapper's run spec, whole (specOf types only the parts other tests read). */
const fullSpecOf = (commands: string[]) => specOf(commands) as unknown as Record<string, unknown>;

describe('command text: each refusal names what is wrong and what to do', () => {
  const cases: Array<[string, RemoteRunSpec, RegExp, RegExp]> = [
    [
      'an instance id that is not one',
      fileRun({}, { instanceId: 'i-XYZ' }),
      /instance id "i-XYZ" is not an SSM instance id/,
      /pass e\.g\. i-0123456789abcdef0/,
    ],
    ['an empty run id', fileRun({}, { runId: '' }), /run id "" is not 1-64 letters/, /use a random hex id/],
    ['a run id of 65 characters', fileRun({}, { runId: 'a'.repeat(65) }), /run id "a{65}"/, /random hex id/],
    [
      'an output location with a space',
      fileRun({}, { outputLocation: 's3://b/a b/' }),
      /output location "s3:\/\/b\/a b\/" is not an s3:\/\/ URI without spaces or query/,
      /pass s3:\/\/bucket\/prefix/,
    ],
    [
      'an output location with a control character',
      fileRun({}, { outputLocation: 's3://b/a\u007f/' }),
      /output location/,
      /pass s3:\/\/bucket\/prefix/,
    ],
    [
      'neither a payload nor a shell command',
      { runId: RUN_ID },
      /give exactly one of payload and shellCommand/,
      /set one\.$/,
    ],
    [
      'a NUL in the shell command',
      { runId: RUN_ID, shellCommand: 'echo \0' },
      /the shell command contains a NUL character/,
      /remove it \(the OS cannot pass NUL in arguments or environment\)/,
    ],
    ['a blank shell command', { runId: RUN_ID, shellCommand: ' \t\n' }, /the shell command is empty/, /give a command/],
    [
      'an empty working directory',
      fileRun({}, { workingDirectory: '' }),
      /the working directory is empty/,
      /omit it to use a temporary directory/,
    ],
    [
      'a working directory with a lone surrogate',
      fileRun({}, { workingDirectory: '/srv/\uDC00' }),
      /the working directory is not valid Unicode \(lone surrogate\)/,
      /fix its encoding/,
    ],
    [
      'an environment variable name starting with a digit',
      fileRun({}, { env: { '1X': 'v' } }),
      /environment variable name "1X" is not letters, digits and _/,
      /rename it/,
    ],
    [
      'an environment variable name with a dash',
      fileRun({}, { env: { 'A-B': 'v' } }),
      /environment variable name "A-B"/,
      /rename it/,
    ],
    [
      'an environment variable named with the reserved prefix',
      fileRun({}, { env: { ec2r_x: 'v' } }),
      /environment variable name ec2r_x uses the reserved prefix ec2r_/,
      /rename it/,
    ],
    [
      'a NUL in an environment value',
      fileRun({}, { env: { GOOD: 'a\0b' } }),
      /environment variable GOOD contains a NUL character/,
      /remove it/,
    ],
    [
      'a live-output URL that is not http(s)',
      fileRun({}, { output: { ...OUTPUT, url: 'ftp://bucket/' } }),
      /the live-output URL is not http\(s\)/,
      /pass the url from createPresignedPost/,
    ],
    [
      'a live-output URL with http(s) only inside it',
      fileRun({}, { output: { ...OUTPUT, url: 'x-https://bucket/' } }),
      /the live-output URL is not http\(s\)/,
      /createPresignedPost/,
    ],
    [
      'an upload gap over a minute',
      fileRun({}, { uploadGapSeconds: 60.5 }),
      /upload gap 60\.5 is not a number of seconds from 0 to 60/,
      /pass e\.g\. 1\.25/,
    ],
    ['a negative upload gap', fileRun({}, { uploadGapSeconds: -1 }), /upload gap -1/, /1\.25/],
    ['a file name with a NUL', fileRun({ fileName: 'a\0.py' }), /the file name contains a NUL character/, /remove it/],
    [
      'an empty file name',
      fileRun({ fileName: '' }),
      /file name "" is not a plain file name/,
      /pass the base name without directories/,
    ],
    ['the file name .', fileRun({ fileName: '.' }), /file name "\." is not a plain file name/, /base name/],
    [
      'an upper-case sha256',
      fileRun({ sha256: 'AB'.repeat(32) }),
      /sha256 is not 64 lowercase hex digits/,
      /pass the hex digest of the staged bytes/,
    ],
    ['a sha256 of 63 digits', fileRun({ sha256: SHA.slice(1) }), /sha256 is not 64/, /hex digest/],
    ['a sha256 of 65 digits', fileRun({ sha256: `${SHA}a` }), /sha256 is not 64/, /hex digest/],
    [
      'a lone low surrogate in an argument',
      fileRun({ args: ['ok', 'x\uDC00'] }),
      /argument 2 is not valid Unicode/,
      /fix its encoding/,
    ],
    [
      'an inline file that is not base64',
      fileRun({ fetch: { kind: 'inline', gzipBase64: 'abc$' } }),
      /the inline file is not base64/,
      /pass the base64 of its gzip/,
    ],
    [
      'an inline file with three padding characters',
      fileRun({ fetch: { kind: 'inline', gzipBase64: 'ab===' } }),
      /the inline file is not base64/,
      /gzip/,
    ],
    [
      'an empty inline file',
      fileRun({ fetch: { kind: 'inline', gzipBase64: '' } }),
      /the inline file is not base64/,
      /gzip/,
    ],
    [
      'a presigned URL with a quote',
      fileRun({ fetch: { kind: 'presigned', url: 'https://b/k"x' } }),
      /the presigned download URL is not an http\(s\) URL without spaces, quotes or backslashes/,
      /pass the URL from getSignedUrl/,
    ],
    [
      'a presigned URL with a backslash',
      fileRun({ fetch: { kind: 'presigned', url: 'https://b/k\\x' } }),
      /presigned download URL/,
      /getSignedUrl/,
    ],
    [
      'a presigned URL with a space',
      fileRun({ fetch: { kind: 'presigned', url: 'https://b/k x' } }),
      /presigned download URL/,
      /getSignedUrl/,
    ],
    [
      'a presigned URL that is not http(s)',
      fileRun({ fetch: { kind: 'presigned', url: 'file:///etc/passwd' } }),
      /presigned download URL/,
      /getSignedUrl/,
    ],
    [
      'a presigned URL with http(s) only inside it',
      fileRun({ fetch: { kind: 'presigned', url: 'xhttps://b/k' } }),
      /presigned download URL/,
      /getSignedUrl/,
    ],
    [
      'a staged object URI with a NUL',
      fileRun({ fetch: { kind: 'instance-role', s3Uri: 's3://b/k\0', region: 'us-east-1' } }),
      /the staged object URI contains a NUL character/,
      /remove it/,
    ],
    [
      'a staged object URI without a key',
      fileRun({ fetch: { kind: 'instance-role', s3Uri: 's3://b/', region: 'us-east-1' } }),
      /staged object "s3:\/\/b\/" is not an s3:\/\/ URI/,
      /pass s3:\/\/bucket\/key/,
    ],
    [
      'a staged object URI with s3:// only inside it',
      fileRun({ fetch: { kind: 'instance-role', s3Uri: 'xs3://b/k', region: 'us-east-1' } }),
      /staged object "xs3:\/\/b\/k"/,
      /bucket\/key/,
    ],
    [
      'a region that is not a region name',
      fileRun({ fetch: { kind: 'instance-role', s3Uri: 's3://b/k', region: 'us-east-1;x' } }),
      /region "us-east-1;x" is not a region name/,
      /pass e\.g\. us-east-1/,
    ],
    [
      'a region with text before it',
      fileRun({ fetch: { kind: 'instance-role', s3Uri: 's3://b/k', region: ' us-east-1' } }),
      /region " us-east-1"/,
      /us-east-1/,
    ],
    [
      'an absolute entry file',
      fileRun({ archive: { entry: '/main.py' } }),
      /the entry file "\/main\.py" is not a relative path inside the project/,
      /give it relative to the project root, e\.g\. main\.py/,
    ],
    [
      'an empty entry file',
      fileRun({ archive: { entry: '' } }),
      /the entry file "" is not a relative path/,
      /main\.py/,
    ],
    [
      'an entry file with an empty part',
      fileRun({ archive: { entry: 'src//main.py' } }),
      /the entry file "src\/\/main\.py"/,
      /project root/,
    ],
    [
      'an entry file with a NUL',
      fileRun({ archive: { entry: 'main\0.py' } }),
      /the entry file contains a NUL character/,
      /remove it/,
    ],
    [
      'a requirements file outside the project',
      fileRun({ archive: { entry: 'main.py', requirementsFile: 'a/../../r.txt' } }),
      /the requirements file "a\/\.\.\/\.\.\/r\.txt" is not a relative path inside the project/,
      /project root/,
    ],
    [
      'both a requirements file and pyproject dependencies',
      fileRun({ archive: { entry: 'main.py', requirementsFile: 'r.txt', pyprojectDependencies: ['x'] } }),
      /give a requirements file or pyproject dependencies, not both/,
      /pass one\.$/,
    ],
    [
      'a dependency that is an option',
      fileRun({ archive: { entry: 'main.py', pyprojectDependencies: ['requests', '--index-url=http://evil'] } }),
      /dependency 2 "--index-url=http:\/\/evil" is not a requirement/,
      /give a PEP 508 requirement such as requests>=2\.31/,
    ],
    [
      'a dependency with a NUL',
      fileRun({ archive: { entry: 'main.py', pyprojectDependencies: ['a\0'] } }),
      /dependency 1 contains a NUL character/,
      /remove it/,
    ],
    [
      'a relative environments folder',
      fileRun({ archive: { entry: 'main.py', venvRoot: 'venvs' } }),
      /the environments folder "venvs" is not an absolute path/,
      /give an absolute path on the instance/,
    ],
    [
      'an environments folder with a NUL',
      fileRun({ archive: { entry: 'main.py', venvRoot: '/v\0' } }),
      /the environments folder contains a NUL character/,
      /remove it/,
    ],
    [
      'an interpreter with a NUL',
      fileRun({ interpreter: 'python3\0' }),
      /the interpreter contains a NUL character/,
      /remove it/,
    ],
    [
      'an interpreter with unbalanced single quotes',
      fileRun({ interpreter: "python3 '-u" }),
      /interpreter "python3 '-u" cannot be split into words \(no closing single quotation\)/,
      /fix its quoting/,
    ],
    ['an empty interpreter', fileRun({ interpreter: '' }), /the interpreter is empty/, /give e\.g\. python3/],
  ];
  for (const [name, spec, reason, advice] of cases) {
    test(`refuses ${name}`, () => refused(spec, reason, advice));
  }

  test('accepts the edges of each rule', () => {
    const accepted: RemoteRunSpec[] = [
      fileRun({}, { runId: 'a'.repeat(64), instanceId: 'i-0123456789abcdef0' }),
      fileRun({}, { runId: 'A-z_9' }),
      fileRun({}, { uploadGapSeconds: 60 }),
      fileRun({}, { uploadGapSeconds: 0.01 }),
      fileRun({}, { env: { _a1: '', A: 'x\uD83D\uDE00y' } }),
      fileRun({}, { output: { ...OUTPUT, url: 'http://localhost:4566/' } }),
      fileRun({ fileName: '..a', args: ['\uD83D\uDE00', ''] }),
      fileRun({ fetch: { kind: 'inline', gzipBase64: 'ab==' } }),
      fileRun({ fetch: { kind: 'presigned', url: 'http://b/k' } }),
      fileRun({ fetch: { kind: 'instance-role', s3Uri: 's3://my.bucket-1/k', region: 'eu-west-1' } }),
      fileRun({ archive: { entry: 'a/b/c.py', requirementsFile: 'req/r.txt', venvRoot: '/v' } }),
      fileRun({ archive: { entry: '.hidden.py', pyprojectDependencies: [] } }),
      { runId: RUN_ID, shellCommand: 'true', workingDirectory: '/' },
    ];
    for (const spec of accepted) assert.ok(buildRemoteCommands(spec).length > 10, JSON.stringify(spec));
  });
});

describe('command text: the run spec the wrapper reads', () => {
  test('a file run: every field, in its place', () => {
    const commands = buildRemoteCommands(
      fileRun(
        {
          interpreter: "'/opt/my py/python' -u",
          args: ['--n', '3'],
          archive: { entry: 'src/main.py', pyprojectDependencies: ['requests>=2'], venvRoot: '/v' },
        },
        {
          workingDirectory: '/srv',
          instanceId: 'i-0123456789abcdef0',
          env: { B: '2', A: '1' },
          output: OUTPUT,
          uploadGapSeconds: 1.25,
        },
      ),
    );
    assert.deepEqual(fullSpecOf(commands), {
      v: 1,
      runId: RUN_ID,
      mode: 'file',
      file: {
        name: 'main.py',
        sha256: SHA,
        fetch: { kind: 'presigned', url: 'https://bucket.s3.amazonaws.com/k?X-Amz-Signature=1' },
      },
      archive: { entry: 'src/main.py', requirements: null, dependencies: ['requests>=2'], venvRoot: '/v' },
      interpreter: ['/opt/my py/python', '-u'],
      args: ['--n', '3'],
      cwd: '/srv',
      instanceId: 'i-0123456789abcdef0',
      env: [
        ['B', '2'],
        ['A', '1'],
      ],
      output: {
        url: OUTPUT.url,
        fields: [
          ['key', 'k'],
          ['Policy', 'p'],
        ],
        keyPrefix: OUTPUT.keyPrefix,
      },
      uploadGap: 1.25,
    });
  });

  test('a shell command: no file part, and null for everything left out', () => {
    assert.deepEqual(fullSpecOf(buildRemoteCommands({ runId: RUN_ID, shellCommand: 'uname -a' })), {
      v: 1,
      runId: RUN_ID,
      mode: 'shell',
      shell: 'uname -a',
      cwd: null,
      instanceId: null,
      env: [],
      output: null,
      uploadGap: null,
    });
  });

  test('an archive with a requirements file and no environments folder; instance-role fetch as given', () => {
    const fetch = { kind: 'instance-role' as const, s3Uri: 's3://b/k.tar.gz', region: 'eu-west-1' };
    const spec = fullSpecOf(
      buildRemoteCommands(fileRun({ fetch, archive: { entry: 'm.py', requirementsFile: 'r.txt' } })),
    );
    assert.deepEqual(spec.archive, { entry: 'm.py', requirements: 'r.txt', dependencies: null, venvRoot: null });
    assert.deepEqual((spec.file as { fetch: unknown }).fetch, fetch);
  });

  test('an inline file travels once, in ec2r_inline, not in the spec', () => {
    // 280 characters of base64 (three lines of at most 120), none repeated.
    const gzipBase64 = Buffer.from(Array.from({ length: 210 }, (_, i) => (i * 37 + 11) % 256)).toString('base64');
    const commands = buildRemoteCommands(fileRun({ fetch: { kind: 'inline', gzipBase64 } }));
    assert.deepEqual((fullSpecOf(commands).file as { fetch: unknown }).fetch, { kind: 'inline' });
    const start = commands.findIndex((line) => line.startsWith('ec2r_inline='));
    assert.deepEqual(commands.slice(start, start + 3), [
      `ec2r_inline='${gzipBase64.slice(0, 120)}`,
      gzipBase64.slice(120, 240),
      `${gzipBase64.slice(240)}'`,
    ]);
    assert.equal(commands.join('\n').split(gzipBase64.slice(0, 120)).length, 2, 'the file is in the text once');
  });

  test('the wrapper is packed in quoted lines of 120 characters that inflate to the program with this spec', () => {
    const commands = buildRemoteCommands(fileRun());
    const start = commands.indexOf('exec(compile(zlib.decompress(base64.b64decode(');
    assert.equal(commands[start - 1], 'import base64, zlib');
    const end = commands.indexOf(')), "ec2-runner-wrapper", "exec"))');
    const packed = commands.slice(start + 1, end);
    assert.ok(packed.length > 10);
    for (const line of packed.slice(0, -1)) assert.match(line, /^"[A-Za-z0-9+/]{120}"$/);
    assert.match(packed[packed.length - 1], /^"[A-Za-z0-9+/=]{1,120}"$/);
    const program = inflateSync(Buffer.from(packed.map((line) => line.slice(1, -1)).join(''), 'base64')).toString();
    const specBase64 = /^SPEC_BASE64 = "(.*)"$/m.exec(program)![1];
    assert.equal(program, wrapperProgram(specBase64));
  });
});

describe('command text: the sh prelude picks a Python 3.6+ and hands it the wrapper', () => {
  const scratch = scratchDir();
  after(() => scratch.dispose());
  const tools = binDirWith(join(scratch.root, 'tools'), ['sh', 'base64', 'gzip', 'mktemp', 'rm', 'cat']);

  /**
   * A stand-in Python: answers the version check with `versionOk`, records the program it is given on
   * stdin and the variables the prelude sets, and exits 7.
   */
  function fakePython(dir: string, name: string, versionOk: boolean): void {
    const out = join(scratch.root, 'seen');
    const script = [
      '#!/bin/sh',
      '[ "$1" = "-S" ] && shift # no site: the wrapper needs only the standard library',
      `if [ "$1" = "-c" ]; then echo "${name} $2" >>"${out}-checks"; exit ${versionOk ? 0 : 1}; fi`,
      `[ "$1" = "-" ] || exit 99`,
      `cat >"${out}-program"`,
      `printf %s "${name}" >"${out}-which"`,
      `printf %s "$ec2r_script" >"${out}-script"`,
      `printf %s "\${ec2r_inline-unset}" >"${out}-inline"`,
      `printf %s "\${CDPATH-unset}" >"${out}-cdpath"`,
      'exit 7',
    ].join('\n');
    writeFileSync(join(dir, name), script);
    chmodSync(join(dir, name), 0o755);
  }
  const seen = (what: string) => readFileSync(join(scratch.root, `seen-${what}`), 'utf8');

  async function runWith(pythons: Array<[string, boolean]>, commands: string[]) {
    const dirs = scratchDir();
    try {
      const bin = join(dirs.root, 'bin');
      binDirWith(dirs.root, []);
      for (const [name, ok] of pythons) fakePython(bin, name, ok);
      for (const what of ['checks', 'program', 'which', 'script', 'inline', 'cdpath'])
        writeFileSync(join(scratch.root, `seen-${what}`), '');
      const run = await runCommandsLocally(commands, {
        cwd: dirs.agent,
        env: { PATH: `${bin}:${tools}`, TMPDIR: dirs.tmp, CDPATH: dirs.root },
      });
      return { run, agent: dirs.agent };
    } finally {
      dirs.dispose();
    }
  }

  test('python3 first; its exit status is the command’s; the script path and no CDPATH reach it', async () => {
    const commands = buildRemoteCommands(fileRun());
    const { run, agent } = await runWith(
      [
        ['python3', true],
        ['python', true],
      ],
      commands,
    );
    assert.equal(run.exitCode, 7, run.stderr.toString());
    assert.equal(seen('which'), 'python3');
    assert.equal(seen('checks'), 'python3 import sys; sys.exit(sys.version_info < (3, 6))\n');
    assert.equal(seen('script'), join(agent, '_script.sh'));
    assert.equal(seen('cdpath'), 'unset');
    assert.equal(seen('inline'), 'unset', 'no inline file, no ec2r_inline');
    const start = commands.indexOf('import base64, zlib');
    const end = commands.indexOf(')), "ec2-runner-wrapper", "exec"))');
    assert.equal(seen('program'), `${commands.slice(start, end + 1).join('\n')}\n`);
    assert.equal(run.stderr.toString(), '', 'the sh fallback did not run');
  });

  test('a python3 older than 3.6 is passed over for python; the inline file reaches it in ec2r_inline', async () => {
    const gzipBase64 = 'QUJD'.repeat(40);
    const { run } = await runWith(
      [
        ['python3', false],
        ['python', true],
      ],
      buildRemoteCommands(fileRun({ fetch: { kind: 'inline', gzipBase64 } })),
    );
    assert.equal(run.exitCode, 7, run.stderr.toString());
    assert.equal(seen('which'), 'python');
    assert.equal(seen('inline').replace(/\n/g, ''), gzipBase64);
  });

  test('without a Python 3.6+ the sh fallback runs, saying so', async () => {
    const { run } = await runWith(
      [['python3', false]],
      buildRemoteCommands({ runId: RUN_ID, shellCommand: 'echo "fallback $EC2_RUNNER_RUN_ID"; exit 5' }),
    );
    assert.equal(run.exitCode, 5);
    assert.equal(run.stdout.toString(), `fallback ${RUN_ID}\n`);
    assert.match(run.stderr.toString(), /^ec2-runner: no python3 on this instance: running without live output/);
    assert.equal(seen('program'), '', 'python3 was only asked for its version');
  });
});

describe('renewal commands', () => {
  test('the renewal header, the renew spec and a clean exit without Python', () => {
    const commands = buildRenewalCommands(RUN_ID, OUTPUT, 'https://b/k?sig', 'i-0123456789abcdef0');
    assert.equal(commands[0], '# ec2-runner renew r0123');
    assert.equal(commands[0], formatRenewalHeader(RUN_ID));
    assert.equal(parseRemoteHeader(commands), undefined, 'a renewal is not a run of its own');
    assert.equal(commands[commands.length - 1], 'exit 0');
    assert.deepEqual(fullSpecOf(commands), {
      v: 1,
      runId: RUN_ID,
      mode: 'renew',
      output: {
        url: OUTPUT.url,
        fields: [
          ['key', 'k'],
          ['Policy', 'p'],
        ],
        keyPrefix: OUTPUT.keyPrefix,
      },
      download: 'https://b/k?sig',
      instanceId: 'i-0123456789abcdef0',
    });
  });

  test('no download URL and no (or a malformed) instance id are null', () => {
    for (const instanceId of [undefined, '', 'i-nothex!']) {
      const spec = fullSpecOf(buildRenewalCommands(RUN_ID, OUTPUT, undefined, instanceId));
      assert.equal(spec.download, null);
      assert.equal(spec.instanceId, null, String(instanceId));
    }
  });

  test('a bad run id or live-output URL is refused', () => {
    const invalid = (fn: () => unknown, message: RegExp) =>
      assert.throws(fn, (error: unknown) => error instanceof RunnerError && message.test(error.message));
    invalid(
      () => buildRenewalCommands('a b', OUTPUT),
      /run id "a b" is not 1-64 letters, digits, - or _; use a random hex id\./,
    );
    invalid(
      () => buildRenewalCommands(RUN_ID, { ...OUTPUT, url: 'ftp://b/' }),
      /the live-output URL is not http\(s\); pass the url from createPresignedPost\./,
    );
    invalid(() => buildRenewalCommands(RUN_ID, { ...OUTPUT, url: 'x-http://b/' }), /live-output URL/);
  });
});

describe('the header line and interpreter splitting', () => {
  test('output locations: no whitespace, query, fragment or control character', () => {
    assert.equal(isValidOutputLocation('s3://b/runs/r1/'), true);
    for (const bad of [
      's3://b/a?x',
      's3://b/a#x',
      's3://b/a\tb',
      's3://b/\u0001',
      's3://b/\u001f',
      'xs3://b/',
      's3://',
    ])
      assert.equal(isValidOutputLocation(bad), false, JSON.stringify(bad));
    assert.equal(isValidOutputLocation('s3://b/\u0080'), true, 'only ASCII controls are refused');
  });

  test('a header with a carriage return or followed by the script parses; text around it does not', () => {
    assert.deepEqual(parseRemoteHeader(['# ec2-runner run r1 output s3://b/p/\r']), {
      runId: 'r1',
      outputLocation: 's3://b/p/',
    });
    assert.equal(parseRemoteHeader([' # ec2-runner run r1']), undefined);
    assert.equal(parseRemoteHeader(['# ec2-runner run r1 ']), undefined);
    assert.equal(parseRemoteHeader(['# ec2-runner run r1 output s3://b/p/ x']), undefined);
    assert.equal(parseRemoteHeader(['# ec2-runner run r\r1']), undefined, 'only a trailing carriage return goes');
    assert.equal(formatRemoteHeader('r1'), '# ec2-runner run r1', 'no location, nothing after the run id');
  });

  test('tabs, carriage returns and newlines separate words; quotes join', () => {
    assert.deepEqual(splitShellWords('a\tb\rc\nd'), ['a', 'b', 'c', 'd']);
    assert.deepEqual(splitShellWords('"a b"\'c d\'e'), ['a bc de']);
    assert.deepEqual(splitShellWords('""'), ['']);
    assert.deepEqual(splitShellWords('x "" y'), ['x', '', 'y']);
    assert.deepEqual(splitShellWords(''), []);
  });

  test('in double quotes only \\" and \\\\ are escapes; in single quotes nothing is', () => {
    assert.deepEqual(splitShellWords('"a\\\\b"'), ['a\\b']);
    assert.deepEqual(splitShellWords('"a\\nb"'), ['a\\nb']);
    assert.deepEqual(splitShellWords('"a\\"b" "\\\\"'), ['a"b', '\\']);
    assert.deepEqual(splitShellWords("'a\\\"b'"), ['a\\"b']);
    assert.deepEqual(splitShellWords('a\\ b\\"c'), ['a b"c']);
    assert.throws(() => splitShellWords('"a\\'), /no closing double quotation/);
    assert.throws(() => splitShellWords("'a"), /no closing single quotation/);
  });
});
