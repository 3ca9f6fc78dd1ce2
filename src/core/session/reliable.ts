// The reliable, ordered stream each end of a Session Manager data channel keeps on top of the
// WebSocket: numbered data messages, one acknowledgement per message, resend of what is not
// acknowledged in time, and a receive side that buffers early messages and re-acknowledges
// duplicates. Behaviour followed from aws/session-manager-plugin src/datachannel/streaming.go and
// aws/amazon-ssm-agent agent/session/datachannel/datachannel.go (Apache-2.0): resend timeout
// starting at 200 ms, smoothed from round-trip times (RTT 1/8, variation 1/4, 10 ms granularity),
// capped at 1 s; a message resent 3000 times ends the session. Own implementation; two changes:
// every overdue message is resent (the plugin resends only the oldest, which makes a lossy link
// crawl), and round trips are measured on first transmissions only (Karn), so resends cannot
// shrink the timeout.
import { randomUUID } from 'node:crypto';
import {
  type DataMessage,
  MAX_PAYLOAD_BYTES,
  MessageType,
  decodeMessage,
  encodeAcknowledge,
  encodeMessage,
  parseJsonPayload,
  type AcknowledgeContent,
} from './message';

export const RESEND_TICK_MS = 100;
export const INITIAL_RESEND_TIMEOUT_MS = 200;
export const MAX_RESEND_TIMEOUT_MS = 1000;
export const MAX_RESEND_ATTEMPTS = 3000;
const INITIAL_RTT_MS = 100;
const CLOCK_GRANULARITY_MS = 10;
/** Unacknowledged messages in flight before a sender is asked to wait (backpressure). */
export const SEND_WINDOW = 512;
/** Early messages kept while one before them is missing (IncomingMessageBufferCapacity). */
const RECEIVE_BUFFER_CAPACITY = 10_000;
/** Overdue messages resent per tick, oldest first, so a burst of losses cannot flood the socket. */
const RESEND_BURST = 128;

interface Outgoing {
  sequenceNumber: number;
  frame: Buffer;
  lastSentAt: number;
  attempts: number;
}

export interface ReliableStreamOptions {
  /** `input_stream_data` for a client, `output_stream_data` for an agent. */
  outgoingType: string;
  incomingType: string;
  /** Puts a frame on the socket; false when there is no open socket (the resend timer retries). */
  transmit(frame: Buffer): boolean;
  /**
   * Takes the next in-order data message. Returning false means "not ready": the message is
   * neither acknowledged nor consumed, so the peer resends it (the agent's ErrHandlerNotReady).
   */
  deliver(message: DataMessage): boolean;
  /** Any other message type (channel_closed, start/pause_publication). */
  control?(message: DataMessage): void;
  /** A message was resent MAX_RESEND_ATTEMPTS times without acknowledgement. */
  giveUp(error: Error): void;
  now?(): number;
}

export class ReliableStream {
  private nextSequence = 0;
  private expectedSequence = 0;
  private readonly outgoing = new Map<number, Outgoing>();
  private readonly early = new Map<number, DataMessage>();
  private rttMs = INITIAL_RTT_MS;
  private rttVariationMs = 0;
  private resendTimeoutMs = INITIAL_RESEND_TIMEOUT_MS;
  private timer: NodeJS.Timeout | undefined;
  private paused = false;
  private drainWaiters: Array<() => void> = [];
  private stopped = false;
  readonly stats = { sent: 0, resent: 0, received: 0, duplicates: 0, reordered: 0 };

  constructor(private readonly options: ReliableStreamOptions) {
    this.timer = setInterval(() => this.resendOverdue(), RESEND_TICK_MS);
    this.timer.unref();
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  get unacknowledged(): number {
    return this.outgoing.size;
  }

  get resendTimeout(): number {
    return this.resendTimeoutMs;
  }

  /** Sends stream bytes as data messages of at most 1024 bytes each, numbered in order. */
  write(payloadType: number, bytes: Buffer): void {
    for (let offset = 0; offset < bytes.length; offset += MAX_PAYLOAD_BYTES)
      this.send(payloadType, bytes.subarray(offset, offset + MAX_PAYLOAD_BYTES));
  }

  /** Sends one data message (a handshake or a flag: never cut, whatever its size). */
  send(payloadType: number, payload: Buffer): void {
    if (this.stopped || payload.length === 0) return; // empty payloads are not sent (the agent ignores them too)
    const sequenceNumber = this.nextSequence++;
    const frame = encodeMessage({
      messageType: this.options.outgoingType,
      sequenceNumber,
      flags: 0,
      messageId: randomUUID(),
      payloadType,
      payload,
    });
    this.outgoing.set(sequenceNumber, { sequenceNumber, frame, lastSentAt: this.now(), attempts: 0 });
    this.stats.sent++;
    if (!this.paused) this.options.transmit(frame);
  }

  /** Resolves once fewer than SEND_WINDOW messages wait for acknowledgement. */
  whenWritable(): Promise<void> {
    if (this.outgoing.size < SEND_WINDOW || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Resolves when every sent message is acknowledged, or after `timeoutMs` (PrepareToCloseChannel). */
  async flushed(timeoutMs: number): Promise<boolean> {
    const deadline = this.now() + timeoutMs;
    while (this.outgoing.size > 0 && !this.stopped && this.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    return this.outgoing.size === 0;
  }

  /** Handles one binary frame from the socket. Throws MessageFormatError on a malformed frame. */
  receive(frame: Buffer): void {
    if (this.stopped) return;
    const message = decodeMessage(frame);
    if (message.messageType === MessageType.Acknowledge)
      this.acknowledged(parseJsonPayload<AcknowledgeContent>(message));
    else if (message.messageType === this.options.incomingType) this.receiveData(message);
    else {
      if (message.messageType === MessageType.PausePublication) this.paused = true;
      if (message.messageType === MessageType.StartPublication) this.paused = false;
      this.options.control?.(message);
    }
  }

  /** After a reconnect: everything unacknowledged goes out again at once. */
  resendAll(): void {
    for (const entry of this.outgoing.values()) this.transmitAgain(entry);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.outgoing.clear();
    this.early.clear();
    for (const wake of this.drainWaiters.splice(0)) wake();
  }

  private receiveData(message: DataMessage): void {
    this.stats.received++;
    if (message.sequenceNumber < this.expectedSequence) {
      this.stats.duplicates++;
      this.options.transmit(encodeAcknowledge(message)); // its acknowledgement was lost: say it again
      return;
    }
    if (message.sequenceNumber > this.expectedSequence) {
      if (this.early.has(message.sequenceNumber)) this.stats.duplicates++;
      else if (this.early.size >= RECEIVE_BUFFER_CAPACITY) return; // no room: the peer resends it later
      this.early.set(message.sequenceNumber, message);
      this.stats.reordered++;
      this.options.transmit(encodeAcknowledge(message));
      return;
    }
    if (!this.options.deliver(message)) return;
    this.options.transmit(encodeAcknowledge(message));
    this.expectedSequence++;
    for (
      let next = this.early.get(this.expectedSequence);
      next && !this.stopped;
      next = this.early.get(this.expectedSequence)
    ) {
      if (!this.options.deliver(next)) return; // stays buffered (already acknowledged) until delivered
      this.early.delete(this.expectedSequence);
      this.expectedSequence++;
    }
  }

  private acknowledged(content: AcknowledgeContent): void {
    const entry = this.outgoing.get(content.AcknowledgedMessageSequenceNumber);
    if (!entry) return;
    this.outgoing.delete(entry.sequenceNumber);
    if (entry.attempts === 0) this.updateTimeout(this.now() - entry.lastSentAt);
    if (this.outgoing.size < SEND_WINDOW && this.drainWaiters.length > 0)
      for (const wake of this.drainWaiters.splice(0)) wake();
  }

  private updateTimeout(sampleMs: number): void {
    this.rttVariationMs = 0.75 * this.rttVariationMs + 0.25 * Math.abs(this.rttMs - sampleMs);
    this.rttMs = 0.875 * this.rttMs + 0.125 * sampleMs;
    this.resendTimeoutMs = Math.min(
      MAX_RESEND_TIMEOUT_MS,
      this.rttMs + Math.max(CLOCK_GRANULARITY_MS, 4 * this.rttVariationMs),
    );
  }

  private resendOverdue(): void {
    if (this.paused || this.stopped) return;
    const now = this.now();
    let burst = 0;
    for (const entry of this.outgoing.values()) {
      // Map keeps insertion order: oldest first
      if (now - entry.lastSentAt <= this.resendTimeoutMs) continue;
      if (entry.attempts >= MAX_RESEND_ATTEMPTS) {
        this.options.giveUp(
          new Error(`data message ${entry.sequenceNumber} was not acknowledged after ${MAX_RESEND_ATTEMPTS} resends`),
        );
        this.stop();
        return;
      }
      this.transmitAgain(entry);
      if (++burst >= RESEND_BURST) return;
    }
  }

  private transmitAgain(entry: Outgoing): void {
    entry.attempts++;
    entry.lastSentAt = this.now();
    this.stats.resent++;
    this.options.transmit(entry.frame);
  }
}
