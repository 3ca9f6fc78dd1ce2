# Project dependencies: a venv per requirements and interpreter, shared by runs (see __init__.py).
import hashlib, os, shutil, subprocess, sys
from .values import EXIT_NOT_FOUND, SPEC, VENV_FALLBACK_ROOT, VENV_HOME_SUBDIR, VENV_MARKER
from .failures import Failure
from .channel import tell
from .supervise import supervise


def find_executable(name, env):
    if b"/" in name:
        return name if os.path.isfile(name) and os.access(name, os.X_OK) else None
    for folder in env.get(b"PATH", b"/usr/local/bin:/usr/bin:/bin").split(b":"):
        candidate = os.path.join(folder or b".", name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def python_of(argv):
    """The interpreter when it is a Python, else the wrapper's own (to build the venv)."""
    name = os.path.basename(argv[0])
    return argv[0] if name.startswith(b"python") or name == b"platform-python" else os.fsencode(sys.executable)


def venv_root(env):
    if SPEC["archive"].get("venvRoot"):
        return SPEC["archive"]["venvRoot"].encode("utf-8")
    home = env.get(b"HOME")
    return os.path.join(home, VENV_HOME_SUBDIR) if home else VENV_FALLBACK_ROOT


def install_step(argv, cwd, env, channel, what):
    code, _signal = supervise(argv, cwd, env, channel, b"e")
    if code != 0:
        raise Failure("dependency install failed (exit %d): see output above%s" % (code, what))


def dependency_list(project):
    """(the bytes that key the venv, pip's arguments, what to call them) for the requirements file or the
    pyproject dependencies."""
    archive = SPEC["archive"]
    if archive.get("requirements"):
        name = archive["requirements"].encode("utf-8")
        with open(os.path.join(project, name), "rb") as handle:
            return handle.read(), [b"-r", name], archive["requirements"]
    requirements = [requirement.encode("utf-8") for requirement in archive["dependencies"]]
    return b"\n".join(requirements) + b"\n", requirements, "the pyproject.toml dependencies"


def ensure_venv(project, argv, env, channel):
    """Creates or reuses the venv for these dependencies and this interpreter; returns its directory."""
    import fcntl
    requirements, pip_args, what = dependency_list(project)
    python = python_of(argv)
    if not find_executable(python, env):
        raise Failure("interpreter not found: %s (install it on the instance or choose another interpreter)"
                      % python.decode("utf-8", "replace"), EXIT_NOT_FOUND)
    identity = subprocess.check_output([python, b"-c", b"import sys; sys.stdout.write(sys.version + sys.prefix)"],
                                       env=env, stdin=subprocess.DEVNULL)
    key = hashlib.sha256(requirements + b"\0" + identity).hexdigest()[:32].encode("ascii")
    root = venv_root(env)
    venv = os.path.join(root, key)
    if os.path.isfile(os.path.join(venv, VENV_MARKER)):
        tell(channel, "reusing the environment %s (requirements unchanged)" % venv.decode("utf-8", "replace"))
        return venv
    os.makedirs(root, 0o700, exist_ok=True)
    with open(os.path.join(root, key + b".lock"), "ab") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            tell(channel, "waiting for another run that is installing the same requirements")
            fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.isfile(os.path.join(venv, VENV_MARKER)):
            tell(channel, "reusing the environment %s (requirements unchanged)" % venv.decode("utf-8", "replace"))
            return venv
        shutil.rmtree(os.fsdecode(venv), ignore_errors=True)  # an unfinished one: start over
        tell(channel, "creating the environment %s and installing %s" % (venv.decode("utf-8", "replace"), what))
        try:
            install_step([python, b"-m", b"venv", venv], project, env, channel,
                         " (python -m venv; on Debian/Ubuntu install python3-venv)")
            pip_env = dict(env)
            pip_env[b"PIP_DISABLE_PIP_VERSION_CHECK"] = b"1"
            pip = [os.path.join(venv, b"bin", b"python"), b"-m", b"pip", b"install", b"--no-input"]
            install_step(pip + pip_args, project, pip_env, channel, "")
        except BaseException:
            shutil.rmtree(os.fsdecode(venv), ignore_errors=True)
            raise
        with open(os.path.join(venv, VENV_MARKER), "wb") as marker:
            marker.write(requirements)
        return venv
