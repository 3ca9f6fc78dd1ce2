// One HTTP server on 127.0.0.1 for every service. A request is classified (service, protocol,
// operation), counted, delayed/faulted/throttled per the knobs, authenticated with SigV4, then
// dispatched. Errors are rendered in the calling protocol's own shape.
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { checkDenials } from './denials';
import { AwsError } from './errors';
import { type ApiRequest, type ApiResponse, type BodyLimits, flattenHeaders, parseQuery, readBody } from './http';
import { type IdentityContext, STS_XMLNS, assumeRole, getCallerIdentity, getResources } from './identityApi';
import type { Knobs, Throttle } from './knobs';
import { MAX_API_BODY_BYTES, MAX_REQUEST_BODY_BYTES, SERVER_LIMITS } from './limits';
import { handlePostObject, POST_FIELDS_MAX_BYTES, verifyPostPrefix } from './postObject';
import { type S3Context, handleS3, s3OperationName } from './s3Api';
import { isPresignedV2, verifyPresignedV2 } from './sigv2';
import type { SessionStore } from './stsSessions';
import {
  AuthFailure,
  type AuthFailureKind,
  type SandboxCredentials,
  type SigV4Verifier,
  isPresigned,
  signingKeyIdOf,
} from './sigv4';
import { SSM_OPERATIONS, type SsmContext } from './ssmApi';
import { XML_DECLARATION, el } from './xml';

type Protocol = 'json' | 'query' | 's3';
interface Route {
  service: string;
  protocol: Protocol;
  operation: string;
  signingName: string;
}

export interface ServerDeps {
  verifier: SigV4Verifier;
  credentials: SandboxCredentials;
  knobs: Knobs;
  throttle: Throttle;
  count(key: string): void;
  s3: S3Context;
  ssm: SsmContext;
  identity: IdentityContext;
  stsSessions: SessionStore;
}

const JSON_TARGETS: Record<string, { service: string; signingName: string }> = {
  AmazonSSM: { service: 'ssm', signingName: 'ssm' },
  ResourceGroupsTaggingAPI_20170126: { service: 'tagging', signingName: 'tagging' },
};

export function createApiServer(deps: ServerDeps): Server {
  const server = createServer(
    {
      headersTimeout: SERVER_LIMITS.headersTimeoutMs,
      requestTimeout: SERVER_LIMITS.requestTimeoutMs,
      connectionsCheckingInterval: SERVER_LIMITS.checkIntervalMs,
    },
    (message, response) => void handle(message, response, deps),
  );
  // `Expect: 100-continue` (the CLI, large SDK uploads): the body is only asked for once the headers authenticate.
  server.on(
    'checkContinue',
    (message: IncomingMessage, response: ServerResponse) => void handle(message, response, deps, true),
  );
  server.maxConnections = SERVER_LIMITS.maxConnections;
  server.timeout = SERVER_LIMITS.idleSocketTimeoutMs;
  return server;
}

async function handle(
  message: IncomingMessage,
  response: ServerResponse,
  deps: ServerDeps,
  expectsContinue = false,
): Promise<void> {
  const requestId = randomUUID();
  const url = message.url ?? '/';
  const q = url.indexOf('?');
  let route: Route = { service: 's3', protocol: 's3', operation: 'Unknown', signingName: 's3' };
  let req: ApiRequest | undefined;
  try {
    req = {
      method: message.method ?? 'GET',
      rawPath: q < 0 ? url : url.slice(0, q),
      rawQuery: q < 0 ? '' : url.slice(q + 1),
      query: [],
      headers: flattenHeaders(message),
      body: Buffer.alloc(0),
      requestId,
    };
    route = classify(req);
    req.query = parseQuery(req.rawQuery);
    try {
      await authenticateHeaders(req, route, deps);
    } catch (error) {
      // Refused before a byte of the body is read: answer, then close (the rest is never read).
      response.shouldKeepAlive = false;
      deps.count(`${route.service}:${route.protocol === 's3' ? s3OperationName(req) : route.operation}`);
      throw error;
    }
    if (expectsContinue) response.writeContinue();
    req.body = await readBody(message, bodyLimits(req, route, deps)).catch((error: unknown) => {
      response.shouldKeepAlive = false;
      throw error;
    });
    if (route.protocol === 'query')
      route.operation = new URLSearchParams(req.body.toString('utf8')).get('Action') ?? 'Unknown';
    else if (route.protocol === 's3') route.operation = s3OperationName(req);
    deps.count(`${route.service}:${route.operation}`);
    if (deps.knobs.latencyMs > 0) await sleep(deps.knobs.latencyMs);
    if (deps.knobs.faultRate > 0 && Math.random() < deps.knobs.faultRate) {
      if (Math.random() < 0.5) {
        message.socket.destroy(); // connection reset
        return;
      }
      throw new AwsError(
        route.protocol === 'json'
          ? 'InternalServerError'
          : route.protocol === 's3'
            ? 'InternalError'
            : 'InternalFailure',
        'We encountered an internal error. Please try again. (sandbox fault injection)',
        500,
      );
    }
    const result = await dispatch(req, route, deps);
    send(response, result, route, requestId);
  } catch (error) {
    send(response, renderError(error, route, requestId, req?.method === 'HEAD'), route, requestId);
  }
}

function isPostObject(req: ApiRequest, route: Route): boolean {
  return (
    route.protocol === 's3' &&
    req.method === 'POST' &&
    (req.headers['content-type'] ?? '').startsWith('multipart/form-data')
  );
}

/**
 * What can be authenticated from the headers alone, before the body is read: presigned requests in
 * full, header-signed ones down to key, scope and clock (and in full when the signature covers a
 * declared payload hash, as S3's always does). POST Object carries its credentials in the form: see
 * bodyLimits. Everything is verified again in full once the body is there (dispatch).
 */
async function authenticateHeaders(req: ApiRequest, route: Route, deps: ServerDeps): Promise<void> {
  if (isPostObject(req, route)) return;
  if (route.protocol === 's3' && isPresigned(req)) await deps.verifier.verifyPresigned(req);
  else if (route.protocol === 's3' && isPresignedV2(req)) await verifyPresignedV2(req, deps.credentials);
  else await deps.verifier.verifyHeaderSigned(req, route.signingName, { bodyPending: true });
}

function bodyLimits(req: ApiRequest, route: Route, deps: ServerDeps): BodyLimits {
  if (route.protocol !== 's3') return { maxBytes: MAX_API_BODY_BYTES };
  if (!isPostObject(req, route)) return { maxBytes: MAX_REQUEST_BODY_BYTES };
  const contentType = req.headers['content-type'] ?? '';
  return {
    maxBytes: MAX_REQUEST_BODY_BYTES,
    gate: {
      atBytes: POST_FIELDS_MAX_BYTES,
      check: (prefix, complete) => verifyPostPrefix(prefix, contentType, complete, deps.verifier),
    },
  };
}

function classify(req: ApiRequest): Route {
  const target = req.headers['x-amz-target'];
  if (target) {
    const [prefix, operation = ''] = target.split('.');
    const known = JSON_TARGETS[prefix];
    return {
      service: known?.service ?? 'unknown',
      protocol: 'json',
      operation,
      signingName: known?.signingName ?? 'unknown',
    };
  }
  const contentType = req.headers['content-type'] ?? '';
  if (req.method === 'POST' && req.rawPath === '/' && contentType.startsWith('application/x-www-form-urlencoded')) {
    return { service: 'sts', protocol: 'query', operation: 'Unknown', signingName: 'sts' };
  }
  return { service: 's3', protocol: 's3', operation: 'Unknown', signingName: 's3' };
}

async function dispatch(req: ApiRequest, route: Route, deps: ServerDeps): Promise<ApiResponse> {
  if (
    route.protocol === 's3' &&
    route.operation === 'PostObject' &&
    (req.headers['content-type'] ?? '').startsWith('multipart/form-data')
  ) {
    checkDenials(route.service, route.protocol, route.operation, req.rawPath, denialContext(deps));
    return handlePostObject(req, deps.s3, deps.verifier); // authenticated by its signed policy
  }
  // The signing region stands for the regional endpoint the request was sent to (SigV2 has none).
  let signingRegion: string | undefined;
  if (route.protocol === 's3' && isPresigned(req)) signingRegion = await deps.verifier.verifyPresigned(req);
  else if (route.protocol === 's3' && isPresignedV2(req)) verifyPresignedV2(req, deps.credentials);
  else signingRegion = await deps.verifier.verifyHeaderSigned(req, route.signingName);
  checkDenials(route.service, route.protocol, route.operation, req.rawPath, denialContext(deps));

  if (route.service === 'ssm') {
    if (!deps.throttle.take()) throw new AwsError('ThrottlingException', 'Rate exceeded');
    const operation = SSM_OPERATIONS[route.operation];
    if (!operation)
      throw new AwsError('UnknownOperationException', `The sandbox does not implement SSM ${route.operation}.`);
    return json(operation(parseJson(req), deps.ssm));
  }
  if (route.service === 'tagging') {
    if (route.operation !== 'GetResources')
      throw new AwsError('UnknownOperationException', `The sandbox does not implement tagging ${route.operation}.`);
    return json(getResources(parseJson(req), deps.identity));
  }
  if (route.service === 'sts') {
    const session = deps.verifier.sessionOf(signingKeyIdOf(req) ?? '');
    if (route.operation === 'AssumeRole') {
      const params = new URLSearchParams(req.body.toString('utf8'));
      return {
        status: 200,
        headers: { 'content-type': 'text/xml' },
        body: assumeRole(params, deps.identity, deps.stsSessions, deps.knobs.sessionLifetimeS, req.requestId),
      };
    }
    if (route.operation !== 'GetCallerIdentity')
      throw new AwsError('InvalidAction', `The sandbox does not implement STS ${route.operation}.`);
    return {
      status: 200,
      headers: { 'content-type': 'text/xml' },
      body: getCallerIdentity(deps.identity, req.requestId, session),
    };
  }
  if (route.service === 's3') return handleS3(req, route.operation, deps.s3, signingRegion);
  throw new AwsError('UnknownOperationException', `Unknown X-Amz-Target ${req.headers['x-amz-target']}`);
}

function denialContext(deps: ServerDeps) {
  return { ...deps.knobs, accountId: deps.identity.accountId, region: deps.identity.region };
}

function parseJson(req: ApiRequest): Record<string, unknown> {
  if (req.body.length === 0) return {};
  try {
    const value = JSON.parse(req.body.toString('utf8')) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new AwsError('SerializationException', 'The request body is not a JSON object.');
}

function json(value: unknown): ApiResponse {
  return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify(value) };
}

/** How each protocol names an authentication failure (and, for expired or invalid session tokens, words it). */
const AUTH_ERRORS: Record<Protocol, Record<AuthFailureKind, [code: string, status: number, message?: string]>> = {
  json: {
    expiredToken: ['ExpiredTokenException', 400, 'The security token included in the request is expired'],
    badToken: ['UnrecognizedClientException', 400, 'The security token included in the request is invalid.'],
    missing: ['MissingAuthenticationTokenException', 400],
    unknownKey: ['UnrecognizedClientException', 400],
    badSignature: ['InvalidSignatureException', 400],
    payloadMismatch: ['InvalidSignatureException', 400],
    expired: ['InvalidSignatureException', 400],
    notYetValid: ['InvalidSignatureException', 400],
    skew: ['InvalidSignatureException', 400],
    malformed: ['IncompleteSignatureException', 400],
    wrongScope: ['InvalidSignatureException', 400],
  },
  query: {
    expiredToken: ['ExpiredToken', 400, 'The security token included in the request is expired'],
    badToken: ['InvalidClientTokenId', 403, 'The security token included in the request is invalid.'],
    missing: ['MissingAuthenticationToken', 403],
    unknownKey: ['InvalidClientTokenId', 403],
    badSignature: ['SignatureDoesNotMatch', 403],
    payloadMismatch: ['SignatureDoesNotMatch', 403],
    expired: ['SignatureDoesNotMatch', 403],
    notYetValid: ['SignatureDoesNotMatch', 403],
    skew: ['SignatureDoesNotMatch', 403],
    malformed: ['IncompleteSignature', 400],
    wrongScope: ['SignatureDoesNotMatch', 403],
  },
  s3: {
    expiredToken: ['ExpiredToken', 400, 'The provided token has expired.'],
    badToken: ['InvalidToken', 400, 'The provided token is malformed or otherwise invalid.'],
    missing: ['AccessDenied', 403],
    unknownKey: ['InvalidAccessKeyId', 403],
    badSignature: ['SignatureDoesNotMatch', 403],
    payloadMismatch: ['XAmzContentSHA256Mismatch', 400],
    expired: ['AccessDenied', 403],
    notYetValid: ['AccessDenied', 403],
    skew: ['RequestTimeTooSkewed', 403],
    malformed: ['AuthorizationHeaderMalformed', 400],
    wrongScope: ['AuthorizationHeaderMalformed', 400],
  },
};

function renderError(error: unknown, route: Route, requestId: string, headOnly: boolean): ApiResponse {
  let aws: AwsError;
  if (error instanceof AwsError) aws = error;
  else if (error instanceof AuthFailure) {
    const [code, status, message] = AUTH_ERRORS[route.protocol][error.kind];
    aws = new AwsError(code, message ?? error.message, status);
  } else {
    console.error(`sandbox: internal error in ${route.service}:${route.operation}:`, error);
    aws = new AwsError(
      route.protocol === 'json' ? 'InternalServerError' : 'InternalError',
      `Internal error: ${(error as Error)?.message ?? String(error)}`,
      500,
    );
  }
  if (route.protocol === 'json') {
    return {
      status: aws.status,
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': aws.code },
      body: JSON.stringify(aws.message ? { __type: aws.code, message: aws.message } : { __type: aws.code }),
    };
  }
  if (route.protocol === 'query') {
    const body =
      `${XML_DECLARATION}<ErrorResponse ` +
      `xmlns="${STS_XMLNS}"><Error><Type>${aws.status >= 500 ? 'Receiver' : 'Sender'}</Type>` +
      `${el('Code', aws.code)}${el('Message', aws.message)}</Error>${el('RequestId', requestId)}</ErrorResponse>`;
    return { status: aws.status, headers: { 'content-type': 'text/xml' }, body };
  }
  if (headOnly) return { status: aws.status, headers: { ...aws.headers, 'x-amz-error-code': aws.code } };
  const details = Object.entries(aws.details)
    .map(([k, v]) => el(k, v))
    .join('');
  const body =
    `${XML_DECLARATION}<Error>${el('Code', aws.code)}${el('Message', aws.message)}${details}` +
    `${el('RequestId', requestId)}${el('HostId', requestId)}</Error>`;
  return { status: aws.status, headers: { ...aws.headers, 'content-type': 'application/xml' }, body };
}

function send(response: ServerResponse, result: ApiResponse, route: Route, requestId: string): void {
  if (response.headersSent || response.destroyed) return;
  const headers: Record<string, string | number> = { ...result.headers };
  if (route.protocol === 's3') {
    headers['x-amz-request-id'] = requestId;
    headers['x-amz-id-2'] = requestId;
  } else {
    headers['x-amzn-requestid'] = requestId;
  }
  if (result.file) {
    response.writeHead(result.status, headers);
    const stream = createReadStream(result.file.path, { start: result.file.start, end: result.file.end });
    stream.on('error', () => response.destroy());
    stream.pipe(response);
    return;
  }
  const body =
    result.body === undefined
      ? Buffer.alloc(0)
      : Buffer.isBuffer(result.body)
        ? result.body
        : Buffer.from(result.body, 'utf8');
  if (headers['content-length'] === undefined) headers['content-length'] = body.length;
  response.writeHead(result.status, headers);
  response.end(body);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
