// The live-channel reader's edges (issue 18, mutation testing): the price of a listing beyond 1,000 keys, where a
// listing starts after a probe, discovery with nothing followed, fetches bounded by the objects' size, and several
// gaps in a row.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GET_COST_IN_LISTS } from '../../src/core/liveChannelReader';
import { chunkKey, encodeFrames } from '../../src/core/remote';
import { text } from '../support/fakeRunBackend';
import { ID, ID2, out, PREFIX, reader } from '../support/liveChannelHarness';

/** `count` instance ids in key order. */
const fleet = (count: number) => Array.from({ length: count }, (_, i) => `i-${String(i).padStart(17, '0')}`);

describe('live channel reader: what a listing costs', () => {
  const SIZE = 15;
  /** A reader that has listed and read a fleet of SIZE: key 0 of each, and the second's keys `secondSeqs`. */
  async function readFleet(secondSeqs: number[] = []) {
    const ids = fleet(SIZE);
    const parts = reader();
    for (const id of ids) parts.channel.put(id, 0, out('x'));
    for (const seq of secondSeqs) parts.channel.put(ids[1], seq, out('x'));
    await parts.r.list(ids, { discover: false });
    for (const id of ids) await parts.r.drain(id);
    parts.channel.calls.length = 0;
    return { ...parts, ids };
  }
  /** Sequence numbers from..to, both included. */
  const seqs = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
  /** A fleet read so that `keysAfterFirst` keys are listed after the first instance's. */
  const listedFleet = (keysAfterFirst: number) => readFleet(seqs(1, keysAfterFirst - (SIZE - 1)));

  test('1,000 keys listed after the first followed instance make a listing cost two calls: GETs are cheaper', async () => {
    const { r, channel, ids } = await listedFleet(1_000);
    const pass = await r.list(ids, { discover: false });
    assert.deepEqual(pass, { discovered: [], listCalls: SIZE * GET_COST_IN_LISTS });
    assert.deepEqual(channel.calls, [], 'probed when drained, not listed');
  });

  test('999 keys after it: one call, cheaper than 15 GETs, so the prefix is listed', async () => {
    const { r, channel, ids } = await listedFleet(999);
    assert.deepEqual(await r.list(ids, { discover: false }), { discovered: [], listCalls: 1 });
    assert.deepEqual(channel.calls, [`list ${PREFIX} after ${chunkKey(PREFIX, ids[0], 0)}`]);
  });

  test('keys of instances before the listing starts are not counted; a discovering listing counts them all', async () => {
    const { r, channel, ids } = await listedFleet(1_000);
    const afterTheLongOne = ids.slice(2);
    assert.deepEqual(await r.list(afterTheLongOne, { discover: false }), { discovered: [], listCalls: 1 });
    assert.deepEqual(channel.calls, [`list ${PREFIX} after ${chunkKey(PREFIX, ids[2], 0)}`]);
    assert.deepEqual(await r.list(ids, { discover: true }), { discovered: [], listCalls: 2 });
  });

  test('a discovering listing lists every key again: none is counted twice (999 stay one call)', async () => {
    const { r, channel, ids } = await listedFleet(999);
    await r.list(ids, { discover: true });
    channel.calls.length = 0;
    assert.deepEqual(await r.list(ids, { discover: false }), { discovered: [], listCalls: 1 });
    assert.equal(channel.calls.length, 1, 'listed, not probed');
  });

  test('objects probed behind a gap are not counted again (999 stay one call)', async () => {
    const { r, channel, ids } = await readFleet(seqs(2, 986));
    assert.equal(r.gapOf(ids[1]), 1);
    channel.put(ids[1], 1, out('late'));
    await r.list([ids[1]], { discover: false });
    assert.equal(await r.drain(ids[1]), 986, 'the late object and the 985 listed behind it');
    channel.calls.length = 0;
    assert.deepEqual(await r.list(ids, { discover: false }), { discovered: [], listCalls: 1 });
    assert.equal(channel.calls.length, 1, 'listed, not probed');
  });

  test('new objects found by a probe are counted: 1,000 keys make the next listing cost two calls', async () => {
    const { r, channel, ids } = await readFleet();
    for (const seq of seqs(1, 986)) channel.put(ids[1], seq, out('x'));
    await r.list([ids[1]], { discover: false });
    assert.equal(await r.drain(ids[1]), 986);
    channel.calls.length = 0;
    assert.deepEqual(await r.list(ids, { discover: false }), { discovered: [], listCalls: SIZE * GET_COST_IN_LISTS });
    assert.deepEqual(channel.calls, [], 'probed when drained, not listed');
  });
});

describe('live channel reader: bookkeeping', () => {
  test("a listing after a probe starts after the probe's last key: what was read is not listed again", async () => {
    const { r, channel, seen } = reader();
    for (let seq = 0; seq < 3; seq++) channel.put(ID, seq, out(`${seq}`));
    await r.list([ID], { discover: false });
    assert.equal(await r.drain(ID), 3);
    channel.calls.length = 0;
    channel.put(ID, 3, out('3'));
    assert.equal(await r.poll(ID), 1);
    assert.equal(channel.calls[0], `list ${PREFIX}${ID}/ after ${chunkKey(PREFIX, ID, 2)}`);
    assert.deepEqual(seen, ['0:0', '0:1', '0:2', '0:3']);
  });

  test('an object probed behind a listed one does not move the listing back', async () => {
    const { r, channel, seen } = reader();
    channel.put(ID, 0, out('0'));
    channel.put(ID, 2, out('2'));
    await r.poll(ID);
    channel.put(ID, 1, out('1'));
    await r.list([ID], { discover: false });
    assert.equal(await r.drain(ID), 2);
    assert.deepEqual(seen, ['0:0', '0:1', '0:2']);
    channel.calls.length = 0;
    await r.poll(ID);
    assert.deepEqual(channel.calls, [`list ${PREFIX}${ID}/ after ${chunkKey(PREFIX, ID, 2)}`]);
  });

  test('discovery with nothing followed yet lists the whole prefix', async () => {
    const { r, channel } = reader();
    channel.put(ID2, 0, out('b'));
    channel.put(ID, 0, out('a'));
    assert.deepEqual(await r.list([], { discover: true }), { discovered: [ID, ID2], listCalls: 1 });
    assert.deepEqual(channel.calls, [`list ${PREFIX} after -`]);
  });

  test('an instance discovered before but not followed now is left for when it is followed', async () => {
    const { r, channel, seen } = reader();
    channel.put(ID2, 0, out('b0'));
    assert.deepEqual((await r.list([], { discover: true })).discovered, [ID2]);
    assert.equal(await r.drain(ID2), 1);
    channel.put(ID, 0, out('a'));
    channel.put(ID2, 1, out('b1'));
    assert.deepEqual((await r.list([ID], { discover: true })).discovered, [], 'ID2 was seen before');
    assert.equal(await r.drain(ID), 1);
    assert.equal(await r.drain(ID2), 0, 'ID2 was not followed in that pass');
    assert.equal(await r.poll(ID2), 1, 'it is when followed');
    assert.deepEqual(seen, ['1:b0', '0:a', '1:b1']);
  });

  test('two gaps in a row: each skip goes to the first object after the gap', async () => {
    const { r, channel, seen } = reader();
    for (const seq of [0, 3, 5]) channel.put(ID, seq, out(`${seq}`));
    await r.poll(ID);
    assert.equal(r.gapOf(ID), 1);
    assert.equal(r.skipGap(ID), 2);
    assert.equal(await r.drain(ID), 1);
    assert.equal(r.gapOf(ID), 4);
    assert.equal(r.skipGap(ID), 1);
    assert.equal(await r.drain(ID), 1);
    assert.deepEqual(seen, ['0:0', '0:3', '0:5']);
  });
});

describe('live channel reader: fetches bounded by size', () => {
  const MB = 1024 * 1024;

  /** Polls one instance whose objects have the given sizes; returns the size of each batch of parallel GETs. */
  async function batchesFor(sizes: number[]) {
    const { r, channel } = reader();
    sizes.forEach((size, seq) =>
      channel.objects.set(chunkKey(PREFIX, ID, seq), encodeFrames([{ type: 'stdout', data: text('x'.repeat(size)) }])),
    );
    const batches: number[] = [];
    let inFlight = 0;
    const get = channel.getObject.bind(channel);
    channel.getObject = async (bucket, key) => {
      if (inFlight++ === 0) batches.push(0);
      batches[batches.length - 1]++;
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      return get(bucket, key);
    };
    assert.equal(await r.poll(ID), sizes.length);
    return batches;
  }

  test('after a batch whose largest object is 2.5 MB, six at a time (16 MB in flight)', async () => {
    const sizes = [2.5 * MB, ...Array<number>(19).fill(1_000)];
    assert.deepEqual(await batchesFor(sizes), [8, 6, 6]);
  });

  test('after an object over 16 MB: one at a time, never none; then eight again', async () => {
    assert.deepEqual(await batchesFor([20 * MB, ...Array<number>(11).fill(1_000)]), [8, 1, 3]);
  });
});
