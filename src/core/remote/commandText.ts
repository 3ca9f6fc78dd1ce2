// Builds the AWS-RunShellScript `commands`: the recognisable header, a POSIX sh prelude that finds
// Python 3.6+ and runs the wrapper from a quoted heredoc, and the plain-sh fallback.
import { deflateSync } from 'node:zlib';
import { RunnerError } from '../api';
import { isRequirementArgument } from '../dependencies';
import { isInstanceId } from './chunkKeys';
import { fallbackScriptLines } from './fallbackScript';
import { formatRemoteHeader, formatRenewalHeader, isValidOutputLocation, isValidRunId } from './header';
import { splitShellWords } from './shellWords';
import type { LiveOutputTarget, RemotePayload, RemoteRunSpec } from './types';
import { wrapperProgram } from './wrapperProgram';

/**
 * Upper bound for the whole command text. AWS documents 64 KB for a document (MaxDocumentSizeExceeded:
 * "The size limit of a document is 64 KB") and no figure for SendCommand's Parameters; ~97 KB of
 * Parameters JSON is the commonly observed refusal point, which the sandbox enforces. Half of the 64 KB
 * leaves room for SSM's JSON escaping of the text. An inline file (fetch kind 'inline') must fit in
 * what the wrapper leaves of it: about 20 KB of gzip+base64, i.e. some 15 KB of gzip.
 */
export const COMMAND_TEXT_BUDGET_BYTES = 32 * 1024;

/** Heredoc delimiter; cannot occur in the embedded text, which is fixed Python plus base64. */
const HEREDOC_DELIMITER = 'EC2RUNNER_EOF';

/** Interpreters tried in order; platform-python is RHEL/CentOS 8's system Python 3.6. */
const PYTHON_CANDIDATES = ['python3', '/usr/libexec/platform-python', 'python'];

function invalid(what: string, fix: string): never {
  throw new RunnerError(`Cannot build the remote command: ${what}; ${fix}.`, 'InvalidRunSpec');
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Text that must reach the instance exactly: valid Unicode, no NUL (argv and env cannot hold NUL). */
function checkText(value: string, what: string): void {
  if (value.includes('\0'))
    invalid(`${what} contains a NUL character`, 'remove it (the OS cannot pass NUL in arguments or environment)');
  if (LONE_SURROGATE.test(value)) invalid(`${what} is not valid Unicode (lone surrogate)`, 'fix its encoding');
}

/** A relative POSIX path that stays inside the directory it is relative to. */
function checkRelativePath(path: string, what: string): void {
  checkText(path, what);
  // An empty path, a leading / and a doubled / each leave an empty part.
  if (path.split('/').some((part) => part === '..' || part === '')) {
    invalid(
      `${what} ${JSON.stringify(path)} is not a relative path inside the project`,
      'give it relative to the project root, e.g. main.py',
    );
  }
}

function checkArchive(archive: NonNullable<RemotePayload['archive']>): void {
  checkRelativePath(archive.entry, 'the entry file');
  if (archive.requirementsFile !== undefined) checkRelativePath(archive.requirementsFile, 'the requirements file');
  if (archive.pyprojectDependencies !== undefined) {
    if (archive.requirementsFile !== undefined)
      invalid('give a requirements file or pyproject dependencies, not both', 'pass one');
    archive.pyprojectDependencies.forEach((requirement, index) => {
      checkText(requirement, `dependency ${index + 1}`);
      if (!isRequirementArgument(requirement)) {
        invalid(
          `dependency ${index + 1} ${JSON.stringify(requirement)} is not a requirement`,
          'give a PEP 508 requirement such as requests>=2.31',
        );
      }
    });
  }
  if (archive.venvRoot !== undefined) {
    checkText(archive.venvRoot, 'the environments folder');
    if (!archive.venvRoot.startsWith('/'))
      invalid(
        `the environments folder ${JSON.stringify(archive.venvRoot)} is not an absolute path`,
        'give an absolute path on the instance',
      );
  }
}

function validate(spec: RemoteRunSpec): string[] {
  if (spec.instanceId !== undefined && !isInstanceId(spec.instanceId))
    invalid(
      `instance id ${JSON.stringify(spec.instanceId)} is not an SSM instance id`,
      'pass e.g. i-0123456789abcdef0',
    );
  if (!isValidRunId(spec.runId))
    invalid(`run id ${JSON.stringify(spec.runId)} is not 1-64 letters, digits, - or _`, 'use a random hex id');
  if (spec.outputLocation !== undefined && !isValidOutputLocation(spec.outputLocation)) {
    invalid(
      `output location ${JSON.stringify(spec.outputLocation)} is not an s3:// URI without spaces or query`,
      'pass s3://bucket/prefix',
    );
  }
  if ((spec.payload === undefined) === (spec.shellCommand === undefined))
    invalid('give exactly one of payload and shellCommand', 'set one');
  if (spec.shellCommand !== undefined) {
    checkText(spec.shellCommand, 'the shell command');
    if (!spec.shellCommand.trim()) invalid('the shell command is empty', 'give a command');
  }
  if (spec.workingDirectory !== undefined) {
    checkText(spec.workingDirectory, 'the working directory');
    if (!spec.workingDirectory) invalid('the working directory is empty', 'omit it to use a temporary directory');
  }
  for (const [name, value] of Object.entries(spec.env ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      invalid(`environment variable name ${JSON.stringify(name)} is not letters, digits and _`, 'rename it');
    if (name.startsWith('ec2r_'))
      invalid(`environment variable name ${name} uses the reserved prefix ec2r_`, 'rename it');
    checkText(value, `environment variable ${name}`);
  }
  if (spec.output) {
    if (!/^https?:\/\//.test(spec.output.url))
      invalid('the live-output URL is not http(s)', 'pass the url from createPresignedPost');
    if (!spec.output.keyPrefix.endsWith('/'))
      invalid(`live-output key prefix ${JSON.stringify(spec.output.keyPrefix)} does not end with /`, 'add the /');
  }
  if (spec.uploadGapSeconds !== undefined && !(spec.uploadGapSeconds > 0 && spec.uploadGapSeconds <= 60)) {
    invalid(`upload gap ${spec.uploadGapSeconds} is not a number of seconds from 0 to 60`, 'pass e.g. 1.25');
  }
  // Stryker disable next-line ArrayDeclaration: a shell command has no interpreter words, and nothing reads them
  if (!spec.payload) return [];
  const { fileName, sha256, interpreter, args, fetch } = spec.payload;
  checkText(fileName, 'the file name');
  if (!fileName || fileName === '.' || fileName === '..' || fileName.includes('/')) {
    invalid(`file name ${JSON.stringify(fileName)} is not a plain file name`, 'pass the base name without directories');
  }
  if (!/^[0-9a-f]{64}$/.test(sha256))
    invalid('sha256 is not 64 lowercase hex digits', 'pass the hex digest of the staged bytes');
  args.forEach((arg, index) => checkText(arg, `argument ${index + 1}`));
  if (fetch.kind === 'inline') {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(fetch.gzipBase64))
      invalid('the inline file is not base64', 'pass the base64 of its gzip');
  } else if (fetch.kind === 'presigned') {
    // curl reads the URL from a double-quoted config line in the fallback path.
    if (!/^https?:\/\/[^\s"\\]+$/.test(fetch.url))
      invalid(
        'the presigned download URL is not an http(s) URL without spaces, quotes or backslashes',
        'pass the URL from getSignedUrl',
      );
  } else {
    checkText(fetch.s3Uri, 'the staged object URI');
    if (!/^s3:\/\/[a-z0-9.-]+\/./.test(fetch.s3Uri))
      invalid(`staged object ${JSON.stringify(fetch.s3Uri)} is not an s3:// URI`, 'pass s3://bucket/key');
    if (!/^[a-z0-9-]+$/.test(fetch.region))
      invalid(`region ${JSON.stringify(fetch.region)} is not a region name`, 'pass e.g. us-east-1');
  }
  if (spec.payload.archive) checkArchive(spec.payload.archive);
  checkText(interpreter, 'the interpreter');
  let words: string[];
  try {
    words = splitShellWords(interpreter);
  } catch (error) {
    invalid(
      `interpreter ${JSON.stringify(interpreter)} cannot be split into words (${(error as Error).message})`,
      'fix its quoting',
    );
  }
  if (words.length === 0) invalid('the interpreter is empty', 'give e.g. python3');
  return words;
}

/** The JSON the Python wrapper reads (field names are the wrapper's, see wrapper/main.py). */
function wrapperSpec(spec: RemoteRunSpec, interpreterWords: string[]): unknown {
  const payload = spec.payload;
  return {
    v: 1,
    runId: spec.runId,
    mode: payload ? 'file' : 'shell',
    ...(payload
      ? {
          // Inline bytes travel once, in the shell variable both paths read (inlineFileLines), not in the spec.
          file: {
            name: payload.fileName,
            sha256: payload.sha256,
            fetch: payload.fetch.kind === 'inline' ? { kind: 'inline' } : payload.fetch,
          },
          archive: payload.archive
            ? {
                entry: payload.archive.entry,
                requirements: payload.archive.requirementsFile ?? null,
                dependencies: payload.archive.pyprojectDependencies ?? null,
                venvRoot: payload.archive.venvRoot ?? null,
              }
            : null,
          interpreter: interpreterWords,
          args: payload.args,
        }
      : { shell: spec.shellCommand }),
    cwd: spec.workingDirectory ?? null,
    instanceId: spec.instanceId ?? null,
    env: Object.entries(spec.env ?? {}),
    output: spec.output ? outputSpec(spec.output) : null,
    uploadGap: spec.uploadGapSeconds ?? null,
  };
}

/** Fields as ordered pairs: S3 reads the form in order and the file must come last. */
function outputSpec(output: LiveOutputTarget): unknown {
  return { url: output.url, fields: Object.entries(output.fields), keyPrefix: output.keyPrefix };
}

/** Characters per line of the packed wrapper (readable in the SSM console, far below any line limit). */
const PACKED_LINE_CHARS = 120;

/**
 * The wrapper as a two-line Python bootstrap that inflates and runs it. Why packed: the readable program
 * (remote/wrapper/*.py joined, comment lines blanked by the build) is ~40 KB and would leave little of the budget for
 * arguments, env and shell commands; deflated + base64 it is ~9 KB. base64 needs no quoting in the heredoc.
 */
function packedWrapperLines(specBase64: string): string[] {
  const packed = deflateSync(wrapperProgram(specBase64), { level: 9 }).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < packed.length; i += PACKED_LINE_CHARS) lines.push(`"${packed.slice(i, i + PACKED_LINE_CHARS)}"`);
  return [
    'import base64, zlib',
    'exec(compile(zlib.decompress(base64.b64decode(',
    ...lines,
    ')), "ec2-runner-wrapper", "exec"))',
  ];
}

/**
 * An inline file's gzip+base64 as the shell variable ec2r_inline: one single-quoted word over several
 * lines (base64 needs no quoting; both decoders skip the newlines). The Python wrapper gets it in its
 * environment, the sh fallback decodes it with base64 -d | gzip -dc.
 */
function inlineFileLines(spec: RemoteRunSpec): string[] {
  const fetch = spec.payload?.fetch;
  if (fetch?.kind !== 'inline') return [];
  const lines: string[] = [];
  for (let i = 0; i < fetch.gzipBase64.length; i += PACKED_LINE_CHARS)
    lines.push(fetch.gzipBase64.slice(i, i + PACKED_LINE_CHARS));
  lines[0] = `ec2r_inline='${lines[0]}`;
  lines[lines.length - 1] += "'";
  return lines;
}

/**
 * The sh lines that find Python 3.6+ and run the packed wrapper with this spec (then `fi`-less: the caller
 * closes the if). `inline` is the file sent with the command, if any (inlineFileLines).
 */
function pythonWrapperLines(wrapperSpecJson: unknown, inline: string[] = []): string[] {
  const specBase64 = Buffer.from(JSON.stringify(wrapperSpecJson)).toString('base64');
  return [
    'unset CDPATH; ec2r_py=',
    ...inline,
    `for ec2r_candidate in ${PYTHON_CANDIDATES.join(' ')}; do`,
    '  if "$ec2r_candidate" -S -c "import sys; sys.exit(sys.version_info < (3, 6))" >/dev/null 2>&1; then ' +
      'ec2r_py=$ec2r_candidate; break; fi',
    'done',
    'if [ -n "$ec2r_py" ]; then',
    // $0 is the agent's _script.sh, whose path names the instance (for agents without AWS_SSM_INSTANCE_ID).
    // -S: the wrapper needs only the standard library; site's .pth and sitecustomize work would slow each start.
    // exec: the wrapper takes the shell's place, so the agent sees the run end the moment the wrapper exits
    // (not after a shell that waited for it wakes up: hundreds of them at once in a fleet).
    `ec2r_script=$0 ${inline.length ? 'ec2r_inline=$ec2r_inline ' : ''}exec "$ec2r_py" -S - <<'${HEREDOC_DELIMITER}'`,
    ...packedWrapperLines(specBase64),
    HEREDOC_DELIMITER,
    // Stryker disable next-line StringLiteral: unreachable after exec (a non-interactive sh exits when exec fails)
    'exit $?',
    'fi',
  ];
}

/**
 * The `commands` of a renewal: the same wrapper in mode "renew" with a fresh upload policy for one
 * instance. It hands the policy to the run's wrapper still going there, or uploads what the ended
 * wrapper kept in its spool. Without Python there is no live channel to renew: nothing to do.
 */
export function buildRenewalCommands(
  runId: string,
  output: LiveOutputTarget,
  downloadUrl?: string,
  instanceId?: string,
): string[] {
  if (!isValidRunId(runId))
    invalid(`run id ${JSON.stringify(runId)} is not 1-64 letters, digits, - or _`, 'use a random hex id');
  if (!/^https?:\/\//.test(output.url))
    invalid('the live-output URL is not http(s)', 'pass the url from createPresignedPost');
  // A fresh presigned GET for a run not started yet: its own may expire before a late delivery.
  // The instance it is sent to names the spool when the agent does not say (see the wrapper's own_instance_id).
  const spec = {
    v: 1,
    runId,
    mode: 'renew',
    output: outputSpec(output),
    download: downloadUrl ?? null,
    instanceId: instanceId && isInstanceId(instanceId) ? instanceId : null,
  };
  return [formatRenewalHeader(runId), ...pythonWrapperLines(spec), 'exit 0'];
}

/** AWS-RunShellScript `commands` parameter. */
export function buildRemoteCommands(spec: RemoteRunSpec): string[] {
  const interpreterWords = validate(spec);
  const lines = [
    formatRemoteHeader(spec.runId, spec.outputLocation),
    ...pythonWrapperLines(wrapperSpec(spec, interpreterWords), inlineFileLines(spec)),
    ...fallbackScriptLines(spec, interpreterWords),
  ];
  const bytes = Buffer.byteLength(lines.join('\n'));
  if (bytes > COMMAND_TEXT_BUDGET_BYTES) {
    throw new RunnerError(
      `The command for the instance would be ${bytes} bytes, over the ${COMMAND_TEXT_BUDGET_BYTES}-byte ` +
        `budget (SSM limits commands to 64 KB): ` +
        'pass fewer or shorter arguments, environment variables or shell command, or put large inputs in a file.',
      'CommandTooLarge',
    );
  }
  return lines;
}
