# Before the script runs: the staged file fetched (inline, presigned URL or instance role) and verified, a
# project unpacked safely, the environment and the command line built.
import base64, hashlib, os, shutil, subprocess
import urllib.error
from .values import EXIT_NOT_FOUND, S3_DOWNLOAD_FIRST_CONTACT_SECONDS, S3_ROUTE_FIX, SPEC
from .failures import Failure, http_reason, is_permanent, with_retries
from .s3route import Route
from .spool import Spool
from .venv import ensure_venv, find_executable, python_of


def hash_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_presigned(url, path):
    renewed, route = [], Route()
    def attempt():
        # A short wait for a route to S3 (none fails fast), then a normal one for the answer and the body.
        response = route.open(renewed[0] if renewed else url, 60, S3_DOWNLOAD_FIRST_CONTACT_SECONDS)
        try:
            with open(path, "wb") as out:
                shutil.copyfileobj(response, out, 1 << 20)
        finally:
            response.close()
    try:
        fails_fast = lambda e: is_permanent(e) or route.unreachable(e)
        try:
            with_retries(attempt, 3, fails_fast)
        except urllib.error.HTTPError as error:
            # Delivered after the URL (or the credentials that signed it) expired: a following client
            # sends a fresh one with its renewal.
            renewed.extend(Spool.renewed_download(error))
            if not renewed:
                raise
            with_retries(attempt, 3, fails_fast)
    except Exception as error:
        if route.unreachable(error):
            raise Failure("cannot reach S3 from this instance (no connection within %d s) to fetch the file to run: %s;"
                          " a single file small enough to travel in the command needs no S3"
                          % (S3_DOWNLOAD_FIRST_CONTACT_SECONDS, S3_ROUTE_FIX))
        hint = {403: " (the presigned URL expired or was refused: run again)",
                404: " (the staged file is gone: run again to stage it)"}
        raise Failure("download failed: %s%s" % (http_reason(error), hint.get(getattr(error, "code", None), "")))


def download_with_role(fetch, path, env):
    aws = find_executable(b"aws", env)
    if not aws:
        raise Failure("download failed: the aws CLI is not on this instance's PATH (needed by the instance-role"
                      " transfer mode; install it or use presigned transfer)")
    child = subprocess.Popen([aws, b"s3", b"cp", b"--only-show-errors", b"--region", fetch["region"].encode("utf-8"),
                              fetch["s3Uri"].encode("utf-8"), path],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    output = child.communicate()[0].decode("utf-8", "replace").strip().splitlines()
    if child.returncode != 0:
        raise Failure("download failed: aws s3 cp exited %d: %s (the instance role needs s3:GetObject on the staged"
                      " object)" % (child.returncode, output[-1] if output else "no output"))


def write_inline_file(path):
    """The file sent in the command text ($ec2r_inline: base64 of its gzip)."""
    import gzip
    try:
        data = gzip.decompress(base64.b64decode(os.environb.get(b"ec2r_inline", b"")))
    except Exception as error:
        raise Failure("could not unpack the file sent with the command: %s" % error)
    with open(path, "wb") as out:
        out.write(data)


def build_env(tmp):
    # Not the command text's own variables (ec2r_*).
    env = dict((name, value) for name, value in os.environb.items() if not name.startswith(b"ec2r_"))
    env[b"PYTHONUNBUFFERED"] = b"1"
    for name, value in SPEC["env"]:
        env[name.encode("utf-8")] = value.encode("utf-8")
    env[b"EC2_RUNNER_RESULT"] = os.path.join(tmp, b"result.json")
    env[b"EC2_RUNNER_RUN_ID"] = SPEC["runId"].encode("utf-8")
    env[b"EC2_RUNNER_ARTIFACTS"] = os.path.join(tmp, b"artifacts")
    os.mkdir(env[b"EC2_RUNNER_ARTIFACTS"], 0o700)
    return env


def unpack(archive_path, dest):
    import tarfile
    root = os.path.realpath(os.fsdecode(dest))
    try:
        with tarfile.open(os.fsdecode(archive_path), "r:gz") as archive:
            members = archive.getmembers()
            for member in members:
                target = os.path.realpath(os.path.join(root, member.name))
                outside = member.name.startswith("/") or ".." in member.name.split("/")
                if outside or not target.startswith(root + os.sep):
                    raise Failure("unsafe path in the project archive: %r (refusing to unpack it)" % member.name)
                if not (member.isfile() or member.isdir()):
                    raise Failure("the project archive holds a link or special file: %r (refusing to unpack it)"
                                  % member.name)
            if hasattr(tarfile, "data_filter"):
                archive.extractall(root, members, filter="data")
            else:
                archive.extractall(root, members)
    except (tarfile.TarError, EOFError, OSError) as error:
        raise Failure("could not unpack the project archive: %s" % error)


def prepare(tmp, env, channel):
    """Returns (argv, default cwd) after download, checksum and unpacking; raises Failure before running anything."""
    if SPEC["mode"] == "shell":
        return [b"/bin/sh", b"-c", SPEC["shell"].encode("utf-8")], tmp
    staged = SPEC["file"]
    path = os.path.join(tmp, staged["name"].encode("utf-8"))
    if staged["fetch"]["kind"] == "inline":
        write_inline_file(path)
    elif staged["fetch"]["kind"] == "presigned":
        download_presigned(staged["fetch"]["url"], path)
    else:
        download_with_role(staged["fetch"], path, env)
    actual = hash_file(path)
    if actual != staged["sha256"]:
        os.remove(path)
        raise Failure("checksum mismatch: expected %s got %s (the staged file changed after upload; run again)"
                      % (staged["sha256"], actual))
    argv = [word.encode("utf-8") for word in SPEC["interpreter"]]
    cwd = tmp
    if SPEC.get("archive"):
        cwd = os.path.join(tmp, b"project")
        os.mkdir(cwd, 0o700)
        unpack(path, cwd)
        os.remove(path)
        path = os.path.join(cwd, SPEC["archive"]["entry"].encode("utf-8"))
        if SPEC["archive"].get("requirements") or SPEC["archive"].get("dependencies"):
            venv = ensure_venv(cwd, argv, env, channel)
            env[b"VIRTUAL_ENV"] = venv
            env[b"PATH"] = os.path.join(venv, b"bin") + b":" + env.get(b"PATH", b"/usr/bin:/bin")
            if python_of(argv) == argv[0]:
                argv[0] = os.path.join(venv, b"bin", b"python")
    if not find_executable(argv[0], env):
        raise Failure("interpreter not found: %s (install it on the instance or choose another interpreter)"
                      % SPEC["interpreter"][0], EXIT_NOT_FOUND)
    return argv + [path] + [arg.encode("utf-8") for arg in SPEC["args"]], cwd
