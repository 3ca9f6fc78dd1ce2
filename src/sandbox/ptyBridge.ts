// A pseudo-terminal for the sandbox's AWS-StartInteractiveCommand sessions without native Node
// modules: Python's pty module runs `argv` on a pty, relays fd 0 to the pty and the pty to fd 1,
// and applies {"cols","rows"} lines read on fd 3 as window sizes (TIOCSWINSZ, which sends SIGWINCH).
// It exits with the command's status once the command has exited and its output is drained.
export const PTY_BRIDGE = String.raw`
import os, sys, pty, select, json, fcntl, termios, struct, errno
pid, master = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
def resize(line):
    try:
        size = json.loads(line)
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack('HHHH', int(size['rows']), int(size['cols']), 0, 0))
    except Exception:
        pass
inputs = {0: True, 3: True}
control = b''
status = None
while True:
    readable = [master] + [fd for fd, on in inputs.items() if on]
    try:
        ready, _, _ = select.select(readable, [], [], 0.05)
    except InterruptedError:
        continue
    if master in ready:
        try:
            data = os.read(master, 65536)
        except OSError as e:
            data = b''
        if not data:
            break
        os.write(1, data)
    if 0 in ready:
        data = os.read(0, 65536)
        if data:
            os.write(master, data)
        else:
            inputs[0] = False
    if 3 in ready:
        data = os.read(3, 4096)
        if not data:
            inputs[3] = False
        control += data
        while b'\n' in control:
            line, control = control.split(b'\n', 1)
            resize(line)
    if status is None:
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st
            # drain what the command wrote before it exited
            while True:
                r, _, _ = select.select([master], [], [], 0.05)
                if not r:
                    break
                try:
                    data = os.read(master, 65536)
                except OSError:
                    data = b''
                if not data:
                    break
                os.write(1, data)
            break
if status is None:
    _, status = os.waitpid(pid, 0)
sys.exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))
`;
