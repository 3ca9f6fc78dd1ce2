// Live-output object keys: `<keyPrefix><instanceId>/<seq, 8 digits>`, so a lexicographic
// ListObjectsV2 (StartAfter) returns each instance's objects in upload order.

const SEQ_DIGITS = 8;

export function chunkKey(keyPrefix: string, instanceId: string, seq: number): string {
  if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError(`chunk sequence must be a non-negative integer, got ${seq}`);
  return `${keyPrefix}${instanceId}/${String(seq).padStart(SEQ_DIGITS, '0')}`;
}

export function parseChunkKey(keyPrefix: string, key: string): { instanceId: string; seq: number } | undefined {
  if (!key.startsWith(keyPrefix)) return undefined;
  const match = /^([^/]+)\/(\d{8,})$/.exec(key.slice(keyPrefix.length));
  if (!match) return undefined;
  const seq = Number(match[2]);
  return Number.isSafeInteger(seq) ? { instanceId: match[1], seq } : undefined;
}
