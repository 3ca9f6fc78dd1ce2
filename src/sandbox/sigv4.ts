// SigV4 verification with the SDK's own signer: re-sign what we received with the known secret
// and compare. Nothing here re-implements the canonical request; we only rebuild the request the
// client signed (its signed headers, raw path, decoded query) and let SignatureV4 do the rest.
import { createHash, timingSafeEqual } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { ApiRequest } from './http';
import { MAX_CLOCK_SKEW_MS, MAX_PRESIGNED_EXPIRES_SECONDS } from './limits';
import { REGION_PATTERN } from '../core/awsLimits';
import type { SandboxSession, SessionStore } from './stsSessions';

export interface SandboxCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export type AuthFailureKind =
  | 'missing'
  | 'unknownKey'
  | 'badSignature'
  | 'expired'
  | 'notYetValid'
  | 'skew'
  | 'malformed'
  | 'wrongScope'
  | 'payloadMismatch'
  | 'expiredToken'
  | 'badToken';

export class AuthFailure extends Error {
  constructor(
    readonly kind: AuthFailureKind,
    message: string,
  ) {
    super(message);
  }
}

interface Scope {
  accessKeyId: string;
  shortDate: string;
  region: string;
  service: string;
  secretAccessKey: string;
  session?: SandboxSession;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** Presigned-URL parameters that SignatureV4.presign adds itself. */
const PRESIGN_PARAMS = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
];

/** The access key id a header-signed request names (after verification: the caller). */
export function signingKeyIdOf(req: ApiRequest): string | undefined {
  return /Credential=([^/,\s]+)\//.exec(req.headers['authorization'] ?? '')?.[1];
}

export function isPresigned(req: ApiRequest): boolean {
  return req.query.some(([k]) => k === 'X-Amz-Signature' || k === 'X-Amz-Credential');
}

export class SigV4Verifier {
  constructor(
    private readonly credentials: SandboxCredentials,
    private readonly region: string,
    private readonly now = () => Date.now(),
    /** Temporary credentials from sts:AssumeRole, accepted with their session token until they expire. */
    private readonly sessions?: SessionStore,
  ) {}

  /**
   * Verifies an `Authorization: AWS4-HMAC-SHA256 ...` request. `service` is the expected signing name.
   * With `bodyPending` (headers only, before the body is read): key, scope and clock are checked, and
   * the signature too when it covers a declared payload hash (S3's x-amz-content-sha256); the body's
   * own hash is left for the full check after reading. Returns the signing region.
   */
  async verifyHeaderSigned(req: ApiRequest, service: string, { bodyPending = false } = {}): Promise<string> {
    const authorization = req.headers['authorization'];
    if (!authorization) throw new AuthFailure('missing', 'Request is not signed (no Authorization header)');
    const match =
      /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})\s*$/.exec(
        authorization,
      );
    if (!match)
      throw new AuthFailure(
        'malformed',
        `Authorization header is not AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`,
      );
    const scope = this.checkScope(match[1], service);
    this.checkSessionToken(scope, req.headers['x-amz-security-token']);
    const signedHeaders = match[2].split(';');
    const amzDate = req.headers['x-amz-date'];
    if (!amzDate || !signedHeaders.includes('x-amz-date'))
      throw new AuthFailure('malformed', 'Signed requests must sign an X-Amz-Date header');
    const signingDate = parseAmzDate(amzDate);
    if (amzDate.slice(0, 8) !== scope.shortDate)
      throw new AuthFailure('malformed', `Credential date ${scope.shortDate} does not match X-Amz-Date ${amzDate}`);
    if (Math.abs(this.now() - signingDate.getTime()) > MAX_CLOCK_SKEW_MS) {
      throw new AuthFailure(
        'skew',
        `Signature expired: ${amzDate} is more than 15 minutes away from the sandbox's clock ` +
          `(${new Date(this.now()).toISOString()})`,
      );
    }
    const headers = pickSignedHeaders(req, signedHeaders);
    // the signature covers the body: checked once it is read
    if (bodyPending && !signedHeaders.includes('x-amz-content-sha256')) return scope.region;
    if (!bodyPending) this.checkPayloadHash(req);
    const signer = this.signer(scope, service);
    const signed = await signer.sign(
      {
        method: req.method,
        protocol: 'http:',
        hostname: '127.0.0.1',
        path: canonicalPathInput(req, service),
        query: queryRecord(req.query),
        headers,
        body: req.body,
      },
      { signingDate, signableHeaders: new Set(signedHeaders) },
    );
    const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers['authorization']))?.[1] ?? '';
    const expectedList = /SignedHeaders=([^,\s]+)/.exec(String(signed.headers['authorization']))?.[1];
    if (expectedList !== match[2] || !sameHex(expected, match[3])) {
      throw new AuthFailure(
        'badSignature',
        'The request signature we calculated does not match the signature you provided. Check your AWS ' +
          'Secret Access Key and signing method.',
      );
    }
    return scope.region;
  }

  /**
   * Verifies a query-string (presigned URL) request and its expiry; returns the signing region. Presigned URLs exist
   * only for S3 here.
   */
  async verifyPresigned(req: ApiRequest): Promise<string> {
    const param = (name: string) => req.query.find(([k]) => k === name)?.[1];
    if (param('X-Amz-Algorithm') !== ALGORITHM)
      throw new AuthFailure('malformed', `X-Amz-Algorithm must be ${ALGORITHM}`);
    const credential = param('X-Amz-Credential');
    const amzDate = param('X-Amz-Date');
    const expiresText = param('X-Amz-Expires');
    const signedHeaderList = param('X-Amz-SignedHeaders');
    const signature = param('X-Amz-Signature');
    if (!credential || !amzDate || !expiresText || !signedHeaderList || !signature) {
      throw new AuthFailure(
        'malformed',
        'Query-string authentication requires X-Amz-Credential, X-Amz-Date, X-Amz-Expires, ' +
          'X-Amz-SignedHeaders and X-Amz-Signature',
      );
    }
    const scope = this.checkScope(credential, 's3');
    this.checkSessionToken(scope, param('X-Amz-Security-Token'));
    const signingDate = parseAmzDate(amzDate);
    const expiresIn = Number(expiresText);
    if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_PRESIGNED_EXPIRES_SECONDS) {
      throw new AuthFailure('malformed', `X-Amz-Expires must be an integer from 1 to ${MAX_PRESIGNED_EXPIRES_SECONDS}`);
    }
    if (this.now() > signingDate.getTime() + expiresIn * 1000) throw new AuthFailure('expired', 'Request has expired');
    if (signingDate.getTime() - this.now() > MAX_CLOCK_SKEW_MS)
      throw new AuthFailure('notYetValid', 'Request is not valid yet');
    const signedHeaders = signedHeaderList.split(';');
    const headers = pickSignedHeaders(req, signedHeaders);
    // S3 presigned URLs sign UNSIGNED-PAYLOAD: give the signer that hash through a header it must
    // neither sign nor move into the query.
    const payloadHeader = 'x-amz-content-sha256';
    const payloadSigned = signedHeaders.includes(payloadHeader);
    if (!payloadSigned) headers[payloadHeader] = UNSIGNED_PAYLOAD;
    const query = queryRecord(req.query.filter(([k]) => !PRESIGN_PARAMS.includes(k)));
    const presigned = await this.signer(scope, 's3').presign(
      { method: req.method, protocol: 'http:', hostname: '127.0.0.1', path: req.rawPath, query, headers },
      {
        signingDate,
        expiresIn,
        signableHeaders: new Set(signedHeaders),
        unsignableHeaders: payloadSigned ? undefined : new Set([payloadHeader]),
        unhoistableHeaders: new Set([...signedHeaders, payloadHeader]),
      },
    );
    const expected = String(presigned.query?.['X-Amz-Signature'] ?? '');
    if (presigned.query?.['X-Amz-SignedHeaders'] !== signedHeaderList || !sameHex(expected, signature)) {
      throw new AuthFailure(
        'badSignature',
        'The request signature we calculated does not match the signature you provided. Check your key and ' +
          'signing method.',
      );
    }
    return scope.region;
  }

  /** Browser-style POST: the signature is HMAC(signing key, base64 policy), signed with the SDK's key derivation. */
  async verifyPolicySignature(fields: {
    credential?: string;
    date?: string;
    algorithm?: string;
    signature?: string;
    policy?: string;
    securityToken?: string;
  }): Promise<string> {
    if (!fields.policy || !fields.signature || !fields.credential || !fields.date) {
      throw new AuthFailure(
        'missing',
        'POST form must carry policy, x-amz-credential, x-amz-date and x-amz-signature fields',
      );
    }
    if (fields.algorithm !== ALGORITHM) throw new AuthFailure('malformed', `x-amz-algorithm must be ${ALGORITHM}`);
    const scope = this.checkScope(fields.credential, 's3');
    this.checkSessionToken(scope, fields.securityToken);
    const signingDate = parseAmzDate(fields.date);
    const expected = await this.signer(scope, 's3').sign(fields.policy, {
      signingDate,
      signingRegion: scope.region,
      signingService: 's3',
    });
    if (!sameHex(expected, fields.signature)) {
      throw new AuthFailure(
        'badSignature',
        'The request signature we calculated does not match the signature you provided. Check your key and ' +
          'signing method.',
      );
    }
    return scope.region;
  }

  private checkScope(credential: string, service: string): Scope {
    const parts = credential.split('/');
    if (parts.length !== 5 || parts[4] !== 'aws4_request') {
      throw new AuthFailure(
        'malformed',
        `Credential must be <key id>/<yyyymmdd>/<region>/<service>/aws4_request, got "${credential}"`,
      );
    }
    const [accessKeyId, shortDate, region, scopeService] = parts;
    const session = accessKeyId === this.credentials.accessKeyId ? undefined : this.sessions?.get(accessKeyId);
    if (accessKeyId !== this.credentials.accessKeyId && !session) {
      throw new AuthFailure(
        'unknownKey',
        `The access key id ${accessKeyId} is not the sandbox's (use the credentials from its info file or env)`,
      );
    }
    // S3 has an endpoint in every region (a bucket in another region answers 301 itself, see s3Api.ts);
    // the other services live only in the sandbox's region.
    const known = service === 's3' ? REGION_PATTERN.test(region) : region === this.region;
    if (!known)
      throw new AuthFailure(
        'wrongScope',
        `Credential should be scoped to a valid region: the sandbox's region is '${this.region}', not '${region}'`,
      );
    if (scopeService !== service)
      throw new AuthFailure(
        'wrongScope',
        `Credential should be scoped to the correct service: '${service}', not '${scopeService}'`,
      );
    const secretAccessKey = session ? session.secretAccessKey : this.credentials.secretAccessKey;
    return { accessKeyId, shortDate, region, service: scopeService, secretAccessKey, session };
  }

  /**
   * Temporary credentials must carry their session token and stop working at their expiry, presigned URLs and POST
   * policies included.
   */
  private checkSessionToken(scope: Scope, token: string | undefined): void {
    const session = scope.session;
    if (!session) return;
    if (token === undefined || !sameText(token, session.sessionToken)) {
      throw new AuthFailure('badToken', 'The security token included in the request is invalid.');
    }
    if (this.sessions!.isExpired(session)) throw new AuthFailure('expiredToken', 'The provided token has expired.');
  }

  /** The session a request was signed with (after verification), for answers that depend on the caller. */
  sessionOf(accessKeyId: string): SandboxSession | undefined {
    return this.sessions?.get(accessKeyId);
  }

  private checkPayloadHash(req: ApiRequest): void {
    const declared = req.headers['x-amz-content-sha256'];
    if (!declared || !/^[0-9a-f]{64}$/.test(declared)) return; // UNSIGNED-PAYLOAD / STREAMING-*: nothing to compare
    const actual = req.body.length === 0 ? EMPTY_SHA256 : createHash('sha256').update(req.body).digest('hex');
    if (actual !== declared)
      throw new AuthFailure(
        'payloadMismatch',
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
      );
  }

  private signer(scope: Scope, service: string): SignatureV4 {
    return new SignatureV4({
      // The session token is checked on its own (checkSessionToken); the signature covers it as a signed header or
      // query parameter.
      credentials: { accessKeyId: scope.accessKeyId, secretAccessKey: scope.secretAccessKey },
      region: scope.region,
      service,
      sha256: Sha256,
      // S3 signs the already-encoded path as is; the other services' signers encode it again.
      uriEscapePath: service !== 's3',
      applyChecksum: false,
    });
  }
}

function pickSignedHeaders(req: ApiRequest, signedHeaders: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = req.headers[name];
    if (value === undefined)
      throw new AuthFailure('badSignature', `Header ${name} is listed in SignedHeaders but missing from the request`);
    headers[name] = value;
  }
  return headers;
}

/** S3 signs the raw (encoded) path; json/query services sign "/" (escaped again by the signer). */
function canonicalPathInput(req: ApiRequest, service: string): string {
  if (service === 's3') return req.rawPath;
  try {
    return decodeURIComponent(req.rawPath);
  } catch {
    return req.rawPath;
  }
}

function queryRecord(pairs: Array<[string, string]>): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of pairs) {
    const existing = query[key];
    if (existing === undefined) query[key] = value;
    else query[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return query;
}

export function parseAmzDate(text: string): Date {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!match) throw new AuthFailure('malformed', `X-Amz-Date must look like 20240101T000000Z, got "${text}"`);
  const [, y, mo, d, h, mi, s] = match;
  return new Date(Date.UTC(+y, +mo - 1, +d, +h, +mi, +s));
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

function sameHex(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b.toLowerCase(), 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}
