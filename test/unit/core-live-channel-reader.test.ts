// The live-channel reader on its own (issue 18, mutation testing): which S3 calls each pass makes and what they
// cost, the order frames are handed out in, gaps, and the rhythm of continuous output. Moved here from
// core-run-parts; its edges are in core-live-channel-reader-edges.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GET_COST_IN_LISTS, liveOutputLocation, parseLiveLocation } from '../../src/core/liveChannelReader';
import { chunkKey } from '../../src/core/remote';
import { ID, ID2, out, PREFIX, reader } from '../support/liveChannelHarness';

describe('live channel reader', () => {
  test('locations: s3://bucket/prefix with a trailing slash added; anything else is not one', () => {
    assert.deepEqual(parseLiveLocation('s3://b/runs/r1'), { bucket: 'b', runPrefix: 'runs/r1/' });
    assert.deepEqual(parseLiveLocation('s3://b/runs/r1/'), { bucket: 'b', runPrefix: 'runs/r1/' });
    assert.deepEqual(parseLiveLocation('s3://my-bucket/r/'), { bucket: 'my-bucket', runPrefix: 'r/' });
    for (const bad of ['s3://b/', 's3:///runs/', 'https://b/runs/', ' s3://b/runs/', 's3://b'])
      assert.equal(parseLiveLocation(bad), undefined, bad);
    assert.equal(liveOutputLocation({ bucket: 'b', runPrefix: 'runs/r1/' }), 's3://b/runs/r1/');
  });

  test('nothing followed and nothing to discover: no call at all', async () => {
    const { r, channel } = reader();
    assert.deepEqual(await r.list([], { discover: false }), { discovered: [], listCalls: 0 });
    assert.deepEqual(channel.calls, []);
  });

  test('one instance is probed with GETs of its next keys until one is missing, in order', async () => {
    const { r, channel, seen } = reader();
    for (let seq = 0; seq < 3; seq++) channel.put(ID, seq, out(`${seq}`));
    assert.deepEqual(await r.list([ID], { discover: false }), { discovered: [], listCalls: GET_COST_IN_LISTS });
    assert.deepEqual(channel.calls, [], 'a probe pass sends its GETs when drained');
    assert.equal(await r.drain(ID), 3);
    assert.deepEqual(seen, ['0:0', '0:1', '0:2']);
    assert.deepEqual(
      channel.calls,
      [0, 1, 2, 3].map((seq) => `probe ${chunkKey(PREFIX, ID, seq)}`),
    );
    channel.calls.length = 0;
    assert.equal(await r.drain(ID), 0, 'not probed again without a pass');
    assert.deepEqual(channel.calls, []);
    await r.list([ID], { discover: false });
    assert.equal(await r.drain(ID), 0);
    assert.deepEqual(channel.calls, [`probe ${chunkKey(PREFIX, ID, 3)}`], 'the next pass starts where it stopped');
  });

  test('a probe stops at the exit frame: nothing comes after it, so no GET looks for more', async () => {
    const { r, channel, seen } = reader();
    channel.put(ID, 0, out('a'));
    channel.put(ID, 1, [...out('b'), { type: 'exit', exitCode: 0 }]);
    await r.list([ID], { discover: false });
    assert.equal(await r.drain(ID), 2);
    assert.deepEqual(seen, ['0:a', '0:b']);
    assert.deepEqual(
      channel.calls,
      [0, 1].map((seq) => `probe ${chunkKey(PREFIX, ID, seq)}`),
    );
  });

  test('a fleet lists the run prefix once, after the first followed instance in key order', async () => {
    const { r, channel, seen } = reader();
    const ids = Array.from({ length: 13 }, (_, i) => `i-${String(i).padStart(17, '0')}`);
    for (const id of ids) channel.put(id, 0, out(id.slice(-2)));
    channel.put('i-zzzzzzzzzzzzzzzzz', 0, out('not an instance id'));
    const pass = await r.list([...ids].reverse(), { discover: false });
    assert.deepEqual(pass, { discovered: [], listCalls: 1 });
    assert.deepEqual(channel.calls, [`list ${PREFIX} after ${PREFIX}${ids[0]}/`]);
    for (const id of ids) assert.equal(await r.drain(id), 1);
    assert.equal(seen.length, 13);
    assert.ok(
      channel.calls.slice(1).every((call) => call.startsWith('get ')),
      'listed objects are fetched, not probed',
    );
    channel.calls.length = 0;
    await r.list(ids, { discover: false });
    assert.deepEqual(channel.calls, [`list ${PREFIX} after ${chunkKey(PREFIX, ids[0], 0)}`], 'after what is known');
    assert.deepEqual(
      await r.list(ids.slice(1), { discover: false }),
      {
        discovered: [],
        listCalls: 12 * GET_COST_IN_LISTS,
      },
      'twelve instances: twelve GETs cost less than one LIST',
    );
  });

  test('discovery lists the whole prefix and names the instances not seen before, once', async () => {
    const { r, channel } = reader();
    channel.put(ID, 0, out('a'));
    channel.put(ID2, 0, out('b'));
    channel.objects.set(`${PREFIX}i-0123456789abcdef2/not-a-seq`, new Uint8Array());
    assert.deepEqual(await r.list([ID], { discover: true }), { discovered: [ID2], listCalls: 1 });
    assert.deepEqual(channel.calls, [`list ${PREFIX} after -`]);
    assert.deepEqual(await r.list([ID], { discover: true }), { discovered: [], listCalls: 1 });
  });

  test('keys already listed, or of objects already read, are not taken again', async () => {
    const { r, channel, seen } = reader();
    channel.put(ID, 0, out('a'));
    await r.poll(ID);
    assert.deepEqual(await r.list([ID, ID2], { discover: true }), { discovered: [], listCalls: 1 });
    assert.equal(await r.drain(ID), 0);
    assert.deepEqual(seen, ['0:a']);
  });

  test('listed objects are fetched eight at a time, in sequence order', async () => {
    const { r, channel, seen } = reader();
    for (let seq = 0; seq < 20; seq++) channel.put(ID, seq, out(`${seq},`));
    let inFlight = 0;
    let most = 0;
    const get = channel.getObject.bind(channel);
    channel.getObject = async (bucket, key) => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      return get(bucket, key);
    };
    assert.equal(await r.poll(ID), 20);
    assert.equal(most, 8);
    assert.equal(seen.map((s) => s.slice(2)).join(''), Array.from({ length: 20 }, (_, i) => `${i},`).join(''));
    assert.equal(channel.calls[0], `list ${PREFIX}${ID}/ after -`);
    channel.calls.length = 0;
    await r.poll(ID);
    assert.deepEqual(channel.calls, [`list ${PREFIX}${ID}/ after ${chunkKey(PREFIX, ID, 19)}`]);
  });

  test('a missing object: the gap is reported, skipped on request, and what follows it arrives', async () => {
    const { r, channel, seen } = reader();
    assert.equal(r.gapOf(ID), undefined, 'unknown instance');
    assert.equal(r.skipGap(ID), 0, 'nothing to skip');
    channel.put(ID, 0, out('a'));
    channel.put(ID, 3, out('d'));
    await r.poll(ID);
    assert.deepEqual(seen, ['0:a']);
    assert.equal(r.gapOf(ID), 1);
    assert.equal(r.skipGap(ID), 2);
    assert.equal(r.gapOf(ID), 1 + 2, 'the gap stays until what follows is read');
    assert.equal(await r.drain(ID), 1);
    assert.deepEqual(seen, ['0:a', '0:d']);
    assert.equal(r.gapOf(ID), undefined);
  });

  test('continuous output: objects one upload gap apart hold back the next probe for 3/4 of the gap', async () => {
    const gap = 1_000;
    const { r, channel, clock } = reader(gap);
    const probeAt = async (at: number) => {
      clock.nowMs = at;
      channel.calls.length = 0;
      const pass = await r.list([ID], { discover: false });
      const n = await r.drain(ID);
      return { n, probes: channel.calls.length, listCalls: pass.listCalls };
    };
    channel.put(ID, 0, out('0'));
    assert.equal((await probeAt(0)).n, 1, 'first object: no rhythm yet');
    channel.put(ID, 1, out('1'));
    assert.equal((await probeAt(900)).n, 1, '0.9 gaps later: continuous output');
    channel.put(ID, 2, out('2'));
    channel.put(ID, 3, out('3'));
    assert.deepEqual(await probeAt(900 + 749), { n: 0, probes: 0, listCalls: GET_COST_IN_LISTS });
    assert.deepEqual(
      await probeAt(900 + 750),
      { n: 1, probes: 1, listCalls: GET_COST_IN_LISTS },
      'due after 3/4 of the gap; only the next object is read',
    );
    // 750 ms after the last: out of the rhythm, so the next probe reads on until a miss.
    assert.deepEqual(await probeAt(900 + 750 + 750), { n: 1, probes: 2, listCalls: GET_COST_IN_LISTS });
  });

  test('the rhythm is 0.9 to 1.5 upload gaps, one object at a time', async () => {
    for (const [since, continuous] of [
      [899, false],
      [900, true],
      [1_500, true],
      [1_501, false],
    ] as const) {
      const { r, channel, clock } = reader(1_000);
      channel.put(ID, 0, out('0'));
      await r.poll(ID);
      clock.nowMs = since;
      channel.put(ID, 1, out('1'));
      await r.poll(ID);
      channel.put(ID, 2, out('2'));
      channel.calls.length = 0;
      await r.list([ID], { discover: false });
      assert.equal(await r.drain(ID), continuous ? 0 : 1, `${since} ms`);
    }
    const { r, channel, clock } = reader(1_000);
    channel.put(ID, 0, out('0'));
    await r.poll(ID);
    clock.nowMs = 1_000;
    channel.put(ID, 1, out('1'));
    channel.put(ID, 2, out('2'));
    await r.poll(ID);
    channel.put(ID, 3, out('3'));
    await r.list([ID], { discover: false });
    assert.equal(await r.drain(ID), 1, 'two objects at once are not the rhythm of continuous output');
  });
});
