# After the script: its result file and its artifacts ($EC2_RUNNER_ARTIFACTS) shipped on the channel.
import os
from .values import ARTIFACTS_MAX_BYTES, ARTIFACTS_MAX_FILES, RESULT_LIMIT_BYTES
from .failures import note
from .channel import tell


def ship_result(path, channel):
    if not os.path.isfile(path):
        return
    size = os.path.getsize(path)
    if size > RESULT_LIMIT_BYTES:
        message = "result file too large: %d bytes (limit %d); not shipped" % (size, RESULT_LIMIT_BYTES)
        note(message)
        channel.add(b"E", message.encode("utf-8"))
        return
    with open(path, "rb") as handle:
        channel.add(b"r", handle.read())


def ship_artifacts(folder, channel):
    """Sends the files in folder as one deterministic tar (sorted, mtime 0, no owners), if within the limit."""
    files, skipped = [], 0
    for base, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(base, name)
            if os.path.islink(path) or not os.path.isfile(path):
                skipped += 1
                continue
            files.append((os.path.relpath(path, folder), os.path.getsize(path), path))
    if skipped:
        tell(channel, "%d artifact(s) skipped: links and special files are not shipped" % skipped)
    if not files:
        return
    import io, tarfile  # only now: most runs ship none, and hundreds of wrappers end at once in a fleet
    files.sort()
    if len(files) > ARTIFACTS_MAX_FILES:
        tell(channel, "artifacts not shipped: %d files, over the %d-file limit; write fewer (e.g. one archive)"
             " to $EC2_RUNNER_ARTIFACTS" % (len(files), ARTIFACTS_MAX_FILES))
        return
    total = sum(size for _, size, _ in files)
    buffer = io.BytesIO()
    if total <= ARTIFACTS_MAX_BYTES:
        archive = tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT, encoding="utf-8")
        for relative, size, path in files:
            info = tarfile.TarInfo(relative.decode("utf-8", "surrogateescape"))
            info.size, info.mtime, info.mode, info.uid, info.gid, info.uname, info.gname = size, 0, 0o644, 0, 0, "", ""
            with open(path, "rb") as handle:
                archive.addfile(info, handle)
        archive.close()
    if total > ARTIFACTS_MAX_BYTES or buffer.tell() > ARTIFACTS_MAX_BYTES:
        largest = sorted(files, key=lambda f: -f[1])[:3]
        biggest = ", ".join("%s (%d bytes)" % (r.decode("utf-8", "replace"), n) for r, n, _ in largest)
        tell(channel, "artifacts not shipped: %d file(s), %d bytes, over the %d-byte limit (biggest: %s); write less"
             " to $EC2_RUNNER_ARTIFACTS" % (len(files), total, ARTIFACTS_MAX_BYTES, biggest))
        return
    channel.add(b"a", buffer.getvalue(), urgent=True)
