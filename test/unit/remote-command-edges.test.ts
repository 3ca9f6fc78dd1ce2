// The edges of the command text (src/core/remote/commandText.ts) that remote-command-rules leaves open: the
// budget to the byte, line splitting at a whole number of lines, the wrapper's compression, the interpreters the
// prelude tries, the renewal's prelude and URL, and refusals whose text or anchor matters.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { deflateSync, inflateSync } from 'node:zlib';
import { RunnerError } from '../../src/core/api';
import {
  buildRemoteCommands,
  buildRenewalCommands,
  COMMAND_TEXT_BUDGET_BYTES,
  type RemoteRunSpec,
} from '../../src/core/remote';
import { assertRefused as refused, specOf } from '../support/commandSpec';

const RUN_ID = 'r0123';
const OUTPUT = {
  url: 'https://bucket.s3.amazonaws.com/',
  fields: { key: 'k', Policy: 'p' },
  keyPrefix: 'ec2-runner/runs/r0123/',
};
const PACK_START = 'exec(compile(zlib.decompress(base64.b64decode(';
const PACK_END = ')), "ec2-runner-wrapper", "exec"))';

/** Text that deflate cannot shrink much: hex of a sha256 chain. */
const NOISE = Array.from({ length: 40 }, (_, i) => createHash('sha256').update(`noise ${i}`).digest('hex')).join('');

const sizeOf = (commands: string[]) => Buffer.byteLength(commands.join('\n'));

/** The quoted lines of the packed wrapper, as they are in the command text. */
function packedLines(commands: string[]): string[] {
  return commands.slice(commands.indexOf(PACK_START) + 1, commands.indexOf(PACK_END));
}

/** The packed wrapper's base64, unquoted. */
const packedBase64 = (commands: string[]) =>
  packedLines(commands)
    .map((line) => line.slice(1, -1))
    .join('');

describe('command text: the budget, to the byte', () => {
  test('a command of exactly the budget is sent; one byte more is refused, saying by how much and what to do', () => {
    // The output location is only in the header: each character of it is one byte of the text.
    const spec = (command: string, pad: number): RemoteRunSpec => ({
      runId: RUN_ID,
      outputLocation: `s3://b/${'p'.repeat(pad)}/`,
      shellCommand: `echo ${command}`,
    });
    const base = sizeOf(buildRemoteCommands(spec('', 0)));
    // Repeated text deflates to almost nothing; its base64 in the sh fallback takes 4 bytes per 3.
    const command = 'x'.repeat(Math.floor(((COMMAND_TEXT_BUDGET_BYTES - base - 600) * 3) / 4));
    const pad = COMMAND_TEXT_BUDGET_BYTES - sizeOf(buildRemoteCommands(spec(command, 0)));
    assert.ok(pad > 0 && pad < 2000, `pad ${pad}`);
    assert.equal(sizeOf(buildRemoteCommands(spec(command, pad))), COMMAND_TEXT_BUDGET_BYTES);
    assert.throws(
      () => buildRemoteCommands(spec(command, pad + 1)),
      (error: unknown) => {
        assert.ok(error instanceof RunnerError && error.code === 'CommandTooLarge', String(error));
        assert.match(
          error.message,
          new RegExp(
            `^The command for the instance would be ${COMMAND_TEXT_BUDGET_BYTES + 1} bytes, over the ` +
              `${COMMAND_TEXT_BUDGET_BYTES}-byte budget \\(SSM limits commands to 64 KB\\): pass fewer or shorter`,
          ),
        );
        assert.match(error.message, /put large inputs in a file\.$/);
        return true;
      },
    );
  });
});

describe('command text: lines of 120 characters, and the packed wrapper', () => {
  test('an inline file of exactly two lines ends on its second line', () => {
    const gzipBase64 = NOISE.slice(0, 240);
    const commands = buildRemoteCommands({
      runId: RUN_ID,
      payload: {
        fileName: 'a.sh',
        sha256: 'ab'.repeat(32),
        interpreter: 'sh',
        args: [],
        fetch: { kind: 'inline', gzipBase64 },
      },
    });
    const start = commands.findIndex((line) => line.startsWith('ec2r_inline='));
    assert.deepEqual(commands.slice(start, start + 3), [
      `ec2r_inline='${gzipBase64.slice(0, 120)}`,
      `${gzipBase64.slice(120)}'`,
      commands.find((line) => line.startsWith('for ec2r_candidate in ')),
    ]);
  });

  test('a packed wrapper of a whole number of lines has no empty line after them', () => {
    // Look for a shell command whose packed wrapper is a multiple of 120 characters (about one in 30).
    let found: string[] | undefined;
    for (let k = 1; k <= 300 && !found; k++) {
      const commands = buildRemoteCommands({ runId: RUN_ID, shellCommand: `echo ${NOISE.slice(0, 7 * k)}` });
      if (packedBase64(commands).length % 120 === 0) found = packedLines(commands);
    }
    assert.ok(found, 'no shell command gave a packed wrapper of whole lines');
    for (const line of found) assert.match(line, /^"[A-Za-z0-9+/=]{120}"$/);
    assert.ok(found.length > 10);
  });

  test('the wrapper is deflated at the highest level (every byte of it counts against the budget)', () => {
    const packed = packedBase64(buildRemoteCommands({ runId: RUN_ID, shellCommand: 'true' }));
    const program = inflateSync(Buffer.from(packed, 'base64'));
    assert.equal(packed, deflateSync(program, { level: 9 }).toString('base64'));
  });

  test('on RHEL 8 the system Python (/usr/libexec/platform-python) is tried between python3 and python', () => {
    const commands = buildRemoteCommands({ runId: RUN_ID, shellCommand: 'true' });
    assert.ok(commands.includes('for ec2r_candidate in python3 /usr/libexec/platform-python python; do'));
  });
});

describe('command text: renewals', () => {
  test('a renewal carries no inline file: its prelude goes straight to the Python search', () => {
    const commands = buildRenewalCommands(RUN_ID, OUTPUT);
    assert.equal(commands[1], 'unset CDPATH; ec2r_py=');
    assert.match(commands[2], /^for ec2r_candidate in /);
    assert.ok(commands.includes(`ec2r_script=$0 exec "$ec2r_py" -S - <<'EC2RUNNER_EOF'`));
  });

  test('a renewal accepts a plain http live-output URL (a local S3 endpoint)', () => {
    const output = { ...OUTPUT, url: 'http://localhost:4566/' };
    const spec = specOf(buildRenewalCommands(RUN_ID, output)) as unknown as { output: { url: string } };
    assert.equal(spec.output.url, 'http://localhost:4566/');
  });
});

describe('command text: refusals whose text or anchor matters', () => {
  test('a live-output key prefix without a trailing / is refused, saying to add it', () => {
    refused(
      { runId: RUN_ID, shellCommand: 'true', output: { ...OUTPUT, keyPrefix: 'runs/r1' } },
      /live-output key prefix "runs\/r1" does not end with \//,
      /; add the \/\.$/,
    );
  });

  test('an inline file with a quote before its base64 is refused (it would end the quoted ec2r_inline)', () => {
    const fetch = { kind: 'inline' as const, gzipBase64: "x';id;'AAAA" };
    refused(
      { runId: RUN_ID, payload: { fileName: 'a.sh', sha256: 'ab'.repeat(32), interpreter: 'sh', args: [], fetch } },
      /the inline file is not base64/,
      /pass the base64 of its gzip/,
    );
  });
});
