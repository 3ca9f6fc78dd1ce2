# The run from start to end: the start frame, staging, the script, the result and artifacts, the exit frame.
import json, os, re, shutil, stat, sys, tempfile, time
from .values import (
    AGENT_REBOOT_CODE, EXIT_NOT_RUN, INSTANCE_ID, OWN_TEMP_NAME, REBOOT_NOTE, REBOOT_CODE_REPORTED_AS,
    S3_FIRST_CONTACT_SECONDS, S3_ROUTE_FIX, SPEC, STALE_TEMP_SECONDS,
)
from .failures import Failure, note
from .channel import Channel
from .renewal import renew
from .supervise import supervise
from .staging import build_env, prepare
from .artifacts import ship_artifacts, ship_result


def sweep_stale_temp_dirs():
    # SSM SIGKILLs the whole process group on timeout or cancel, so a killed run cannot remove its
    # temp dir; the next run removes such leftovers (ours by name and owner, older than any run).
    try:
        base = tempfile.gettempdir()
        for name in os.listdir(base):
            path = os.path.join(base, name)
            if not OWN_TEMP_NAME.match(name):
                continue
            info = os.lstat(path)
            stale = time.time() - info.st_mtime > STALE_TEMP_SECONDS
            if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and stale:
                shutil.rmtree(path, ignore_errors=True)
    except Exception:
        pass  # housekeeping must never stop a run


def own_instance_id():
    """See the header: the agent's variable, the agent's script path, the client's single target, or None."""
    from_path = re.search(r"/([^/]+)/document/orchestration/", os.environ.get("ec2r_script", ""))
    for candidate in (os.environ.get("AWS_SSM_INSTANCE_ID"), from_path and from_path.group(1), SPEC.get("instanceId")):
        if candidate and INSTANCE_ID.match(candidate):
            return candidate
    return None


def main():
    instance_id = own_instance_id()
    if SPEC["mode"] == "renew":
        return renew(instance_id) if instance_id else 0
    if not instance_id and SPEC.get("output"):
        note("live output is off: this SSM agent does not say which instance this is (no AWS_SSM_INSTANCE_ID;"
             " update the agent); the output is SSM's own")
    channel = Channel(SPEC.get("output") if instance_id else None, instance_id)
    sweep_stale_temp_dirs()  # before the script: beside it, it would hold the GIL when a short script ends
    tmp_name = tempfile.mkdtemp(prefix="ec2-runner-")
    tmp = os.fsencode(tmp_name)
    cwd = os.path.join(tmp, b"project") if SPEC.get("archive") else tmp
    cwd = SPEC["cwd"].encode("utf-8") if SPEC.get("cwd") else cwd
    started = {"pid": os.getpid(), "pythonVersion": "%d.%d.%d" % sys.version_info[:3],
               "cwd": cwd.decode("utf-8", "replace"), "instanceId": instance_id}
    channel.add(b"S", json.dumps(started).encode("utf-8"))
    signal_number = None
    try:
        if SPEC.get("cwd") and not os.path.isdir(cwd):
            raise Failure("working directory not found: %s (create it on the instance or choose another)" % SPEC["cwd"])
        env = build_env(tmp)
        argv, cwd = prepare(tmp, env, channel)
        if SPEC.get("cwd"):
            cwd = SPEC["cwd"].encode("utf-8")
        code, signal_number = supervise(argv, cwd, env, channel)
        ship_result(env[b"EC2_RUNNER_RESULT"], channel)
        ship_artifacts(env[b"EC2_RUNNER_ARTIFACTS"], channel)
    except Failure as failure:
        code = failure.code
        if "cannot reach S3" in str(failure):
            channel.unreachable = False  # said once, here
        note(str(failure))
        channel.add(b"E", str(failure).encode("utf-8"))
    except Exception as error:
        code = EXIT_NOT_RUN
        note("wrapper error: %r" % (error,))
        channel.add(b"E", ("wrapper error: %r" % (error,)).encode("utf-8"))
    finally:
        shutil.rmtree(tmp_name, ignore_errors=True)  # a str path: Python 3.6's rmtree mishandles bytes
    exit_payload = str(code) if signal_number is None else json.dumps({"exitCode": code, "signal": signal_number})
    channel.add(b"x", exit_payload.encode("ascii"), urgent=True)
    channel.close()
    if channel.unreachable:
        note("S3 could not be reached within %d s, so there was no live output: this output is SSM's own (the first"
             " 24,000 characters of stdout and 8,000 of stderr); for live output and projects, %s"
             % (S3_FIRST_CONTACT_SECONDS, S3_ROUTE_FIX))
    if code == AGENT_REBOOT_CODE:
        note(REBOOT_NOTE[len("ec2-runner: "):])
        return REBOOT_CODE_REPORTED_AS
    return code


if __name__ == "__main__":
    exit_code = main()
    # SSM learns of the end when this process exits, and the exit frame is uploaded by now: skip the
    # interpreter's teardown (module cleanup, thread bookkeeping), which only delays that.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(exit_code)
