// Live-output object keys: `<keyPrefix><instanceId>/<seq, 8 digits>`, so a lexicographic
// ListObjectsV2 (StartAfter) returns each instance's objects in upload order.
//
// Keys are written by whoever holds the run's POST policy (the instance, its script, any reader of
// the command text), so the parser trusts nothing: the id must look like a real instance id, which
// also makes it safe to use as one path component (no `/`, `\`, `.`, `..`, `:`).

const SEQ_DIGITS = 8;

/** EC2 (`i-`) and hybrid (`mi-`) managed instance ids: 8 or 17 lowercase hex digits (some tools pad). */
export const INSTANCE_ID_PATTERN = /^m?i-[0-9a-f]{8,17}$/;

export function isInstanceId(value: string): boolean {
  return INSTANCE_ID_PATTERN.test(value);
}

export function chunkKey(keyPrefix: string, instanceId: string, seq: number): string {
  if (!Number.isSafeInteger(seq) || seq < 0)
    throw new RangeError(`chunk sequence must be a non-negative integer, got ${seq}`);
  return `${keyPrefix}${instanceId}/${String(seq).padStart(SEQ_DIGITS, '0')}`;
}

export function parseChunkKey(keyPrefix: string, key: string): { instanceId: string; seq: number } | undefined {
  if (!key.startsWith(keyPrefix)) return undefined;
  const match = /^([^/]+)\/(\d{8,})$/.exec(key.slice(keyPrefix.length));
  if (!match || !isInstanceId(match[1])) return undefined;
  const seq = Number(match[2]);
  return Number.isSafeInteger(seq) ? { instanceId: match[1], seq } : undefined;
}
