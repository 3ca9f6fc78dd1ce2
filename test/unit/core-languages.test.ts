// How a file runs: its extension, else its #! line; a file neither names is refused, never run with sh.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RunnerError } from '../../src/core/api';
import { interpreterFor, shebangInterpreter } from '../../src/core/languages';
import { defaultInterpreter } from '../../src/core/request';
import { cliMessage } from '../../src/cli/advice';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('interpreters', () => {
  test('by extension first, then the #! line', () => {
    assert.equal(interpreterFor('train.py'), 'python3');
    assert.equal(interpreterFor('job.SH'), 'bash');
    assert.equal(interpreterFor('job.bash'), 'bash');
    assert.equal(interpreterFor('tool', bytes('#!/usr/bin/env python3\nprint(1)\n')), '/usr/bin/env python3');
    assert.equal(interpreterFor('deploy', bytes('#!/bin/bash -e\r\necho hi\r\n')), '/bin/bash -e');
    assert.equal(interpreterFor('x.py', '#!/bin/sh\n'), 'python3', 'the extension wins, as in the editor');
    assert.equal(shebangInterpreter('#!   \n'), undefined);
    assert.equal(shebangInterpreter(' #!/bin/sh\n'), undefined, 'only on the very first byte');
  });

  test('a file neither names (README.md, a data file) is refused with what to do, never run with sh', () => {
    for (const [name, content] of [
      ['README.md', '# Title\n'],
      ['notes', 'plain text\n'],
      ['data.csv', 'a,b\n'],
    ]) {
      assert.equal(interpreterFor(name, bytes(content)), undefined, name);
      assert.throws(
        () => defaultInterpreter(name, bytes(content)),
        (error: unknown) => {
          assert.ok(error instanceof RunnerError);
          assert.equal(error.code, 'UnsupportedFileType');
          assert.match(
            cliMessage(error),
            new RegExp(`Cannot tell how to run ${name.replace('.', '\\.')}: .*#! line.*--interpreter`),
          );
          assert.match(
            error.message,
            /#! line\. Add one \(e\.g\. #!\/usr\/bin\/env python3\), or give an interpreter\.$/,
          );
          return true;
        },
      );
    }
  });
});
