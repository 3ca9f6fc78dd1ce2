# The spool: upload objects kept on disk until S3 acknowledged them, and the renewed upload policies and
# download URLs that a renewal command hands over to the running wrapper.
import json, os, re, shutil, tempfile, time
from .values import RENEWED_DOWNLOAD_WAIT_SECONDS, SPEC, SPOOL_CHECK_SECONDS
from .failures import error_body, note


class Spool(object):
    """Upload objects kept on disk (a root-only dir) until S3 has acknowledged them, and renewed upload
    policies handed over by a renewal command. Falls back to memory when the disk cannot be used."""

    current = None  # the running wrapper's spool

    @staticmethod
    def renewed_download(error):
        """A fresh presigned GET left by a renewal (waits a little for one after a refused download)."""
        spool = Spool.current
        expired = re.search(rb"<Code>ExpiredToken</Code>|<Message>Request has expired", error_body(error))
        if not expired or spool is None or spool.memory is not None:
            return []
        deadline = time.time() + RENEWED_DOWNLOAD_WAIT_SECONDS
        while time.time() < deadline:
            try:
                with open(spool.path("download.json")) as handle:
                    return [json.load(handle)["url"]]
            except (OSError, ValueError, KeyError):
                time.sleep(SPOOL_CHECK_SECONDS)
        return []

    def __init__(self, instance_id):
        self.memory = None
        self.lock_handle = None
        name = "ec2-runner-spool-%s-%s" % (SPEC["runId"], re.sub(r"[^A-Za-z0-9_-]", "_", instance_id))
        self.dir = os.path.join(tempfile.gettempdir(), name)
        try:
            os.makedirs(self.dir, 0o700, exist_ok=True)
            os.chmod(self.dir, 0o700)
        except OSError as error:
            note("cannot keep live output on disk (%s); a run that outlives its upload policy may lose output"
                 % error.strerror)
            self.memory = {}

    def path(self, name):
        return os.path.join(self.dir, name)

    def lock(self, wait):
        """Holds the run's lock (the running wrapper keeps it); False when another process holds it."""
        if self.memory is not None:
            return True
        import fcntl
        handle = open(self.path("active"), "ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except OSError:
            handle.close()
            return False
        self.lock_handle = handle
        return True

    def put(self, seq, body):
        if self.memory is not None:
            self.memory[seq] = body
            return
        temp = self.path("%08d.tmp" % seq)
        with open(temp, "wb") as handle:
            handle.write(body)
        os.rename(temp, self.path("%08d.out" % seq))

    def pending(self):
        if self.memory is not None:
            return sorted(self.memory)
        return sorted(int(name[:-4]) for name in os.listdir(self.dir) if re.match(r"^[0-9]{8,}[.]out$", name))

    def read(self, seq):
        if self.memory is not None:
            return self.memory[seq]
        with open(self.path("%08d.out" % seq), "rb") as handle:
            return handle.read()

    def ack(self, seq):
        if self.memory is not None:
            self.memory.pop(seq, None)
        else:
            os.remove(self.path("%08d.out" % seq))

    def offer_policy(self, target):
        temp = self.path("policy.%d.tmp" % os.getpid())
        with open(temp, "w") as handle:
            json.dump(target, handle)
        os.rename(temp, self.path("policy.json"))

    def offer_download(self, url):
        temp = self.path("download.%d.tmp" % os.getpid())
        with open(temp, "w") as handle:
            json.dump({"url": url}, handle)
        os.rename(temp, self.path("download.json"))

    def policy_offered(self):
        return self.memory is None and os.path.exists(self.path("policy.json"))

    def take_policy(self):
        if self.memory is not None:
            return None
        try:
            os.rename(self.path("policy.json"), self.path("policy.taken"))
            with open(self.path("policy.taken")) as handle:
                return json.load(handle)
        except (OSError, ValueError):
            return None

    def mark_unreachable(self):
        if self.memory is None:
            open(self.path("unreachable"), "wb").close()

    def unreachable(self):
        return self.memory is None and os.path.exists(self.path("unreachable"))

    def mark_ended(self):
        if self.memory is None:
            open(self.path("ended"), "wb").close()

    def ended(self):
        return self.memory is None and os.path.exists(self.path("ended"))

    def remove(self):
        if self.memory is None:
            shutil.rmtree(self.dir, ignore_errors=True)
