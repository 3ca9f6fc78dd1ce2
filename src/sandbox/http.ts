// The request as every handler sees it: raw path and query (needed verbatim for SigV4),
// decoded query pairs, lowercase headers and the whole body.
import type { IncomingMessage } from 'node:http';
import { AwsError } from './errors';
import { MAX_REQUEST_BODY_BYTES } from './limits';

export interface ApiRequest {
  method: string;
  /** Path exactly as received, still percent-encoded. */
  rawPath: string;
  /** Query string as received, without '?'. */
  rawQuery: string;
  /** Decoded query pairs in order ('+' is NOT a space: SigV4 clients always encode spaces as %20). */
  query: Array<[string, string]>;
  headers: Record<string, string>;
  body: Buffer;
  requestId: string;
}

export interface ApiResponse {
  status: number;
  headers?: Record<string, string | number>;
  body?: Buffer | string;
  /** Stream this file range as the body instead of `body`. */
  file?: { path: string; start: number; end: number };
}

export function queryValue(req: ApiRequest, name: string): string | undefined {
  return req.query.find(([k]) => k === name)?.[1];
}

export function hasQuery(req: ApiRequest, name: string): boolean {
  return req.query.some(([k]) => k === name);
}

export function parseQuery(rawQuery: string): Array<[string, string]> {
  if (!rawQuery) return [];
  return rawQuery
    .split('&')
    .filter(Boolean)
    .map((part) => {
      const eq = part.indexOf('=');
      const key = eq < 0 ? part : part.slice(0, eq);
      const value = eq < 0 ? '' : part.slice(eq + 1);
      return [safeDecode(key), safeDecode(value)];
    });
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new AwsError('InvalidArgument', `Malformed percent-encoding in query: ${text}`);
  }
}

/** Node joins repeated headers with ", "; SigV4 wants them comma-joined, which is close enough here. */
export function flattenHeaders(message: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) {
    if (value === undefined) continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  return headers;
}

export interface BodyLimits {
  /** Largest body accepted; a larger one is refused as soon as it is seen (the rest is never read). */
  maxBytes: number;
  /**
   * Runs once `atBytes` have arrived (or the body ended earlier) before anything more is read: for a
   * form whose credentials are in its first bytes (POST Object), a failed check stops the upload.
   */
  gate?: { atBytes: number; check(prefix: Buffer, complete: boolean): Promise<void> | void };
}

export function readBody(
  message: IncomingMessage,
  limits: BodyLimits = { maxBytes: MAX_REQUEST_BODY_BYTES },
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let gate = limits.gate;
    let ended = false;
    let failed = false;
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      message.pause(); // the rest is never read: the caller answers and the connection is closed
      message.removeAllListeners('data');
      reject(error);
    };
    const finish = () => {
      if (!failed) resolve(Buffer.concat(chunks));
    };
    let checking = false;
    const openGate = () => {
      const check = gate!.check;
      gate = undefined;
      checking = true;
      message.pause();
      Promise.resolve()
        .then(() => check(Buffer.concat(chunks), ended))
        .then(() => {
          checking = false;
          if (ended) finish();
          else message.resume();
        }, fail);
    };
    message.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limits.maxBytes) {
        fail(
          new AwsError(
            'EntityTooLarge',
            `Request body exceeds the sandbox limit of ${limits.maxBytes} bytes for this request`,
            400,
          ),
        );
        return;
      }
      chunks.push(chunk);
      if (gate && size >= gate.atBytes) openGate();
    });
    message.on('end', () => {
      ended = true;
      if (gate) openGate();
      else if (!checking) finish();
    });
    message.on('error', fail);
  });
}

/**
 * Decodes an `aws-chunked` body (`<hex size>[;chunk-signature=...]\r\n<data>\r\n ... 0\r\n<trailers>\r\n\r\n`),
 * which the SDKs send for streaming uploads with flexible checksums.
 */
export function decodeAwsChunked(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', offset);
    if (lineEnd < 0) throw new AwsError('IncompleteBody', 'aws-chunked body ended inside a chunk header');
    const size = parseInt(body.subarray(offset, lineEnd).toString('latin1').split(';')[0], 16);
    if (!Number.isFinite(size) || size < 0) throw new AwsError('InvalidArgument', 'Malformed aws-chunked chunk size');
    offset = lineEnd + 2;
    if (size === 0) return Buffer.concat(parts);
    if (offset + size > body.length)
      throw new AwsError('IncompleteBody', 'aws-chunked body shorter than its chunk sizes');
    parts.push(body.subarray(offset, offset + size));
    offset += size + 2;
  }
}
