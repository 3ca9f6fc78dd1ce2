// Data the client gives to build the command an instance runs. Plain data, no AWS SDK types.

/** The staged file and how to run it. */
export interface RemotePayload {
  /** Remote file name (no directories), e.g. `train.py`. */
  fileName: string;
  /** Lowercase hex sha256 of the staged bytes; the instance refuses to run anything else. */
  sha256: string;
  /** Interpreter command line, split like Python's shlex.split, e.g. "python3", "/opt/venv/bin/python -u". */
  interpreter: string;
  /** Passed to the script byte for byte (any Unicode text except NUL). */
  args: string[];
  /**
   * How the instance gets the file: a presigned GET, `aws s3 cp` with the instance role, or inline: the
   * gzip of the file, base64, carried in the command text itself (no S3 needed on the instance).
   */
  fetch:
    | { kind: 'presigned'; url: string }
    | { kind: 'instance-role'; s3Uri: string; region: string }
    | { kind: 'inline'; gzipBase64: string };
  /**
   * The staged file is a .tar.gz of a project: the instance unpacks it (refusing absolute paths, `..`
   * and links) into a per-run directory, which is the default working directory, and runs `entry`.
   */
  archive?: {
    /** POSIX path of the file to run, relative to the project root. */
    entry: string;
    /** Install this requirements file (relative to the root) into a cached virtual environment first. */
    requirementsFile?: string;
    /**
     * Or install these PEP 508 requirements (a pyproject.toml's `[project] dependencies`, read on the
     * client) the same way; each reaches pip as one argument. Not together with requirementsFile.
     */
    pyprojectDependencies?: string[];
    /** Where the environments live on the instance; default under $HOME/.cache, or /var/tmp without HOME. */
    venvRoot?: string;
  };
}

/** Where the instance uploads live output: a presigned POST (createPresignedPost) covering one key prefix. */
export interface LiveOutputTarget {
  url: string;
  /** Form fields from createPresignedPost, sent in this order before the file. */
  fields: Record<string, string>;
  /** Ends with '/', e.g. "ec2-runner/runs/<runId>/"; the wrapper appends "<instanceId>/<seq 8 digits>". */
  keyPrefix: string;
}

export interface RemoteRunSpec {
  runId: string;
  /** The staged file; absent for a shell command. */
  payload?: RemotePayload;
  /** Run with `sh -c` instead of a staged file. */
  shellCommand?: string;
  /** Must exist on the instance; default a fresh temporary directory. */
  workingDirectory?: string;
  env?: Record<string, string>;
  output?: LiveOutputTarget;
  /** s3://bucket/prefix shown in the recognisable first line (never a presigned URL). */
  outputLocation?: string;
  /**
   * The one target instance, when the command goes to a single instance id: the wrapper's last resort for
   * naming its live-output keys when the agent sets no AWS_SSM_INSTANCE_ID (older agents).
   */
  instanceId?: string;
  /** Least seconds between two live-output uploads of continuous output (see cadence.ts); default 0.2. */
  uploadGapSeconds?: number;
}
