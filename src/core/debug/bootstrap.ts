// The instance side of a debug run: a short Python program given as the run's interpreter
// (`python3 -c '<program>'`), so the staged file arrives, is checked and is started exactly as in a
// normal run (same wrapper, live output, exit code). The program uses the instance's own debugpy when
// it has one, else the staged copy (fetched once per content into a cache, checked by sha256,
// unpacked refusing links and paths outside), listens on 127.0.0.1:PORT, prints one ready line with
// this run's token and the remote root (the client's pathMappings need it), waits for the debugger,
// then runs the file as `python FILE ARGS` would.
import { deflateSync } from 'node:zlib';
import type { RemotePayload } from '../remote/types';

export interface BootstrapConfig {
  /** Random per run: only a ready line carrying it counts. */
  token: string;
  port: number;
  /** Directories between the project root and the file (0 for a single file). */
  depth: number;
  /** The staged debugpy archive, for instances without their own; null when the client had no copy. */
  debugpy: { sha256: string; fetch: Exclude<RemotePayload['fetch'], { kind: 'inline' }> } | null;
}

const PROGRAM = String.raw`
import hashlib, io, json, os, runpy, shutil, subprocess, sys, tarfile, tempfile
C = json.loads(CONFIG)
def say(text):
    sys.stderr.write("[ec2-runner] %s\n" % text)
    sys.stderr.flush()
def fail(text):
    say("debug: " + text)
    sys.exit(70)
def fetch():
    f = C["debugpy"]["fetch"]
    if f["kind"] == "presigned":
        import urllib.request
        with urllib.request.urlopen(f["url"], timeout=120) as answer:
            return answer.read()
    return subprocess.check_output(["aws", "s3", "cp", "--only-show-errors", "--region", f["region"], f["s3Uri"], "-"])
def staged():
    if not C["debugpy"]:
        fail("debugpy is not installed on this instance and the client had no copy to stage: install debugpy on "
             "the instance (pip install debugpy) or where VS Code / ec2-runner runs (pip install debugpy, apt "
             "install python3-debugpy, or the Python Debugger extension)")
    sha = C["debugpy"]["sha256"]
    home = os.environ.get("HOME")
    default_root = os.path.join(home, ".cache", "ec2-runner", "debugpy") if home else "/var/tmp/ec2-runner/debugpy"
    root = os.environ.get("EC2_RUNNER_DEBUGPY_CACHE") or default_root
    done = os.path.join(root, sha)
    if os.path.isfile(os.path.join(done, ".complete")):
        return done
    say("debugpy is not installed on this instance: fetching the staged copy")
    try:
        data = fetch()
    except Exception as error:
        fail("could not fetch the staged debugpy (%s): install debugpy on the instance or check its access to S3"
             % error)
    if hashlib.sha256(data).hexdigest() != sha:
        fail("the staged debugpy does not match its checksum (changed after upload); run again")
    os.makedirs(root, 0o700, exist_ok=True)
    work = tempfile.mkdtemp(prefix=".part-", dir=root)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        members = archive.getmembers()
        for m in members:
            if not (m.isfile() or m.isdir()) or m.name.startswith("/") or ".." in m.name.split("/"):
                shutil.rmtree(work, ignore_errors=True)
                fail("refusing the staged debugpy: %r is a link or leaves its folder" % m.name)
        archive.extractall(work, members, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    open(os.path.join(work, ".complete"), "w").close()
    try:
        os.rename(work, done)
    except OSError:
        shutil.rmtree(work, ignore_errors=True)  # another run got there first
    return done
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # the frozen-modules note: stdlib only, justMyCode
try:
    import debugpy
    origin = "the instance's"
except ImportError:
    os.environ.setdefault("PYDEVD_LOAD_NATIVE_LIB", "false")  # binaries are not staged
    sys.path.insert(0, staged())
    import debugpy
    origin = "staged"
target = os.path.abspath(sys.argv[1])
root = os.path.dirname(target)
for _ in range(C["depth"]):
    root = os.path.dirname(root)
debugpy.listen(("127.0.0.1", C["port"]))
say("debugpy %s (%s) waits for the debugger on 127.0.0.1:%d; debug-ready %s %s"
    % (getattr(debugpy, "__version__", "?"), origin, C["port"], C["token"], json.dumps(root)))
debugpy.wait_for_client()
sys.argv = [target] + sys.argv[2:]
sys.path[0] = os.path.dirname(target)
runpy.run_path(target, run_name="__main__")
`;

/** The `-c` argument: the program compressed, with its configuration (no quotes, so it fits in '…'). */
export function bootstrapProgram(config: BootstrapConfig): string {
  const source = PROGRAM.replace('json.loads(CONFIG)', `json.loads(${JSON.stringify(JSON.stringify(config))})`);
  const packed = deflateSync(Buffer.from(source, 'utf8'), { level: 9 }).toString('base64');
  return `import base64,zlib;exec(zlib.decompress(base64.b64decode("${packed}")))`;
}

/** The run's interpreter: the user's Python with the bootstrap program before the file. */
export function bootstrapInterpreter(python: string, config: BootstrapConfig): string {
  return `${python} -c '${bootstrapProgram(config)}'`;
}

export interface ReadyLine {
  remoteRoot: string;
}

/** Finds this run's ready line in the stderr text seen so far. */
export function findReadyLine(text: string, token: string): ReadyLine | undefined {
  const marker = `; debug-ready ${token} `;
  const at = text.indexOf(marker);
  if (at < 0) return undefined;
  const end = text.indexOf('\n', at);
  if (end < 0) return undefined;
  try {
    const remoteRoot: unknown = JSON.parse(text.slice(at + marker.length, end));
    return typeof remoteRoot === 'string' && remoteRoot.startsWith('/') ? { remoteRoot } : undefined;
  } catch {
    return undefined;
  }
}
