// Reads what a command text carries: the wrapper program (inflated when packed) and its embedded run spec.
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import { RunnerError } from '../../src/core/api';
import { buildRemoteCommands, type RemoteRunSpec } from '../../src/core/remote';

/** The wrapper program in a command text: as is, or inflated when the command carries it deflated + base64. */
export function wrapperTextOf(commands: string[]): string {
  const text = commands.join('\n');
  const packed = /zlib\.decompress\(base64\.b64decode\(\n?((?:"[A-Za-z0-9+/=]*"\n?)+)\)\)/.exec(text);
  if (!packed) return text;
  const base64 = packed[1].replace(/["\n]/g, '');
  return inflateSync(Buffer.from(base64, 'base64')).toString('utf8');
}

/** Decodes the wrapper's embedded run spec (base64 JSON) from a command text. */
export function specOf(commands: string[]): {
  file?: { fetch: { url?: string } };
  output?: { fields: Array<[string, string]> };
} {
  const match = /^SPEC_BASE64 = "([A-Za-z0-9+/=]+)"$/m.exec(wrapperTextOf(commands));
  assert.ok(match, 'the command embeds a run spec');
  return JSON.parse(Buffer.from(match[1], 'base64').toString('utf8'));
}

/** `spec` is refused with one InvalidRunSpec message that says what is wrong (`reason`) and what to do (`advice`). */
export function assertRefused(spec: RemoteRunSpec, reason: RegExp, advice: RegExp): void {
  assert.throws(
    () => buildRemoteCommands(spec),
    (error: unknown) => {
      assert.ok(error instanceof RunnerError, String(error));
      assert.equal(error.code, 'InvalidRunSpec');
      assert.match(error.message, /^Cannot build the remote command: /);
      assert.match(error.message, reason);
      assert.match(error.message, advice);
      assert.match(error.message, /\.$/);
      return true;
    },
  );
}
