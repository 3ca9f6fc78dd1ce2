// The instance-side wrapper is the Python modules in wrapper/ beside this file (what it does and why:
// wrapper/__init__.py). The build joins them into one program and embeds it (scripts/embedWrapper.mjs, as
// WRAPPER_SOURCE); this module fills in the values the client owns and the run spec, each on its own line
// of wrapper/values.py, before commandText.ts packs the program.
import {
  AGENT_REBOOT_EXIT_CODE,
  ARTIFACTS_MAX_BYTES,
  ARTIFACTS_MAX_FILES,
  DEFAULT_VENV_ROOT,
  FALLBACK_VENV_ROOT,
  LEFTOVER_PROCESS_GRACE_SECONDS,
  REBOOT_EXIT_CODE_REPORTED_AS,
  S3_DOWNLOAD_FIRST_CONTACT_SECONDS,
  S3_FIRST_CONTACT_SECONDS,
} from '../defaults';
import { INSTANCE_ID_PATTERN } from './chunkKeys';
import { REBOOT_CODE_NOTE } from './fallbackScript';
import { WRAPPER_SOURCE } from './wrapperSource.generated';

/** DEFAULT_VENV_ROOT below $HOME, e.g. `.cache/ec2-runner/venvs`. */
// Stryker disable next-line Regex: DEFAULT_VENV_ROOT is a constant that starts with $HOME/, so the anchor cannot matter
const VENV_HOME_SUBDIR = DEFAULT_VENV_ROOT.replace(/^\$HOME\//, '');

/** A Python literal of printable ASCII: `prefix` "" for a str, "b" for bytes, "r" for a raw str. */
export function pyLiteral(value: string, prefix: '' | 'b' | 'r' = ''): string {
  if (!/^[\x20-\x7e]*$/.test(value) || (prefix !== '' && (value.includes('"') || value.endsWith('\\')))) {
    throw new Error(`cannot write ${JSON.stringify(value)} as a Python ${prefix}"" literal`);
  }
  return prefix === '' ? JSON.stringify(value) : `${prefix}"${value}"`;
}

/** The values wrapper/values.py takes from the client, as Python literals by the name of their line. */
export const WRAPPER_CLIENT_VALUES: Readonly<Record<string, string>> = {
  AGENT_REBOOT_CODE: String(AGENT_REBOOT_EXIT_CODE),
  REBOOT_CODE_REPORTED_AS: String(REBOOT_EXIT_CODE_REPORTED_AS),
  REBOOT_NOTE: pyLiteral(REBOOT_CODE_NOTE),
  S3_FIRST_CONTACT_SECONDS: String(S3_FIRST_CONTACT_SECONDS),
  S3_DOWNLOAD_FIRST_CONTACT_SECONDS: String(S3_DOWNLOAD_FIRST_CONTACT_SECONDS),
  LEFTOVER_GRACE_SECONDS: String(LEFTOVER_PROCESS_GRACE_SECONDS),
  INSTANCE_ID_PATTERN: pyLiteral(INSTANCE_ID_PATTERN.source, 'r'),
  ARTIFACTS_MAX_BYTES: String(ARTIFACTS_MAX_BYTES),
  ARTIFACTS_MAX_FILES: String(ARTIFACTS_MAX_FILES),
  VENV_HOME_SUBDIR: pyLiteral(VENV_HOME_SUBDIR, 'b'),
  VENV_FALLBACK_ROOT: pyLiteral(FALLBACK_VENV_ROOT, 'b'),
};

/** Sets the first line `NAME = ...` of each value; a name without its line is a build mistake. */
export function withValues(program: string, values: Readonly<Record<string, string>>): string {
  let text = program;
  for (const [name, literal] of Object.entries(values)) {
    const line = new RegExp(`^${name} = .*$`, 'm');
    if (!line.test(text)) throw new Error(`the wrapper has no line "${name} = ..."`);
    text = text.replace(line, () => `${name} = ${literal}`);
  }
  return text;
}

let withClientValues: string | undefined;

/** The wrapper's Python source with the client's values and the run spec (base64 of JSON, see commandText.ts). */
export function wrapperProgram(specBase64: string): string {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(specBase64)) throw new Error('the wrapper spec must be base64');
  withClientValues ??= withValues(WRAPPER_SOURCE, WRAPPER_CLIENT_VALUES);
  return withValues(withClientValues, { SPEC_BASE64: `"${specBase64}"` });
}
