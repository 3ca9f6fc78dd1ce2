import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inflateSync } from 'node:zlib';
import { RunnerError } from '../../src/core/api';
import {
  buildRemoteCommands,
  COMMAND_TEXT_BUDGET_BYTES,
  parseRemoteHeader,
  type RemoteRunSpec,
} from '../../src/core/remote';
import { splitShellWords } from '../../src/core/remote/shellWords';

const SECRET_SIGNATURE = 'X-Amz-Signature=5ecre75ecre75ecre75ecre75ecre75ecre75ecre75ecre75ecre75ecre7aaaa';
const SESSION_TOKEN = 'IQoJb3JpZ2luX2VjEXAMPLETOKEN';

function fileSpec(overrides: Partial<RemoteRunSpec> = {}): RemoteRunSpec {
  return {
    runId: '0123456789abcdef',
    outputLocation: 's3://my-bucket/ec2-runner/runs/0123456789abcdef/',
    payload: {
      fileName: 'train.py',
      sha256: 'a'.repeat(64),
      interpreter: 'python3',
      args: ['--epochs', '3'],
      fetch: {
        kind: 'presigned',
        url: `https://my-bucket.s3.amazonaws.com/k?X-Amz-Security-Token=${SESSION_TOKEN}&${SECRET_SIGNATURE}`,
      },
    },
    output: {
      url: 'https://my-bucket.s3.amazonaws.com/',
      fields: {
        bucket: 'my-bucket',
        'X-Amz-Signature': 'postsignature0000postsignature',
        Policy: 'eyJwb2xpY3kiOnRydWV9',
      },
      keyPrefix: 'ec2-runner/runs/0123456789abcdef/',
    },
    ...overrides,
  };
}

function text(spec: RemoteRunSpec): string {
  return buildRemoteCommands(spec).join('\n');
}

describe('remote command header', () => {
  test('the first line names the run and its output location and parses back', () => {
    const commands = buildRemoteCommands(fileSpec());
    assert.equal(
      commands[0],
      '# ec2-runner run 0123456789abcdef output s3://my-bucket/ec2-runner/runs/0123456789abcdef/',
    );
    assert.deepEqual(parseRemoteHeader(commands), {
      runId: '0123456789abcdef',
      outputLocation: 's3://my-bucket/ec2-runner/runs/0123456789abcdef/',
    });
  });

  test('parses the script as one element and a header without output location', () => {
    assert.deepEqual(parseRemoteHeader(['# ec2-runner run abc\r\necho hi']), { runId: 'abc' });
    assert.deepEqual(parseRemoteHeader([text(fileSpec())]), {
      runId: '0123456789abcdef',
      outputLocation: 's3://my-bucket/ec2-runner/runs/0123456789abcdef/',
    });
  });

  test('commands of other tools are not ec2-runner runs', () => {
    for (const commands of [
      [],
      [''],
      ['echo hi'],
      ['#!/bin/bash', '# ec2-runner run abc'],
      ['# ec2-runner run a b'],
      ['# ec2-runner run abc output https://x?sig=1'],
    ]) {
      assert.equal(parseRemoteHeader(commands), undefined, JSON.stringify(commands));
    }
  });
});

/** The wrapper's Python source, inflated from the packed lines of the command text. */
function unpackWrapper(commandText: string): string {
  const lines = commandText.split('\n');
  const start = lines.indexOf('exec(compile(zlib.decompress(base64.b64decode(');
  const end = lines.findIndex((line, index) => index > start && line.startsWith(')), "ec2-runner-wrapper"'));
  assert.ok(start > 0 && end > start, 'the packed wrapper is in the command text');
  return inflateSync(
    Buffer.from(
      lines
        .slice(start + 1, end)
        .map((line) => line.slice(1, -1))
        .join(''),
      'base64',
    ),
  ).toString('utf8');
}

describe('remote command text', () => {
  test('presigned URLs and POST fields appear only inside base64, never in clear text', () => {
    const commandText = text(fileSpec());
    for (const secret of [
      SECRET_SIGNATURE,
      SESSION_TOKEN,
      'postsignature0000postsignature',
      'X-Amz-Signature',
      'https://my-bucket',
    ]) {
      assert.ok(!commandText.includes(secret), `${secret} must not be in clear text`);
    }
    const embedded = /^SPEC_BASE64 = "([A-Za-z0-9+/=]+)"$/m.exec(unpackWrapper(commandText));
    assert.ok(embedded, 'the wrapper spec is embedded as base64');
    const spec = JSON.parse(Buffer.from(embedded[1], 'base64').toString('utf8'));
    assert.ok(spec.file.fetch.url.includes(SECRET_SIGNATURE));
    assert.deepEqual(spec.output.fields, [
      ['bucket', 'my-bucket'],
      ['X-Amz-Signature', 'postsignature0000postsignature'],
      ['Policy', 'eyJwb2xpY3kiOnRydWV9'],
    ]);
  });

  test('user-controlled values never appear unencoded (arguments, env, working directory, file name)', () => {
    const hostile = "'; rm -rf / #$(id)`id`\nEC2RUNNER_EOF\n";
    const commandText = text(
      fileSpec({
        workingDirectory: `/srv/${hostile}`,
        env: { HOSTILE: hostile },
        payload: { ...fileSpec().payload!, fileName: `x${hostile.replaceAll('/', '')}.py`, args: [hostile] },
      }),
    );
    assert.ok(!commandText.includes('$(id)') && !commandText.includes("'; rm"));
    assert.equal(
      commandText.split('\n').filter((line) => line === 'EC2RUNNER_EOF').length,
      1,
      'the heredoc delimiter occurs once',
    );
  });

  test('shell commands are base64 too, and the text stays within budget', () => {
    const spec: RemoteRunSpec = { runId: 'r1', shellCommand: 'echo "$HOME" && uname -a' };
    const commandText = text(spec);
    assert.ok(!commandText.includes('uname -a'));
    assert.ok(
      Buffer.byteLength(commandText) < COMMAND_TEXT_BUDGET_BYTES / 1.5,
      `base text is ${Buffer.byteLength(commandText)} bytes`,
    );
  });

  test('the base command leaves most of the budget for arguments', () => {
    const size = Buffer.byteLength(text(fileSpec()));
    assert.ok(size < 20 * 1024, `base command is ${size} bytes`);
  });

  test('a command over the budget is refused with an actionable error', () => {
    const big = fileSpec({ payload: { ...fileSpec().payload!, args: ['x'.repeat(COMMAND_TEXT_BUDGET_BYTES / 2)] } });
    assert.throws(
      () => buildRemoteCommands(big),
      (error: unknown) =>
        error instanceof RunnerError &&
        error.code === 'CommandTooLarge' &&
        /budget.*put large inputs in a file/.test(error.message),
    );
  });

  const invalidSpecs: Array<[string, RemoteRunSpec, RegExp]> = [
    [
      'NUL in an argument',
      fileSpec({ payload: { ...fileSpec().payload!, args: ['a\0b'] } }),
      /argument 1 contains a NUL/,
    ],
    ['lone surrogate', fileSpec({ payload: { ...fileSpec().payload!, args: ['\uD800'] } }), /not valid Unicode/],
    [
      'file name with a slash',
      fileSpec({ payload: { ...fileSpec().payload!, fileName: 'a/b.py' } }),
      /not a plain file name/,
    ],
    ['file name ..', fileSpec({ payload: { ...fileSpec().payload!, fileName: '..' } }), /not a plain file name/],
    ['bad sha256', fileSpec({ payload: { ...fileSpec().payload!, sha256: 'ABC' } }), /sha256/],
    [
      'unbalanced interpreter quoting',
      fileSpec({ payload: { ...fileSpec().payload!, interpreter: 'python3 "-u' } }),
      /no closing double quotation/,
    ],
    ['empty interpreter', fileSpec({ payload: { ...fileSpec().payload!, interpreter: '  ' } }), /interpreter is empty/],
    ['env name with =', fileSpec({ env: { 'A=B': 'x' } }), /environment variable name/],
    ['env name with the reserved prefix', fileSpec({ env: { ec2r_tmp: '/' } }), /reserved prefix ec2r_/],
    ['newline in run id', fileSpec({ runId: 'abc\nrm -rf /' }), /run id/],
    [
      'presigned URL in the output location',
      fileSpec({ outputLocation: 's3://b/k?X-Amz-Signature=1' }),
      /output location/,
    ],
    ['both payload and shell command', fileSpec({ shellCommand: 'ls' }), /exactly one of payload and shellCommand/],
    [
      'key prefix without slash',
      fileSpec({ output: { ...fileSpec().output!, keyPrefix: 'runs/r1' } }),
      /does not end with \//,
    ],
  ];
  for (const [name, spec, message] of invalidSpecs) {
    test(`refuses ${name} with a clear message`, () => {
      assert.throws(
        () => buildRemoteCommands(spec),
        (error: unknown) =>
          error instanceof RunnerError && error.code === 'InvalidRunSpec' && message.test(error.message),
      );
    });
  }
});

describe('interpreter splitting (Python shlex.split rules)', () => {
  const cases: Array<[string, string[]]> = [
    ['python3', ['python3']],
    ['  /opt/venv/bin/python   -u ', ['/opt/venv/bin/python', '-u']],
    ["'/opt/my env/python' -X dev", ['/opt/my env/python', '-X', 'dev']],
    ['"a\\"b" c\\ d', ['a"b', 'c d']],
    ['"a\\$b"', ['a\\$b']],
    ["a'b c'd", ['ab cd']],
    ["''", ['']],
  ];
  for (const [line, words] of cases) {
    test(`${JSON.stringify(line)} splits into ${JSON.stringify(words)}`, () => {
      assert.deepEqual(splitShellWords(line), words);
    });
  }
  test('a trailing backslash is an error, as in shlex', () => {
    assert.throws(() => splitShellWords('python3 \\'), /trailing backslash/);
  });
});
