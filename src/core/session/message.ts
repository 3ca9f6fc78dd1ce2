// Session Manager data-channel messages: the binary frame both ends of a session exchange over the
// WebSocket. Layout followed from aws/session-manager-plugin src/message/clientmessage.go and
// messageparser.go (Apache-2.0); this is an own implementation.
//
// | header length u32 (=116) | message type 32 B, space-padded | schema version u32 | created date u64 ms |
// | sequence number i64 | flags u64 | message id 16 B (UUID, least-significant half first) |
// | payload digest 32 B (SHA-256 of the payload) | payload type u32 | payload length u32 | payload |
// All integers big-endian.
import { createHash, randomUUID } from 'node:crypto';

export const HEADER_LENGTH = 116;
const OFFSET = {
  type: 4,
  schema: 36,
  created: 40,
  sequence: 48,
  flags: 56,
  id: 64,
  digest: 80,
  payloadType: 112,
  payloadLength: 116,
  payload: 120,
} as const;
const TYPE_FIELD_LENGTH = 32;

export const MessageType = {
  Input: 'input_stream_data',
  Output: 'output_stream_data',
  Acknowledge: 'acknowledge',
  ChannelClosed: 'channel_closed',
  StartPublication: 'start_publication',
  PausePublication: 'pause_publication',
} as const;

export const PayloadType = {
  Output: 1,
  Error: 2,
  Size: 3,
  Parameter: 4,
  HandshakeRequest: 5,
  HandshakeResponse: 6,
  HandshakeComplete: 7,
  EncChallengeRequest: 8,
  EncChallengeResponse: 9,
  Flag: 10,
  StdErr: 11,
  ExitCode: 12,
} as const;

/** Values of a Flag payload (a big-endian u32). */
export const FlagValue = { DisconnectToPort: 1, TerminateSession: 2, ConnectToPortError: 3 } as const;

/** Largest payload of one data message (config.StreamDataPayloadSize in both plugin and agent). */
export const MAX_PAYLOAD_BYTES = 1024;

export interface DataMessage {
  messageType: string;
  schemaVersion: number;
  /** Milliseconds since the epoch; never 0 in a valid message. */
  createdDate: number;
  sequenceNumber: number;
  flags: number;
  /** Lower-case hyphenated UUID. */
  messageId: string;
  payloadType: number;
  payload: Buffer;
}

export class MessageFormatError extends Error {}

export function encodeMessage(fields: Partial<DataMessage> & { messageType: string; payload: Buffer }): Buffer {
  const payload = fields.payload;
  const out = Buffer.alloc(OFFSET.payload + payload.length);
  out.writeUInt32BE(HEADER_LENGTH, 0);
  if (Buffer.byteLength(fields.messageType) > TYPE_FIELD_LENGTH)
    throw new MessageFormatError(`message type too long: ${fields.messageType}`);
  out.fill(0x20, OFFSET.type, OFFSET.type + TYPE_FIELD_LENGTH);
  out.write(fields.messageType, OFFSET.type, 'utf8');
  out.writeUInt32BE(fields.schemaVersion ?? 1, OFFSET.schema);
  out.writeBigUInt64BE(BigInt(fields.createdDate ?? Date.now()), OFFSET.created);
  out.writeBigInt64BE(BigInt(fields.sequenceNumber ?? 0), OFFSET.sequence);
  out.writeBigUInt64BE(BigInt(fields.flags ?? 0), OFFSET.flags);
  writeUuid(out, OFFSET.id, fields.messageId ?? randomUUID());
  createHash('sha256').update(payload).digest().copy(out, OFFSET.digest);
  out.writeUInt32BE(fields.payloadType ?? 0, OFFSET.payloadType);
  out.writeUInt32BE(payload.length, OFFSET.payloadLength);
  payload.copy(out, OFFSET.payload);
  return out;
}

/** Decodes and validates a frame (as the plugin's Validate: header length, type, date, digest). */
export function decodeMessage(frame: Buffer): DataMessage {
  if (frame.length < OFFSET.payload)
    throw new MessageFormatError(`message of ${frame.length} bytes is shorter than its header`);
  const headerLength = frame.readUInt32BE(0);
  if (headerLength !== HEADER_LENGTH) throw new MessageFormatError(`unexpected header length ${headerLength}`);
  const messageType = frame
    .toString('utf8', OFFSET.type, OFFSET.type + TYPE_FIELD_LENGTH)
    .replace(/\0/g, '')
    .trim();
  const payloadLength = frame.readUInt32BE(OFFSET.payloadLength);
  if (OFFSET.payload + payloadLength !== frame.length)
    throw new MessageFormatError(
      `payload length ${payloadLength} does not match the ${frame.length - OFFSET.payload} bytes after the header`,
    );
  const payload = frame.subarray(OFFSET.payload);
  const message: DataMessage = {
    messageType,
    schemaVersion: frame.readUInt32BE(OFFSET.schema),
    createdDate: Number(frame.readBigUInt64BE(OFFSET.created)),
    sequenceNumber: Number(frame.readBigInt64BE(OFFSET.sequence)),
    flags: Number(frame.readBigUInt64BE(OFFSET.flags)),
    messageId: readUuid(frame, OFFSET.id),
    payloadType: frame.readUInt32BE(OFFSET.payloadType),
    payload,
  };
  if (messageType === MessageType.StartPublication || messageType === MessageType.PausePublication) return message;
  if (!messageType) throw new MessageFormatError('message type is missing');
  if (message.createdDate === 0) throw new MessageFormatError('created date is missing');
  if (
    payloadLength > 0 &&
    !createHash('sha256')
      .update(payload)
      .digest()
      .equals(frame.subarray(OFFSET.digest, OFFSET.digest + 32))
  ) {
    throw new MessageFormatError('payload digest does not match');
  }
  return message;
}

/** The UUID's second 8 bytes go first, then its first 8 (messageparser.go putUuid/getUuid). */
function writeUuid(out: Buffer, offset: number, uuid: string): void {
  const bytes = Buffer.from(uuid.replace(/-/g, ''), 'hex');
  if (bytes.length !== 16) throw new MessageFormatError(`not a UUID: ${uuid}`);
  bytes.copy(out, offset, 8, 16);
  bytes.copy(out, offset + 8, 0, 8);
}

function readUuid(frame: Buffer, offset: number): string {
  const hex = Buffer.concat([frame.subarray(offset + 8, offset + 16), frame.subarray(offset, offset + 8)]).toString(
    'hex',
  );
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Content of an `acknowledge` message (AcknowledgeContent in clientmessage.go). */
export interface AcknowledgeContent {
  AcknowledgedMessageType: string;
  AcknowledgedMessageId: string;
  AcknowledgedMessageSequenceNumber: number;
  IsSequentialMessage: boolean;
}

/** An acknowledgement of `message`: sequence 0, flags 3, as SerializeClientMessageWithAcknowledgeContent. */
export function encodeAcknowledge(message: DataMessage): Buffer {
  const content: AcknowledgeContent = {
    AcknowledgedMessageType: message.messageType,
    AcknowledgedMessageId: message.messageId,
    AcknowledgedMessageSequenceNumber: message.sequenceNumber,
    IsSequentialMessage: true,
  };
  return encodeMessage({
    messageType: MessageType.Acknowledge,
    sequenceNumber: 0,
    flags: 3,
    payload: Buffer.from(JSON.stringify(content)),
  });
}

export function parseJsonPayload<T>(message: DataMessage): T {
  try {
    return JSON.parse(message.payload.toString('utf8')) as T;
  } catch {
    throw new MessageFormatError(`${message.messageType} (payload type ${message.payloadType}) does not hold JSON`);
  }
}

export function flagPayload(flag: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(flag, 0);
  return out;
}

/** Dotted version comparison as versionutil.Compare: missing parts count as 0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((p) => Number.parseInt(p, 10) || 0);
  const pb = b.split('.').map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}
