// The live-output cadence the client picks for a run (cadence.ts) and hands to the wrapper.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uploadGapSeconds } from '../../src/core/cadence';
import { LIVE_UPLOAD_GAP_SECONDS } from '../../src/core/defaults';
import { buildRemoteCommands } from '../../src/core/remote';
import { specOf } from '../support/commandSpec';

const ids = (n: number) => ({
  kind: 'instances' as const,
  instanceIds: Array.from({ length: n }, (_, i) => `i-${String(i).padStart(17, '0')}`),
});
const tags = { kind: 'tags' as const, tags: [{ key: 'Role', value: 'worker' }] };

test('watched runs on fewer than 50 instances upload every 1.25 s; fleets every 6 s; unwatched runs every 15 s', () => {
  assert.equal(uploadGapSeconds({ target: ids(1) }, 1), LIVE_UPLOAD_GAP_SECONDS.watched);
  assert.equal(uploadGapSeconds({ target: ids(49) }, undefined), LIVE_UPLOAD_GAP_SECONDS.watched);
  assert.equal(uploadGapSeconds({ target: tags }, 3), LIVE_UPLOAD_GAP_SECONDS.watched);
  assert.equal(uploadGapSeconds({ target: tags }, 50), LIVE_UPLOAD_GAP_SECONDS.fleet);
  assert.equal(
    uploadGapSeconds({ target: tags }, undefined),
    LIVE_UPLOAD_GAP_SECONDS.fleet,
    'tag targets that could not be counted',
  );
  assert.equal(uploadGapSeconds({ target: ids(1), unwatched: true }, 1), LIVE_UPLOAD_GAP_SECONDS.unwatched);
  assert.deepEqual(LIVE_UPLOAD_GAP_SECONDS, { watched: 1.25, fleet: 6, unwatched: 15 });
});

test('the gap reaches the wrapper spec; nonsense is refused before anything is sent', () => {
  const spec = { runId: 'abc', shellCommand: 'true' };
  const uploadGapOf = (commands: string[]) => (specOf(commands) as { uploadGap?: number | null }).uploadGap;
  assert.equal(uploadGapOf(buildRemoteCommands({ ...spec, uploadGapSeconds: 1.25 })), 1.25);
  assert.equal(uploadGapOf(buildRemoteCommands(spec)), null);
  assert.throws(
    () => buildRemoteCommands({ ...spec, uploadGapSeconds: 0 }),
    /upload gap 0 is not a number of seconds from 0 to 60/,
  );
  assert.throws(() => buildRemoteCommands({ ...spec, uploadGapSeconds: Number.NaN }), /upload gap NaN/);
});
