// "Copy as AWS CLI Command": a run as the `aws` commands that reproduce it from a shell or CI: the
// staging upload (when the file is too large to travel in the command), SendCommand with the same
// command text (through --cli-input-json from a quoted heredoc, so no JSON is ever shell-quoted),
// then waiting for each instance and printing its output and exit code. There is no live channel
// (that needs short-lived presigned upload policies): SSM's own output, truncated at 24,000
// characters, is what the script prints; a staged file is fetched with the instance role.

/** Single-quotes a word for sh: nothing inside is expanded. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

const JSON_DELIMITER = 'EC2_RUNNER_SEND_COMMAND_JSON';
/** get-command-invocation failures in a row (2 s apart) before the script gives up and shows the error. */
const WAIT_ERRORS_TOLERATED = 15;

export interface AwsCliScriptInput {
  /** What the run is, for the first comment line, e.g. `train.py --epochs 3`. */
  label: string;
  region: string;
  endpointUrl?: string;
  profile?: string;
  /** The SendCommand request as the AWS CLI's --cli-input-json takes it (PascalCase members). */
  sendCommand: object;
  /** Instances to wait for and print (instance targets); none for tag targets. */
  instanceIds: string[];
  /** The local file to upload first, and where: when the file does not travel inline. */
  staging?: { localPath: string; s3Uri: string; region: string; kmsKeyId?: string };
}

export function awsCliScript(input: AwsCliScriptInput): string {
  const common = [
    ...(input.profile ? ['--profile', shellQuote(input.profile)] : []),
    ...(input.endpointUrl ? ['--endpoint-url', shellQuote(input.endpointUrl)] : []),
  ].join(' ');
  const aws = (region: string) => `aws ${common ? `${common} ` : ''}--region ${shellQuote(region)}`;
  const ssm = aws(input.region);
  const lines = [
    '#!/bin/sh',
    `# ${input.label.replace(/[\r\n]+/g, ' ')}, as EC2 Runner would run it, with the AWS CLI (made by "Copy ` +
      `as AWS CLI Command").`,
    "# No live output: each instance's output comes from SSM when it ends (SSM keeps the first 24,000 characters).",
    'set -e',
  ];
  if (input.staging) {
    const { localPath, s3Uri, region, kmsKeyId } = input.staging;
    const encryption = kmsKeyId ? ` --sse aws:kms --sse-kms-key-id ${shellQuote(kmsKeyId)}` : '';
    lines.push(
      '# Stage the file (the instance downloads it with its instance role: it needs s3:GetObject on it).',
      `${aws(region)} s3 cp --only-show-errors${encryption} ${shellQuote(localPath)} ${shellQuote(s3Uri)}`,
    );
  }
  lines.push(
    'ec2r_json=$(mktemp)',
    `cat >"$ec2r_json" <<'${JSON_DELIMITER}'`,
    JSON.stringify(input.sendCommand, null, 2),
    JSON_DELIMITER,
    `ec2r_command=$(${ssm} ssm send-command --cli-input-json "file://$ec2r_json" --query Command.CommandId ` +
      `--output text)`,
    'rm -f "$ec2r_json"',
    'echo "command $ec2r_command" >&2',
  );
  if (input.instanceIds.length === 0) {
    lines.push(`${ssm} ssm list-command-invocations --command-id "$ec2r_command" --details`);
    return `${lines.join('\n')}\n`;
  }
  lines.push(
    '# Waits until the invocation on instance $1 has ended (right after SendCommand it may not exist yet).',
    'ec2r_wait() {',
    '  ec2r_errors=0',
    '  while :; do',
    `    if ec2r_state=$(${ssm} ssm get-command-invocation --command-id "$ec2r_command" --instance-id "$1" ` +
      `--query Status --output text 2>&1); then`,
    '      case "$ec2r_state" in Pending|InProgress|Delayed|Cancelling) ;; *) return 0 ;; esac',
    '    else',
    '      ec2r_errors=$((ec2r_errors + 1))',
    `      [ "$ec2r_errors" -lt ${WAIT_ERRORS_TOLERATED} ] || { printf '%s\n' "$ec2r_state" >&2; return 1; }`,
    '    fi',
    '    sleep 2',
    '  done',
    '}',
    'ec2r_status=0',
  );
  for (const id of input.instanceIds) {
    const invocation = `${ssm} ssm get-command-invocation --command-id "$ec2r_command" --instance-id ${shellQuote(id)}`;
    if (input.instanceIds.length > 1) lines.push(`echo "== ${id}" >&2`);
    lines.push(
      `ec2r_wait ${shellQuote(id)}`,
      `${invocation} --query StandardOutputContent --output text`,
      `${invocation} --query StandardErrorContent --output text >&2`,
      `ec2r_code=$(${invocation} --query ResponseCode --output text)`,
      '[ "$ec2r_code" -eq 0 ] || ec2r_status=$ec2r_code',
    );
  }
  lines.push('exit "$ec2r_status"');
  return `${lines.join('\n')}\n`;
}
