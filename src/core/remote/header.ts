// The recognisable first line of every command, so `attach`/`status` can find a run's live output from
// ListCommands' Parameters alone. The line itself holds no secret (a run id and an s3:// location), but
// the body that follows it does: the presigned GET URL and the live-output POST policy, which let anyone
// who can read the command text (ssm:ListCommands, root on the instance) download the staged file and
// write under the run's output prefix until they expire (docs/SECURITY.md).

const HEADER_PATTERN = /^# ec2-runner run ([A-Za-z0-9_-]{1,64})(?: output (s3:\/\/[^\s?#]+))?$/;

export function isValidRunId(runId: string): boolean {
  return /^[A-Za-z0-9_-]{1,64}$/.test(runId);
}

/** An s3:// location safe to print in a comment: no whitespace, control characters or query string. */
export function isValidOutputLocation(location: string): boolean {
  return /^s3:\/\/[^\s?#]+$/.test(location) && !/[\u0000-\u001f\u007f]/.test(location);
}

export function formatRemoteHeader(runId: string, outputLocation?: string): string {
  return `# ec2-runner run ${runId}${outputLocation ? ` output ${outputLocation}` : ''}`;
}

/** First line of a renewal command (a fresh upload policy for a run already going): not a run of its own. */
export function formatRenewalHeader(runId: string): string {
  return `# ec2-runner renew ${runId}`;
}

export function parseRemoteHeader(commands: string[]): { runId: string; outputLocation?: string } | undefined {
  // SSM may hand back one element per line or the whole script in one element.
  const firstLine = (commands[0] ?? '').split('\n', 1)[0].replace(/\r$/, '');
  const match = HEADER_PATTERN.exec(firstLine);
  if (!match) return undefined;
  return match[2] ? { runId: match[1], outputLocation: match[2] } : { runId: match[1] };
}
