// The project's file-count limit, apart from project-archive.test.ts: it writes 10,001 files (half
// that file's time), and the mutation run (stryker.config.json) runs project-archive for every
// surviving mutant of the archive and the command text, which this test cannot kill.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_LIMITS } from '../../src/core/defaults';
import { listProjectFiles } from '../../src/core/project';
import { tempDir } from '../support/projectFixtures';

test('too many files: one message naming the limit and the fullest folders', async () => {
  const root = tempDir();
  mkdirSync(join(root, 'many'));
  for (let i = 0; i <= PROJECT_LIMITS.maxFiles; i++) writeFileSync(join(root, 'many', `f${i}`), '');
  await assert.rejects(
    listProjectFiles(root),
    /more than 10,000 files \(the limit\)\. Biggest: many\/ \(10,001\+ files\).*\.gitignore/,
  );
});
