// A loopback HTTP server standing in for S3 in the wrapper's tests: it serves staged files (like a
// presigned GET) and accepts multipart/form-data POSTs (like a presigned POST policy on a key prefix),
// checking what S3 checks: the policy fields come back unchanged, the key is under the prefix, the
// file part comes last and stays under the size cap. Faults can be injected per request.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LiveOutputTarget } from '../../src/core/remote';
import type { RemoteTransport } from './remoteHarness';

const MAX_OBJECT_BYTES = 16 * 1024 * 1024;

export interface FormPart {
  name: string;
  filename?: string;
  body: Buffer;
}

/** Parses a multipart/form-data body strictly enough to catch a malformed upload. */
export function parseMultipart(contentType: string, body: Buffer): FormPart[] {
  const boundary = /boundary=("?)([^";]+)\1/.exec(contentType)?.[2];
  if (!boundary) throw new Error(`no boundary in ${contentType}`);
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: FormPart[] = [];
  let position = body.indexOf(delimiter);
  if (position !== 0) throw new Error('body does not start with the boundary');
  for (;;) {
    position += delimiter.length;
    if (body.subarray(position, position + 2).toString() === '--') return parts;
    if (body.subarray(position, position + 2).toString() !== '\r\n') throw new Error('no CRLF after boundary');
    const headerEnd = body.indexOf('\r\n\r\n', position);
    const headers = body.subarray(position + 2, headerEnd).toString('utf8');
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headerEnd + 4);
    if (headerEnd < 0 || next < 0) throw new Error('truncated multipart body');
    const disposition = /content-disposition: form-data; name="([^"]*)"(?:; filename="([^"]*)")?/i.exec(headers);
    if (!disposition) throw new Error(`part without form-data disposition: ${headers}`);
    parts.push({ name: disposition[1], filename: disposition[2], body: body.subarray(headerEnd + 4, next) });
    position = next + 2;
  }
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export class RemoteTestServer {
  /** Uploaded objects by key, in arrival order. */
  readonly objects = new Map<string, Buffer>();
  /** POSTs received since the last injectPostFaults(). */
  postAttempts = 0;
  private failPost: (attempt: number) => number | undefined = () => undefined;
  private readonly keyPrefixes = new Set<string>();
  private readonly staged = new Map<string, { body: Buffer; status: number }>();
  private readonly policyFields = {
    bucket: 'test-bucket',
    Policy: randomBytes(24).toString('base64'),
    'X-Amz-Signature': randomBytes(32).toString('hex'),
  };

  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
  ) {}

  static async start(): Promise<RemoteTestServer> {
    let instance: RemoteTestServer | undefined;
    const server = createServer((request, response) => {
      instance!.handle(request, response).catch((error: unknown) => {
        response.writeHead(500).end(String(error));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    instance = new RemoteTestServer(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return instance;
  }

  /** Serves `body` at a fresh URL (answering `status` instead when it is not 200). */
  stage(body: Uint8Array, status = 200): string {
    const path = `/staged/${randomBytes(8).toString('hex')}?X-Amz-Signature=${randomBytes(16).toString('hex')}`;
    this.staged.set(path, { body: Buffer.from(body), status });
    return this.baseUrl + path;
  }

  /** From now on, answer the n-th POST (0-based) with the returned status instead of storing it. */
  injectPostFaults(statusFor: (attempt: number) => number | undefined): void {
    this.failPost = statusFor;
    this.postAttempts = 0;
  }

  liveOutputTarget(keyPrefix: string): LiveOutputTarget {
    this.keyPrefixes.add(keyPrefix);
    return { url: `${this.baseUrl}/upload`, fields: { ...this.policyFields }, keyPrefix };
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    if (request.method === 'GET') {
      const staged = this.staged.get(request.url ?? '');
      if (!staged) return void response.writeHead(404).end('<Error><Code>NoSuchKey</Code></Error>');
      if (staged.status !== 200)
        return void response.writeHead(staged.status).end('<Error><Code>AccessDenied</Code></Error>');
      return void response.writeHead(200, { 'content-length': staged.body.length }).end(staged.body);
    }
    if (request.method !== 'POST' || request.url !== '/upload') return void response.writeHead(405).end();
    const injected = this.failPost(this.postAttempts++);
    if (injected) return void response.writeHead(injected).end('<Error><Code>InjectedFault</Code></Error>');
    const parts = parseMultipart(request.headers['content-type'] ?? '', body);
    const fields = new Map(parts.map((part) => [part.name, part.body.toString('utf8')]));
    const file = parts[parts.length - 1];
    const problems = [
      file?.name !== 'file' && 'the file part is not last',
      ...Object.entries(this.policyFields).map(
        ([name, value]) => fields.get(name) !== value && `field ${name} missing or changed`,
      ),
      ![...this.keyPrefixes].some((prefix) => fields.get('key')?.startsWith(prefix)) && 'key outside the policy prefix',
      file && file.body.length > MAX_OBJECT_BYTES && 'object over the size cap',
    ].filter(Boolean);
    if (problems.length)
      return void response
        .writeHead(400)
        .end(`<Error><Code>InvalidPolicy</Code><Message>${problems.join('; ')}</Message></Error>`);
    this.objects.set(fields.get('key')!, file.body);
    response.writeHead(204).end();
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** The loopback server as a transport for remoteHarness. */
export function localTransport(server: RemoteTestServer): RemoteTransport {
  return {
    stage: async (body, _fileName, broken) => ({
      kind: 'presigned',
      url: server.stage(body, broken === 'missing' ? 404 : broken === 'refused' ? 403 : 200),
    }),
    liveOutput: async (runId) => ({
      target: server.liveOutputTarget(`runs/${runId}/`),
      outputLocation: `s3://test-bucket/runs/${runId}/`,
    }),
    objects: async (keyPrefix) => new Map([...server.objects].filter(([key]) => key.startsWith(keyPrefix))),
  };
}
