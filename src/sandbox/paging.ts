// Opaque page tokens (an offset, base64-encoded JSON) and page-size validation shared by the JSON APIs.
import { AwsError, constraint } from './errors';

export function pageSize(
  value: unknown,
  limits: { min: number; max: number; default: number },
  member: string,
): number {
  if (value === undefined || value === null) return limits.default;
  const size = Number(value);
  if (!Number.isInteger(size) || size < limits.min || size > limits.max) {
    throw constraint(value, member, `Member must have value between ${limits.min} and ${limits.max}`);
  }
  return size;
}

export function encodePageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64');
}

export function decodePageToken(token: unknown): number {
  if (token === undefined || token === null || token === '') return 0;
  try {
    const { offset } = JSON.parse(Buffer.from(String(token), 'base64').toString('utf8')) as { offset: number };
    if (Number.isInteger(offset) && offset >= 0) return offset;
  } catch {
    // fall through
  }
  throw new AwsError('InvalidNextToken', 'The specified token is not valid.');
}
