// The artifact limits and file handles, apart from security-tar-and-paths because they are its slowest tests
// (10,001 headers read; 200 files written): the mutation run reruns that file for every mutant of the archive and
// the artifacts and stops at its first failure, so most mutants no longer pay for these two.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { writeTar } from '../../src/core/archive';
import { listArtifacts, writeArtifacts } from '../../src/core/artifacts';
import { ARTIFACTS_MAX_FILES } from '../../src/core/defaults';
import { END_BLOCKS, headerBlock, octalSize, tarFormat } from '../support/tarFixtures';
import { makeTempDir } from '../support/tempDirs';

describe('artifact limits and file handles', () => {
  test('listing applies the artifact limits: one file over the count is refused', () => {
    // Hand-made headers, not writeTar: 10,001 entries through the writer take three times as long (the writer's
    // bytes are tested in security-tar-and-paths).
    const headers = Array.from({ length: ARTIFACTS_MAX_FILES + 1 }, (_, i) =>
      headerBlock({ name: `f${i}`, size: octalSize(0) }),
    );
    const tar = Buffer.concat([...headers, END_BLOCKS]);
    assert.throws(() => listArtifacts(tar), tarFormat(new RegExp(`more than ${ARTIFACTS_MAX_FILES} files`)));
    assert.deepEqual(listArtifacts(writeTar([{ path: 'r.csv', content: Buffer.from('a,b\n') }])), [
      { path: 'r.csv', size: 4 },
    ]);
  });

  test(
    'file handles are closed after each write',
    { skip: process.platform !== 'linux' && 'counts /proc/self/fd' },
    async () => {
      const before = readdirSync('/proc/self/fd').length;
      const files = Array.from({ length: 200 }, (_, i) => ({ path: `f${i}.txt`, content: Buffer.from(String(i)) }));
      await writeArtifacts(writeTar(files), path.join(makeTempDir('ec2-runner-tar-limits-'), 'many'));
      assert.ok(readdirSync('/proc/self/fd').length < before + 10, 'no descriptor left open per file');
    },
  );
});
