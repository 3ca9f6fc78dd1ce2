// The plain-sh path used when the instance has no Python 3.6+: same download, checksum, working directory,
// environment, arguments and exit codes as the wrapper, but no live channel (the client falls back to
// SSM's own output). Every user-supplied value is embedded as single-quoted base64 and decoded at run
// time, so nothing the user typed is ever parsed by the shell; arguments are collected into the
// positional parameters and run as "$@", byte for byte (any text without NUL).
import { AGENT_REBOOT_EXIT_CODE, REBOOT_EXIT_CODE_REPORTED_AS } from '../defaults';
import type { RemoteRunSpec } from './types';

/** Said on stderr (SSM's output only) when a script's 194 is reported to the agent as 195. */
export const REBOOT_CODE_NOTE =
  `ec2-runner: the script exited ${AGENT_REBOOT_EXIT_CODE}, which the SSM agent takes as a reboot request; ` +
  `reported to SSM as ${REBOOT_EXIT_CODE_REPORTED_AS}`;

/**
 * A line that decodes `value` (as UTF-8) into $ec2r_v (via ec2r_decode, defined in fallbackScriptLines), then
 * the follow-up text that uses it. The base64 is single-quoted: its alphabet needs no escaping.
 */
function decodeInto(value: string, then: string): string {
  return `ec2r_decode '${Buffer.from(value).toString('base64')}'; ${then}`;
}

/** Appends one decoded word to the positional parameters. */
function pushWord(value: string): string {
  return decodeInto(value, 'set -- "$@" "$ec2r_v"');
}

function downloadLines(spec: RemoteRunSpec): string[] {
  const payload = spec.payload!;
  if (payload.fetch.kind === 'inline') {
    // $ec2r_inline is set at the top of the command text (commandText.ts inlineFileLines).
    return [
      'command -v gzip >/dev/null 2>&1 || ec2r_fail 125 "this instance has neither python3 nor gzip (needed ' +
        'to unpack the file sent with the command): install python3"',
      'printf %s "$ec2r_inline" | base64 -d | gzip -dc >"$ec2r_file" || ec2r_fail 125 "could not unpack the ' +
        'file sent with the command"',
    ];
  }
  if (payload.fetch.kind === 'instance-role') {
    return [
      'command -v aws >/dev/null 2>&1 || ec2r_fail 125 "download failed: the aws CLI is not on this ' +
        'instance\'s PATH (needed by the instance-role transfer mode)"',
      decodeInto(payload.fetch.s3Uri, 'ec2r_s3=$ec2r_v'),
      decodeInto(payload.fetch.region, 'ec2r_region=$ec2r_v'),
      'aws s3 cp --only-show-errors --region "$ec2r_region" "$ec2r_s3" "$ec2r_file" </dev/null || ec2r_fail ' +
        '125 "download failed: aws s3 cp exited $? (the instance role needs s3:GetObject on the staged ' +
        'object)"',
    ];
  }
  // The URL goes to curl/wget on stdin, never in argv, because it carries a signature.
  return [
    decodeInto(payload.fetch.url, 'ec2r_url=$ec2r_v'),
    'if command -v curl >/dev/null 2>&1; then',
    '  printf \'url = "%s"\\n\' "$ec2r_url" | curl -fsS --retry 2 -o "$ec2r_file" -K - || ec2r_fail 125 ' +
      '"download failed: curl exited $? (an expired presigned URL gives HTTP 403: run again)"',
    'elif command -v wget >/dev/null 2>&1; then',
    '  printf \'%s\\n\' "$ec2r_url" | wget -q -O "$ec2r_file" -i - || ec2r_fail 125 "download failed: wget ' +
      'exited $? (an expired presigned URL gives HTTP 403: run again)"',
    'else ec2r_fail 125 "download failed: this instance has neither python3, curl nor wget"; fi',
  ];
}

function verifyLines(sha256: string): string[] {
  return [
    'if command -v sha256sum >/dev/null 2>&1; then ec2r_sum=$(sha256sum <"$ec2r_file")',
    'elif command -v shasum >/dev/null 2>&1; then ec2r_sum=$(shasum -a 256 <"$ec2r_file")',
    'else ec2r_fail 125 "cannot verify the download: neither sha256sum nor shasum is installed"; fi',
    'ec2r_sum=${ec2r_sum%% *}',
    `[ "$ec2r_sum" = ${sha256} ] || { rm -f "$ec2r_file"; ec2r_fail 125 "checksum mismatch: expected ` +
      `${sha256} got $ec2r_sum (the staged file changed after upload; run again)"; }`,
  ];
}

/** Lines that build "$@" as the full argv (interpreter words, file, arguments, or sh -c command). */
function argvLines(spec: RemoteRunSpec, interpreterWords: string[]): string[] {
  if (spec.shellCommand !== undefined) return ['set --', pushWord(spec.shellCommand), 'set -- /bin/sh -c "$1"'];
  const lines = [
    'set --',
    ...interpreterWords.map(pushWord),
    'set -- "$@" "$ec2r_file"',
    ...spec.payload!.args.map(pushWord),
  ];
  return lines;
}

const INTERPRETER_CHECK =
  'command -v "$1" >/dev/null 2>&1 || ec2r_fail 127 "interpreter not found: $1 (install it on the instance ' +
  'or choose another interpreter)"';

/**
 * `session.runLines` replace the last step (run "$@" with stdin closed, exit with its status) for a
 * Session Manager run, where the script's stdin is the session and this is not a fallback.
 */
export function fallbackScriptLines(
  spec: RemoteRunSpec,
  interpreterWords: string[],
  session?: { runLines: string[] },
): string[] {
  const env = Object.entries(spec.env ?? {});
  const lines = [
    'ec2r_fail() { printf \'ec2-runner: %s\\n\' "$2" >&2; exit "$1"; }',
    // The x keeps trailing newlines through $(...); stripped right after.
    'ec2r_decode() { ec2r_v=$(printf %s "$1" | base64 -d; echo x); ec2r_v=${ec2r_v%x}; }',
    ...(session
      ? []
      : [
          'echo "ec2-runner: no python3 on this instance: running without live output (SSM\'s output may be ' +
            'truncated)" >&2',
        ]),
    'command -v base64 >/dev/null 2>&1 || ec2r_fail 125 "this instance has neither python3 nor base64: ' +
      'install python3"',
    'ec2r_tmp=$(mktemp -d "${TMPDIR:-/tmp}/ec2-runner-XXXXXX") || ec2r_fail 125 "could not create a ' +
      'temporary directory"',
    'trap \'rm -rf "$ec2r_tmp"\' EXIT',
    "trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM",
  ];
  if (spec.workingDirectory !== undefined) {
    lines.push(decodeInto(spec.workingDirectory, 'ec2r_cwd=$ec2r_v'));
    lines.push(
      '[ -d "$ec2r_cwd" ] || ec2r_fail 125 "working directory not found: $ec2r_cwd (create it on the ' +
        'instance or choose another)"',
    );
  } else {
    lines.push('ec2r_cwd=$ec2r_tmp');
  }
  if (spec.payload?.archive) {
    lines.push('ec2r_fail 125 "running a project folder needs python3 (3.6 or later) on the instance: install it"');
  }
  if (spec.payload) {
    lines.push(decodeInto(spec.payload.fileName, 'ec2r_file="$ec2r_tmp/$ec2r_v"'));
    lines.push(...downloadLines(spec), ...verifyLines(spec.payload.sha256));
  }
  lines.push(...argvLines(spec, interpreterWords));
  // Decode every value before the first export, so a user PATH cannot change which base64 runs.
  env.forEach(([, value], index) => lines.push(decodeInto(value, `ec2r_env${index}=$ec2r_v`)));
  lines.push('export PYTHONUNBUFFERED=1');
  env.forEach(([name], index) => lines.push(`export ${name}="$ec2r_env${index}"`));
  // Artifacts are only shipped by the Python wrapper; the folder exists so scripts behave the same.
  lines.push('export EC2_RUNNER_RESULT="$ec2r_tmp/result.json"', `export EC2_RUNNER_RUN_ID=${spec.runId}`);
  lines.push('export EC2_RUNNER_ARTIFACTS="$ec2r_tmp/artifacts"; mkdir "$EC2_RUNNER_ARTIFACTS"');
  // Looked up after the exports, with the script's PATH, as the Python wrapper does.
  // Stryker disable next-line ConditionalExpression: a shell command's "$1" is /bin/sh, which the check always finds
  if (spec.payload) lines.push(INTERPRETER_CHECK);
  lines.push('cd "$ec2r_cwd" || ec2r_fail 125 "cannot enter the working directory"');
  if (session) {
    lines.push(...session.runLines);
    return lines;
  }
  lines.push(
    '"$@" </dev/null',
    'ec2r_code=$?',
    // The agent would reboot the instance and run everything again on 194 (see the wrapper).
    `[ "$ec2r_code" -ne ${AGENT_REBOOT_EXIT_CODE} ] || { printf '%s\n' "${REBOOT_CODE_NOTE}" >&2; exit ` +
      `${REBOOT_EXIT_CODE_REPORTED_AS}; }`,
    'exit "$ec2r_code"',
  );
  return lines;
}
