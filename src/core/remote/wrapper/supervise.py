# Running the script: its output read in order, shipped and teed, signals forwarded, and what it left in
# the process group stopped after it.
import os, select, signal, subprocess, time
from .values import CHILD_POLL_SECONDS, DRAIN_AFTER_EXIT_SECONDS, EXIT_CANNOT_START, LEFTOVER_GRACE_SECONDS, READ_BYTES
from .failures import Failure


def tee(fd, data):
    try:
        while data:
            data = data[os.write(fd, data):]
    except OSError:
        pass


def supervise(argv, cwd, env, channel, stdout_letter=b"o"):
    try:
        child = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
    except OSError as error:
        raise Failure("could not start %s: %s" % (argv[0].decode("utf-8", "replace"), error.strerror),
                      EXIT_CANNOT_START)
    def forward(received, _frame):
        try:
            child.send_signal(received)
        except OSError:
            pass  # already gone
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(number, forward)
    streams = {child.stdout.fileno(): (stdout_letter, 1 if stdout_letter == b"o" else 2),
               child.stderr.fileno(): (b"e", 2)}
    waker = child_exit_waker()
    try:
        return supervise_streams(child, streams, channel, waker)
    finally:
        if waker:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            for fd in waker:
                os.close(fd)


def child_exit_waker():
    """A pipe that turns readable when a child exits (SIGCHLD), so that the output loop sleeps instead of
    polling for the script's end; None where it cannot be set up (then the loop polls)."""
    try:
        fds = os.pipe()
    except OSError:
        return None
    try:
        for fd in fds:
            os.set_blocking(fd, False)
        signal.signal(signal.SIGCHLD, lambda _number, _frame: None)
        signal.set_wakeup_fd(fds[1])
        return fds
    except (AttributeError, OSError, ValueError):
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for fd in fds:
            os.close(fd)
        return None


def supervise_streams(child, streams, channel, waker):
    exited_at = None
    while streams:
        channel.wait_for_room()
        # Output and the script's end (SIGCHLD) wake the loop; the timeout is a safety net only.
        timeout = CHILD_POLL_SECONDS if waker else 0.1
        if exited_at is not None:
            timeout = max(0.0, min(timeout, exited_at + DRAIN_AFTER_EXIT_SECONDS - time.time()))
        ready = select.select(list(streams) + ([waker[0]] if waker else []), [], [], timeout)[0]
        if waker and waker[0] in ready:
            ready.remove(waker[0])
            try:
                os.read(waker[0], 512)
            except OSError:
                pass
        for fd in ready:
            data = os.read(fd, READ_BYTES)
            if not data:
                del streams[fd]
                continue
            channel.add(streams[fd][0], data)
            tee(streams[fd][1], data)
        if exited_at is None and child.poll() is not None:
            exited_at = time.time()
        if exited_at is not None and time.time() - exited_at > DRAIN_AFTER_EXIT_SECONDS:
            break
    channel.hold()  # its output is over (or it exited and the drain ended)
    code = child.wait()
    stop_leftovers()
    return (128 - code, -code) if code < 0 else (code, None)


def group_members():
    """Processes in the wrapper's process group, except the wrapper and the shells above it."""
    own_group = os.getpgid(0)
    keep, pid = set(), os.getpid()
    while pid > 1 and pid not in keep:
        keep.add(pid)
        fields = proc_stat(pid)
        if not fields or len(fields) < 3 or int(fields[2]) != own_group:
            break
        pid = int(fields[1])
    members = []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) not in keep:
            try:
                in_group = os.getpgid(int(name)) == own_group
            except OSError:
                continue
            # A zombie runs nothing and no signal ends it: e.g. the shell's heredoc writer, a child of the
            # wrapper since the shell exec'd it, which the wrapper never waits for.
            if in_group and (proc_stat(int(name)) or [b"Z"])[0] not in (b"Z", b"X"):
                members.append(int(name))
    return members


def proc_stat(pid):
    """The fields of /proc/PID/stat after the command name (state, ppid, pgrp, ...), or None."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None


def stop_leftovers():
    """Stops what the script left running in the process group (the agent would leave it running)."""
    if not os.path.isdir("/proc"):
        return  # not Linux: nothing to enumerate
    try:
        deadline = time.time() + LEFTOVER_GRACE_SECONDS
        for sig in (signal.SIGTERM, signal.SIGKILL):
            members = group_members()
            for pid in members:
                try:
                    os.kill(pid, sig)
                except OSError:
                    pass
            while members and sig == signal.SIGTERM and time.time() < deadline:
                time.sleep(0.05)
                members = group_members()
            if not members:
                return
    except Exception:
        pass  # housekeeping must never change the run's result
