// The engine's public contract: what the CLI, the VS Code extension and a Lambda handler use.
// Everything here is plain data or narrow interfaces; nothing depends on `vscode`.

/** Where and as whom to talk to AWS. Unset fields fall back to the standard AWS environment and shared config. */
export interface AwsSettings {
  profile?: string;
  region?: string;
  /** A custom endpoint for every service (e.g. the sandbox). S3 then uses path-style addressing. */
  endpointUrl?: string;
  /** Explicit credentials (tests, the sandbox's info file); otherwise the SDK's default chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export type PingStatus = 'Online' | 'ConnectionLost' | 'Inactive';

/** An SSM-managed instance as the instances view and `ec2-runner instances` show it. */
export interface ManagedInstance {
  instanceId: string;
  /** The EC2 Name tag (or the managed node's name); undefined when it has none. */
  name?: string;
  pingStatus: PingStatus | string;
  platformType?: string;
  platformName?: string;
  platformVersion?: string;
  ipAddress?: string;
  computerName?: string;
  agentVersion?: string;
  lastPingDateTime?: Date;
  tags?: Record<string, string>;
}

export type RunTarget =
  { kind: 'instances'; instanceIds: string[] } | { kind: 'tags'; tags: Array<{ key: string; value: string }> };

/** What runs: one shell command line, or a local file staged to S3 (content given, so unsaved buffers work). */
export type RunSource =
  | { kind: 'command'; command: string }
  | {
      kind: 'file';
      /** Display and remote file name, e.g. `train.py` (no directories). */
      fileName: string;
      content: Uint8Array;
      /**
       * Interpreter command; default by extension (python3 for .py, bash for .sh/.bash), else the `#!` line; other
       * files are refused.
       */
      interpreter?: string;
      /** Passed to the script byte for byte. */
      args?: string[];
    }
  | {
      /** Editor text run as a script of its language; staged as a file named e.g. `selection.py`. */
      kind: 'selection';
      text: string;
      /** A VS Code language id or a file extension: python / py, shellscript / sh / bash. */
      language: string;
      interpreter?: string;
      args?: string[];
    }
  | {
      /**
       * A local folder staged as one content-addressed archive (honouring .gitignore, see PROJECT_LIMITS),
       * unpacked on the instance into a per-run directory that is the working directory; `entry` runs from there.
       */
      kind: 'project';
      /** Local directory. */
      root: string;
      /** The file to run, relative to root, e.g. `main.py` or `scripts/train.py`. */
      entry: string;
      interpreter?: string;
      args?: string[];
    };

/**
 * How the instance fetches staged files: a short-lived presigned GET (default) or the instance role via `aws s3 cp`.
 */
export type TransferMode = 'presigned' | 'instance-role';

export interface RunRequest {
  source: RunSource;
  target: RunTarget;
  /** Remote working directory; default a fresh temporary directory removed after the run. */
  workingDirectory?: string;
  /** Extra environment variables for the script. */
  env?: Record<string, string>;
  /** Execution timeout on the instance; the client cancels the command if it is exceeded. Default 3600. */
  timeoutSeconds?: number;
  /** Delivery timeout (SendCommand TimeoutSeconds, >= 30). */
  deliveryTimeoutSeconds?: number;
  transferMode?: TransferMode;
  maxConcurrency?: string;
  maxErrors?: string;
  /**
   * Nobody will follow the live output (e.g. `--no-wait`): the instance uploads continuous output in
   * rarer, bigger objects (every 15 s instead of 1.25 s), which cuts S3 request fees; a later attach
   * sees it with that delay. The result and SSM's output are unaffected.
   */
  unwatched?: boolean;
  /** Shown in the SSM console; the engine prefixes it so runs can be recognised. */
  comment?: string;
  /**
   * Projects: install the root requirements.txt, else pyproject.toml's `[project] dependencies` (read
   * on the client), into a virtual environment on the instance cached by their hash and the
   * interpreter's identity, and run with it. Default true.
   */
  installDependencies?: boolean;
  /**
   * Where instances keep those environments; default `$HOME/.cache/ec2-runner/venvs` (`/var/tmp/ec2-runner/venvs`
   * without HOME).
   */
  venvRoot?: string;
}

/** A file the script left in $EC2_RUNNER_ARTIFACTS, shipped back after the run. */
export interface ArtifactFile {
  /** POSIX path relative to the artifacts directory. */
  path: string;
  size: number;
}

/** Terminal and intermediate statuses as SSM reports them. */
export type InvocationStatus =
  | 'Pending'
  | 'InProgress'
  | 'Delayed'
  | 'Success'
  | 'Cancelled'
  | 'TimedOut'
  | 'Failed'
  | 'Cancelling'
  | 'Undeliverable'
  | 'Terminated';

export type OutputStream = 'stdout' | 'stderr';

/** A piece of remote output, as soon as it reaches the client. */
export interface OutputChunk {
  instanceId: string;
  stream: OutputStream;
  data: Uint8Array;
}

export interface InvocationResult {
  instanceId: string;
  status: InvocationStatus | string;
  statusDetails: string;
  /** The script's exit code; null when it never ran or was killed before reporting one. */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /**
   * The structured result the script wrote to $EC2_RUNNER_RESULT (or its last stdout line, when JSON); null when none.
   */
  result: unknown;
  /** Where the output came from: the live channel (complete) or SSM's own (possibly truncated). */
  outputSource: 'live' | 'ssm';
  /** A human-readable reason for any non-success, or a note such as "SSM output may be truncated". */
  reason?: string;
  startedAt?: Date;
  endedAt?: Date;
  /** Files the script wrote to $EC2_RUNNER_ARTIFACTS (empty when none; download with RunHandle.downloadArtifacts). */
  artifacts?: ArtifactFile[];
  /**
   * Output larger than the client keeps in memory (OUTPUT_MEMORY_BYTES per stream) is saved whole to this local
   * file; `stdout`/`stderr` then hold its first and last parts around a line naming the file. Unset for smaller
   * output, whose text is complete.
   */
  stdoutFile?: string;
  stderrFile?: string;
}

export interface RunResult {
  commandId: string;
  invocations: InvocationResult[];
}

/** Minimal event subscription, like vscode.Event but without the dependency. */
export type Listener<T> = (value: T) => void;
export interface Subscription {
  dispose(): void;
}

export interface RunStatusUpdate {
  instanceId: string;
  status: InvocationStatus | string;
  statusDetails?: string;
}

/** A started run: live output, status changes, completion, cancellation. */
export interface RunHandle {
  readonly commandId: string;
  /** Instances the command went to (known up front for instance targets, discovered for tag targets). */
  readonly instanceIds: readonly string[];
  /** Where the complete live output lives (`s3://bucket/<prefix>runs/<runId>/`); undefined without a live channel. */
  readonly outputLocation?: string;
  /** Said once when the run starts, e.g. credentials that expire before its timeout and cannot be renewed. */
  readonly warnings?: readonly string[];
  onOutput(listener: Listener<OutputChunk>): Subscription;
  onStatus(listener: Listener<RunStatusUpdate>): Subscription;
  /** Resolves when every invocation has reached a terminal status. Never rejects for a remote failure. */
  wait(): Promise<RunResult>;
  /** Sends CancelCommand; wait() then resolves with Cancelled. */
  cancel(): Promise<void>;
  /** Stops following the run locally without cancelling it (fire and forget, window closing). */
  detach(): void;
  /**
   * Writes the artifacts of a finished run into a fresh folder `dir/<commandId>/<instanceId>/` (`dir`
   * is created if needed; the run's folder must not exist yet, and no file is ever overwritten or
   * reached through a link). Returns the local paths written. Present on every handle the
   * engine returns (optional only so hand-made handles in tests stay valid).
   */
  downloadArtifacts?(dir: string, options?: { instanceId?: string }): Promise<string[]>;
}

/** An error with one actionable line for the user (what failed, why, what to do). */
/** What a RunnerError carries for a front end to word its own advice: names, ids, which fix applies. */
export type RunnerErrorData = Readonly<Record<string, string | number | boolean | undefined>>;

/**
 * A failure the engine explains. `message` is `problem` and `advice` joined: what failed and why, then
 * what to do in words that name no front end (no CLI flag, command or editor setting). The CLI and the
 * extension word their own advice from `code` and `data` (src/cli/advice.ts, src/extension/advice.ts).
 */
export class RunnerError extends Error {
  /** What failed and why. */
  readonly problem: string;
  /** What to do, for any front end; undefined when the problem says it all. */
  readonly advice?: string;
  /**
   * The facts behind the message (bucket, region, profile, …) and, as `fix`, which advice applies when a code has
   * several.
   */
  readonly data: RunnerErrorData;

  constructor(
    problem: string,
    /** A stable machine-readable code, e.g. NoCredentials, AccessDenied, InstanceOffline. */
    readonly code: string,
    options?: { cause?: unknown; advice?: string; data?: RunnerErrorData },
  ) {
    super(joinAdvice(problem, options?.advice), options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RunnerError';
    this.problem = problem;
    this.advice = options?.advice;
    this.data = options?.data ?? {};
  }
}

/** "problem: advice", or "problem. Advice" when the problem is a whole sentence. */
export function joinAdvice(problem: string, advice: string | undefined): string {
  if (!advice) return problem;
  return /[.!?]$/.test(problem) ? `${problem} ${advice}` : `${problem}: ${advice}`;
}

/** Engine settings: where to talk to AWS plus where to stage files. */
export interface EngineSettings extends AwsSettings {
  /** Staging bucket; default EC2_RUNNER_BUCKET, else `ec2-runner-<account>-<region>`. */
  bucket?: string;
  /** Prefix for staged files and live output, default `ec2-runner/`. */
  keyPrefix?: string;
  /**
   * SSE-KMS key (id, ARN or alias) for staged files and live output; default EC2_RUNNER_KMS_KEY_ID, else
   * none named, so the bucket's default encryption applies. Needed when a bucket policy requires SSE-KMS.
   */
  kmsKeyId?: string;
  /**
   * Local folder where a run's output beyond what the client keeps in memory is saved whole (one folder per
   * run, removed after OUTPUT_KEEP_DAYS); default `<OS temp folder>/ec2-runner-output`.
   */
  outputDir?: string;
  /** Bytes of output kept in memory per instance and stream; default OUTPUT_MEMORY_BYTES (tests use less). */
  outputMemoryBytes?: number;
}

export interface CallerIdentity {
  account: string;
  arn: string;
  region: string;
}

export interface BucketStatus {
  bucket: string;
  exists: boolean;
  /** True when the name is the engine's default (the user may be offered to create it). */
  isDefault: boolean;
  /** The bucket's region when it exists (S3 tells it even when it is not SSM's region). */
  region?: string;
}

/** The engine as the CLI, the extension and a Lambda use it (created by `createEngine`). */
export interface Engine {
  identity(): Promise<CallerIdentity>;
  listInstances(options?: { pingStatus?: string[]; instanceIds?: string[] }): Promise<ManagedInstance[]>;
  bucketStatus(): Promise<BucketStatus>;
  /** Creates the staging bucket with public access blocked, default encryption and expiry of staged objects. */
  createBucket(): Promise<void>;
  /** Stages what is needed, sends the command, starts following it. */
  start(request: RunRequest): Promise<RunHandle>;
  /** Follows a run started elsewhere (another process, a reload) by command id, live output included. */
  attach(commandId: string): Promise<RunHandle>;
  /** A snapshot of a run's invocations (no waiting). */
  status(commandId: string): Promise<RunResult>;
  cancel(commandId: string): Promise<void>;
  /** Session Manager: a local port on 127.0.0.1 that reaches a port on the instance. */
  forwardPort(request: PortForwardRequest): Promise<PortForwardHandle>;
  /** Session Manager: stages a file and runs it on a pty on the instance, input from the caller. */
  startInteractiveRun(request: InteractiveRunRequest): Promise<InteractiveRunHandle>;
  /** A Python file or project run under debugpy on one instance, its debug port forwarded here once it listens. */
  startDebugRun(request: DebugRunRequest): Promise<DebugRunHandle>;
  /**
   * A shell script of `aws` commands that reproduces the run (staging when the file is too large to
   * travel in the command, SendCommand, then each instance's output and exit code). Sends nothing.
   * `localPath`: the file on disk (needed when it is staged).
   */
  awsCliCommands(request: RunRequest, options?: { localPath?: string; label?: string }): Promise<string>;
  dispose(): void;
}

export interface PortForwardRequest {
  instanceId: string;
  remotePort: number;
  /** Default (0): any free port. */
  localPort?: number;
  /** Problems worth telling the user while the forward runs (nothing listening remotely, a dropped connection). */
  onNotice?(text: string): void;
}

export interface PortForwardHandle {
  sessionId: string;
  localPort: number;
  /** smux: many connections at once; basic: one at a time (agents 3.0.196.0 and older). */
  mode: 'smux' | 'basic';
  /** Resolves with the service's reason once the session is over. */
  closed: Promise<string | undefined>;
  close(): Promise<void>;
}

export interface InteractiveRunRequest {
  /** A file, selection or single-file source (projects need the Python wrapper and Run Command). */
  source: RunSource;
  instanceId: string;
  workingDirectory?: string;
  env?: Record<string, string>;
  /** The caller's input is not a terminal: the instance's pty does not echo it back. */
  noEcho?: boolean;
  /** The caller's output is not a terminal: the pty's "\r\n" line endings become "\n". */
  rawNewlines?: boolean;
  /** The script's output (stdout and stderr merged, as a terminal shows them). */
  onOutput(bytes: Buffer): void;
  onNotice?(text: string): void;
}

export interface InteractiveRunHandle {
  sessionId: string;
  /** Keystrokes or piped input; Ctrl-C is byte 0x03, end of input (Ctrl-D) 0x04. */
  write(bytes: Buffer): void;
  resize(cols: number, rows: number): void;
  /** exitCode is undefined when the session ended before the script reported it. */
  done: Promise<{ exitCode?: number; reason?: string }>;
  terminate(): Promise<void>;
}

/** A run under debugpy (src/core/debug): a RunRequest for one instance and a Python file or project. */
export interface DebugRunRequest extends RunRequest {
  /**
   * Where the client finds debugpy to stage for instances without their own: `path` (the package
   * folder or one containing it) is used or refused; else `candidates` in order, else local Pythons.
   */
  debugpy?: { path?: string; candidates?: string[] };
  /** debugpy's port on the instance (127.0.0.1 there); default a random one from DEBUG_REMOTE_PORT_RANGE. */
  remotePort?: number;
  /** The forwarded port here; default any free one. */
  localPort?: number;
  /** How long to wait for debugpy to listen; default DEBUG_READY_TIMEOUT_SECONDS. */
  readyTimeoutSeconds?: number;
  onNotice?(text: string): void;
}

/** Where a DAP client attaches: 127.0.0.1:localPort, with pathMappings from its local root to remoteRoot. */
export interface DebugEndpoint {
  localPort: number;
  remotePort: number;
  /** The file's folder (a project's root) on the instance. */
  remoteRoot: string;
  /** The Session Manager session carrying the port. */
  sessionId: string;
}

export interface DebugRunHandle {
  /** The run itself: output, exit code, cancel, as for any run. */
  run: RunHandle;
  /**
   * Resolves once debugpy listens and the port is forwarded; rejects when the run ends first or
   * debugpy is not ready in time (the run is then cancelled).
   */
  ready: Promise<DebugEndpoint>;
  /** Stops forwarding; the run goes on until it ends or is cancelled. */
  close(): Promise<void>;
}
