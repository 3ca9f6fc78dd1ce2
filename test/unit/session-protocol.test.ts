// The Session Manager wire format and reliable stream, against byte layouts read off the Go code
// of aws/session-manager-plugin (src/message/messageparser.go) and xtaci/smux (frame.go).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  HEADER_LENGTH,
  MessageFormatError,
  MessageType,
  PayloadType,
  compareVersions,
  decodeMessage,
  encodeAcknowledge,
  encodeMessage,
  type DataMessage,
} from '../../src/core/session/message';
import { ReliableStream, INITIAL_RESEND_TIMEOUT_MS, MAX_RESEND_TIMEOUT_MS } from '../../src/core/session/reliable';
import { Cmd, FrameParser, encodeFrame } from '../../src/core/session/smux';

const ID = '00112233-4455-6677-8899-aabbccddeeff';

describe('data-channel message codec', () => {
  const payload = Buffer.from('hello');
  const frame = encodeMessage({
    messageType: MessageType.Input,
    schemaVersion: 1,
    createdDate: 0x0102030405,
    sequenceNumber: 258,
    flags: 3,
    messageId: ID,
    payloadType: PayloadType.Size,
    payload,
  });

  test('the 116-byte header, field by field, big-endian', () => {
    assert.equal(frame.length, 120 + payload.length);
    assert.equal(frame.readUInt32BE(0), HEADER_LENGTH);
    assert.equal(HEADER_LENGTH, 116);
    // message type: 32 bytes, the name then spaces (putString wipes the field with ' ')
    assert.equal(frame.toString('latin1', 4, 36), 'input_stream_data'.padEnd(32, ' '));
    assert.equal(frame.readUInt32BE(36), 1);
    assert.equal(frame.toString('hex', 40, 48), '0000000102030405');
    assert.equal(frame.toString('hex', 48, 56), '0000000000000102');
    assert.equal(frame.toString('hex', 56, 64), '0000000000000003');
    // message id: least-significant half (UUID bytes 8..15) first, then the most significant half
    assert.equal(frame.toString('hex', 64, 72), '8899aabbccddeeff');
    assert.equal(frame.toString('hex', 72, 80), '0011223344556677');
    assert.equal(frame.toString('hex', 80, 112), createHash('sha256').update(payload).digest('hex'));
    assert.equal(frame.readUInt32BE(112), 3);
    assert.equal(frame.readUInt32BE(116), 5);
    assert.equal(frame.toString('utf8', 120), 'hello');
  });

  test('decodes what it encodes, and a frame written by hand to the Go layout', () => {
    const decoded = decodeMessage(frame);
    assert.deepEqual(
      { ...decoded, payload: decoded.payload.toString() },
      {
        messageType: 'input_stream_data',
        schemaVersion: 1,
        createdDate: 0x0102030405,
        sequenceNumber: 258,
        flags: 3,
        messageId: ID,
        payloadType: 3,
        payload: 'hello',
      },
    );
    const manual = Buffer.alloc(120);
    manual.writeUInt32BE(116, 0);
    manual.write('output_stream_data', 4, 'latin1'); // NUL padding is accepted too (getString trims NULs)
    manual.writeUInt32BE(1, 36);
    manual.writeBigUInt64BE(1700000000000n, 40);
    manual.writeBigInt64BE(7n, 48);
    Buffer.from('8899aabbccddeeff0011223344556677', 'hex').copy(manual, 64);
    manual.writeUInt32BE(1, 112);
    const m = decodeMessage(manual);
    assert.equal(m.messageType, 'output_stream_data');
    assert.equal(m.sequenceNumber, 7);
    assert.equal(m.messageId, ID);
    assert.equal(m.payload.length, 0);
  });

  test('rejects a wrong digest, a zero date, a short frame and a lying payload length', () => {
    const tampered = Buffer.from(frame);
    tampered[120] ^= 1;
    assert.throws(() => decodeMessage(tampered), /digest/);
    const undated = Buffer.from(frame);
    undated.fill(0, 40, 48);
    assert.throws(() => decodeMessage(undated), /created date/);
    assert.throws(() => decodeMessage(frame.subarray(0, 100)), MessageFormatError);
    assert.throws(() => decodeMessage(Buffer.concat([frame, Buffer.from('x')])), /payload length/);
    const publication = encodeMessage({
      messageType: MessageType.PausePublication,
      createdDate: 0,
      payload: Buffer.alloc(0),
    });
    // exempt from validation, as in Validate()
    assert.equal(decodeMessage(publication).messageType, 'pause_publication');
  });

  test('an acknowledgement: sequence 0, flags 3, the acknowledged message in JSON', () => {
    const ack = decodeMessage(encodeAcknowledge(decodeMessage(frame)));
    assert.equal(ack.messageType, 'acknowledge');
    assert.equal(ack.sequenceNumber, 0);
    assert.equal(ack.flags, 3);
    assert.deepEqual(JSON.parse(ack.payload.toString()), {
      AcknowledgedMessageType: 'input_stream_data',
      AcknowledgedMessageId: ID,
      AcknowledgedMessageSequenceNumber: 258,
      IsSequentialMessage: true,
    });
  });

  test('version comparison as versionutil.Compare', () => {
    assert.equal(compareVersions('3.0.222.0', '3.0.196.0'), 1);
    assert.equal(compareVersions('1.1.70', '1.1.70.0'), 0);
    assert.equal(compareVersions('1.2.331.0', '1.2.694.0'), -1);
  });
});

describe('smux v1 frames', () => {
  test('8-byte header: version, command, little-endian length and stream id', () => {
    const f = encodeFrame(Cmd.PSH, 0x01020304, Buffer.from('abc'));
    assert.equal(f.toString('hex'), `0102030004030201${Buffer.from('abc').toString('hex')}`);
    assert.equal(encodeFrame(Cmd.SYN, 3).toString('hex'), '0100000003000000');
  });

  test('frames split anywhere are reassembled', () => {
    const bytes = Buffer.concat([
      encodeFrame(Cmd.SYN, 3),
      encodeFrame(Cmd.PSH, 3, Buffer.alloc(3000, 7)),
      encodeFrame(Cmd.FIN, 3),
    ]);
    const parser = new FrameParser();
    const frames = [];
    for (let i = 0; i < bytes.length; i += 5) frames.push(...parser.push(bytes.subarray(i, i + 5)));
    assert.deepEqual(
      frames.map((f) => [f.cmd, f.streamId, f.payload.length]),
      [
        [0, 3, 0],
        [2, 3, 3000],
        [1, 3, 0],
      ],
    );
    assert.throws(() => new FrameParser().push(Buffer.from('0204000001000000', 'hex')), /version/);
  });
});

describe('reliable stream', () => {
  function pair() {
    let clock = 1_000;
    const sentA: Buffer[] = [];
    const delivered: DataMessage[] = [];
    let ready = true;
    const a = new ReliableStream({
      outgoingType: MessageType.Input,
      incomingType: MessageType.Output,
      transmit: (f) => (sentA.push(f), true),
      deliver: () => true,
      giveUp: () => undefined,
      now: () => clock,
    });
    const b = new ReliableStream({
      outgoingType: MessageType.Output,
      incomingType: MessageType.Input,
      transmit: (f) => (a.receive(f), true),
      deliver: (m) => (ready ? (delivered.push(m), true) : false),
      giveUp: () => undefined,
      now: () => clock,
    });
    return { a, b, sentA, delivered, tick: (ms: number) => (clock += ms), setReady: (r: boolean) => (ready = r) };
  }

  test('reorders, delivers once, re-acknowledges duplicates; payloads cut at 1024 bytes', () => {
    const { a, b, sentA, delivered } = pair();
    a.write(PayloadType.Output, Buffer.alloc(2500, 1));
    assert.equal(sentA.length, 3);
    b.receive(sentA[2]);
    b.receive(sentA[0]);
    b.receive(sentA[0]);
    assert.deepEqual(
      delivered.map((m) => m.sequenceNumber),
      [0],
    );
    b.receive(sentA[1]);
    assert.deepEqual(
      delivered.map((m) => [m.sequenceNumber, m.payload.length]),
      [
        [0, 1024],
        [1, 1024],
        [2, 452],
      ],
    );
    assert.equal(a.unacknowledged, 0, 'every message acknowledged, the early one too');
    assert.equal(b.stats.duplicates, 1);
    a.stop();
    b.stop();
  });

  test('a receiver that is not ready does not acknowledge; the sender resends after the timeout', () => {
    const { a, b, sentA, delivered, tick, setReady } = pair();
    setReady(false);
    a.send(PayloadType.Output, Buffer.from('x'));
    b.receive(sentA[0]);
    assert.equal(a.unacknowledged, 1);
    (a as unknown as { resendOverdue(): void }).resendOverdue();
    assert.equal(sentA.length, 1, 'not resent before the timeout');
    assert.equal(a.resendTimeout, INITIAL_RESEND_TIMEOUT_MS);
    tick(INITIAL_RESEND_TIMEOUT_MS + 1);
    (a as unknown as { resendOverdue(): void }).resendOverdue();
    assert.equal(sentA.length, 2);
    setReady(true);
    b.receive(sentA[1]);
    assert.equal(delivered.length, 1);
    assert.equal(a.unacknowledged, 0);
    a.stop();
    b.stop();
  });

  test('the resend timeout follows round trips and is capped at 1 s', () => {
    const { a, b, sentA, tick } = pair();
    for (let i = 0; i < 30; i++) {
      a.send(PayloadType.Output, Buffer.from([i]));
      tick(5_000);
      b.receive(sentA[sentA.length - 1]);
    }
    assert.equal(a.resendTimeout, MAX_RESEND_TIMEOUT_MS);
    const fast = pair();
    for (let i = 0; i < 30; i++) {
      fast.a.send(PayloadType.Output, Buffer.from([i]));
      fast.tick(2);
      fast.b.receive(fast.sentA[fast.sentA.length - 1]);
    }
    assert.ok(fast.a.resendTimeout < 50, `smoothed toward a 2 ms round trip: ${fast.a.resendTimeout}`);
    a.stop();
    b.stop();
    fast.a.stop();
    fast.b.stop();
  });
});

describe('interactive run markers', () => {
  test('ready and exit markers are removed from output even when split byte by byte; other text passes', async () => {
    const { ExitMarkerFilter } = await import('../../src/core/session/interactiveRun');
    let ready = 0;
    const filter = new ExitMarkerFilter('abc123', () => ready++);
    const stream = Buffer.from(
      'before\u001b]777;ec2-runner-ready;abc123\u0007hello ' +
        '\u001b]777;ec2-runner-exit;other;9\u0007\u001b]777;ec2-runner-exit;abc123;42\u0007after\u001b]7',
    );
    let shown = '';
    for (const byte of stream) shown += filter.push(Buffer.from([byte])).toString('latin1');
    shown += filter.flush().toString('latin1');
    assert.equal(ready, 1);
    assert.equal(filter.exitCode, 42, "only this run's nonce counts");
    assert.equal(shown, 'beforehello \u001b]777;ec2-runner-exit;other;9\u0007after\u001b]7');
  });
});
