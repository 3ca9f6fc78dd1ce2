// Usage texts, one per command.
import { EXIT_CODES_HELP } from './exitCodes';

const GLOBAL_OPTIONS = `Global options:
  --profile NAME        AWS profile (default: AWS_PROFILE or the default chain)
  --region REGION       AWS region (default: AWS_REGION or the profile's region)
  --endpoint-url URL    Custom endpoint for every service, e.g. the sandbox (default: AWS_ENDPOINT_URL)
  --bucket NAME         Staging bucket (default: EC2_RUNNER_BUCKET, else ec2-runner-<account>-<region>)
  --kms-key-id KEY      Encrypt staged files and live output with this SSE-KMS key (default:
                        EC2_RUNNER_KMS_KEY_ID, else the bucket's default encryption)
  -h, --help            Show help`;

const TARGET_OPTIONS = `  -i, --instance ID     Target instance (repeatable, up to 50)
  -t, --tag KEY=VALUE   Target every SSM managed instance with this tag (repeatable, up to 5)
  --cwd DIR             Remote working directory (default: a fresh temporary directory)
  -e, --env K=V         Environment variable for the script (repeatable)
  --timeout SECONDS     Execution timeout; the command is cancelled when exceeded (default 3600)
  --delivery-timeout S  How long SSM may wait for the instance to pick the command up (default 600)
  --max-concurrency N   SSM MaxConcurrency for several targets (number or percent)
  --max-errors N        SSM MaxErrors for several targets (number or percent)
  --no-wait             Print the command id and return at once (pick it up with status/attach)
  --json                Print one JSON document at the end instead of streaming
  --print-aws-cli       Run nothing: print a sh script of aws commands that does the same run (staging
                        with aws s3 cp when the file is too large to travel in the command, send-command,
                        then each instance's output and exit code; no live output)`;

export const MAIN_HELP =
  'ec2-runner — run a file or a shell command on EC2 instances through SSM Run Command, ' +
  `with live output.

Usage:
  ec2-runner instances [--json] [--online]
  ec2-runner run FILE [--instance ID]... [--tag K=V]... [--interpreter CMD] [--cwd DIR] [--env K=V]...
                      [--timeout S] [--no-wait] [--json] [--artifacts DIR] [-- ARGS...]
  ec2-runner run DIR --entry FILE [options] [--no-deps] [-- ARGS...]    (or: run DIR/FILE --project DIR)
  ec2-runner run - --language python [options]                        (the script from stdin)
  ec2-runner run FILE --interactive --instance ID [--cwd DIR] [--env K=V]... [-- ARGS...]
                                   (Session Manager: your input reaches the script, its exit status is ours)
  ec2-runner forward --instance ID --port REMOTE[:LOCAL]   (Session Manager port forwarding to 127.0.0.1)
  ec2-runner exec [--instance ID]... [--tag K=V]... [--timeout S] [--no-wait] [--json] -- COMMAND...
  ec2-runner status ID [--json]
  ec2-runner attach ID [--json]
  ec2-runner cancel ID
  ec2-runner bucket [create]
  ec2-runner sandbox [options]     Local SSM + S3 sandbox on 127.0.0.1 (see \`ec2-runner sandbox --help\`)
  ec2-runner demo                  Start a sandbox, run examples/hello.py on it, stop it
  ec2-runner --version

${GLOBAL_OPTIONS}

With one target the remote stdout/stderr stream to yours; with several, lines are prefixed with the
instance and a summary line follows. Script arguments go after \`--\`. Ctrl-C cancels the remote command.
${EXIT_CODES_HELP}
Try it locally: \`ec2-runner sandbox\` in one terminal, then follow what it prints.`;

export const COMMAND_HELP: Record<string, string> = {
  instances: `Usage: ec2-runner instances [--json] [--online]

Lists SSM managed instances (DescribeInstanceInformation) with their Name tags.
  --json     One JSON array
  --online   Only instances whose SSM agent is Online

${GLOBAL_OPTIONS}`,
  run: `Usage: ec2-runner run FILE [options] [-- ARGS...]

Stages FILE to S3 (content-addressed, encrypted), runs it on the targets with its interpreter and
ARGS passed byte for byte, and streams its output live. The script can write a structured result
(e.g. JSON) to the file named by $EC2_RUNNER_RESULT; --json reports it as "result".

Options:
${TARGET_OPTIONS}
  --interpreter CMD     Interpreter command (default: python3 for .py, bash for .sh, else the file's #! line;
                        a file with neither is refused)
  --instance-role       Let the instance fetch the file with its own role (aws s3 cp) instead of a presigned URL
  --entry FILE          Run a project: stage the folder DIR (honouring .gitignore; at most 10,000 files, 50 MB)
                        as one archive, unpack it on the instance and run FILE (relative to DIR) from there
  --project DIR         The same, naming the file first: run DIR/sub/main.py --project DIR
  --language LANG       With FILE "-": the script comes from stdin, as a LANG script (python, sh)
  --no-deps             Do not install the project's dependencies (default: its root requirements.txt, else
                        pyproject.toml's [project] dependencies, into a venv on the instance, cached by
                        their hash)
  --venv-root DIR       Where the instance keeps those venvs (default ~/.cache/ec2-runner/venvs, or
                        /var/tmp/ec2-runner/venvs when the agent has no HOME)
  --artifacts DIR       Save the files the script wrote to $EC2_RUNNER_ARTIFACTS (at most 8 MB) into a new
                        DIR/<commandId>/<instanceId>/ (never over existing files)
  --interactive         Run through Session Manager on a terminal (pty) of one --instance: this terminal's
                        input reaches the script, Ctrl-C interrupts it, the exit status is the script's.
                        Needs ssm:StartSession (AWS-StartInteractiveCommand) and agent 2.3.668.0+.

${GLOBAL_OPTIONS}

Examples:
  ec2-runner run train.py --instance i-0123456789abcdef0 --timeout 600 -- --epochs 3
  ec2-runner run ./project --entry train.py --instance i-0123456789abcdef0 --artifacts ./out
  echo 'print(42)' | ec2-runner run - --language python --instance i-0123456789abcdef0`,
  exec: `Usage: ec2-runner exec [options] -- COMMAND...

Runs one shell command line (sh -c; the words after -- are joined with spaces) on the targets,
with the same live output, exit codes and results as \`run\`.

Options:
${TARGET_OPTIONS}

${GLOBAL_OPTIONS}

Example:
  ec2-runner exec --tag Role=web -- 'df -h / && uptime'`,
  status: `Usage: ec2-runner status ID [--json]

Shows a run's invocations now (status, exit code; --json adds output and result), without waiting.

${GLOBAL_OPTIONS}`,
  attach: `Usage: ec2-runner attach ID [--json]

Follows a run started elsewhere (e.g. with --no-wait): replays its output from the start, continues
live, and exits with its exit code. Ctrl-C stops following without cancelling it.

${GLOBAL_OPTIONS}`,
  cancel: `Usage: ec2-runner cancel ID

Cancels a run (SSM CancelCommand) on every instance still running it.

${GLOBAL_OPTIONS}`,
  forward: `Usage: ec2-runner forward --instance ID --port REMOTE[:LOCAL]

Forwards 127.0.0.1:LOCAL (default: a free port, printed on stdout) to port REMOTE on the instance
through Session Manager (AWS-StartPortForwardingSession): a Jupyter server or TensorBoard on the
instance, opened in your browser. No inbound port, SSH key or plugin needed. Runs until Ctrl+C.
Needs ssm:StartSession on the instance and the document, ssm:TerminateSession; the instance's agent
2.3.672.0 or later (3.0.196.0 or later to carry several connections at once).

${GLOBAL_OPTIONS}`,
  bucket: `Usage: ec2-runner bucket [create]

Shows the staging bucket, its region and whether it exists; \`create\` creates it with public access
blocked, default encryption (AES256, or SSE-KMS with --kms-key-id) and expiry of staged objects after 7 days.

${GLOBAL_OPTIONS}`,
  demo: `Usage: ec2-runner demo

Starts a local sandbox (SSM + S3 on 127.0.0.1, commands run on this machine), runs
examples/hello.py on a sandbox instance with live output, prints its result and exit code, and
stops the sandbox. Needs python3 on this machine.`,
};
