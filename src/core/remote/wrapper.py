# The instance-side wrapper: a Python 3.6+ program (stdlib only) that the command text runs from a quoted
# heredoc (packed, see commandText.ts; wrapperProgram.ts fills in the client's values). It fetches and
# verifies the staged file, runs it, and ships stdout/stderr/result/exit as frames (frames.ts) to the
# live-output presigned POST while the script runs. Its unit tests: test/python/test_wrapper.py.
#
# Why these choices:
# - The run spec is base64 JSON embedded in the program text (SPEC_BASE64): base64 needs no quoting, the
#   heredoc delimiter can't occur in it, and the presigned URLs never appear in any process's argv.
# - Arguments, paths and env are handled as bytes so every argument reaches the script byte for byte,
#   even under a C locale on Python 3.6 (whose filesystem encoding is then ASCII).
# - Output is read with select/os.read (binary, no line buffering) in read order so stdout/stderr
#   interleaving survives; PYTHONUNBUFFERED=1 makes Python scripts' prints reach the pipe at once.
# - Uploads run on a thread: a slow or broken channel never stops or kills the user's script. Every
#   object is written to a root-only spool dir before its upload and removed once S3 acknowledged it,
#   so a refused upload (the POST policy or the credentials that signed it expired) loses nothing: the
#   channel stalls, keeps spooling, and resumes from the first unacknowledged object (same sequence
#   numbers: no gap, no duplicate) when a renewal command leaves a fresh policy in the spool. If the
#   wrapper ends first, the spool stays and the renewal command uploads it (mode "renew"). The wrapper
#   also tees everything to its own stdout/stderr, so SSM's output stays meaningful as a last resort.
# - Exit codes of the wrapper itself: 125 = it could not run the script (download, checksum, working
#   directory), 127 = interpreter not found, 126 = interpreter could not be started; otherwise the
#   script's own code, 128+N when killed by signal N. A script's 194 would make the agent reboot the
#   instance and run the command again, so the wrapper exits 195 then; its exit frame says 194.
# - S3 may be unreachable (private subnet without an S3 gateway endpoint or NAT): the first upload and the
#   download wait a few seconds for a first answer (defaults.ts), then the output is left to SSM's channel
#   (everything is teed) and a download fails with a message naming the fix. An inline file needs no S3.
# - The agent kills nothing when a script ends normally: processes the script left in the wrapper's
#   process group are stopped after it (SIGTERM, then SIGKILL); one started with setsid survives.
# - The instance id names the live-output keys: AWS_SSM_INSTANCE_ID, else the agent's script path
#   (/var/lib/amazon/ssm/<id>/document/orchestration/...), else the single target the client named;
#   without one there is no live output (never a made-up name the client cannot match).
# - Projects (archive): unpacked with tarfile after refusing absolute paths, `..`, links and special files,
#   so nothing lands outside the per-run directory. Dependencies go into a venv keyed by the hash of the
#   requirements and the interpreter's identity. Venvs are not relocatable (pip writes absolute paths
#   into bin/ scripts), so instead of build-then-rename, concurrent runs serialise on an flock per key and
#   a marker file written last says "complete"; a venv without the marker is rebuilt.
# - Artifacts: files left in $EC2_RUNNER_ARTIFACTS travel back as one deterministic tar in an 'a' frame
#   before the exit frame: one ordered channel, so they arrive with the output, attach replays them and
#   no second upload path or listing-order rule is needed. Bounded by ARTIFACTS_MAX_BYTES (one object).

import base64, errno, hashlib, json, os, random, re, select, shutil, signal, socket, stat, struct, subprocess, sys, tempfile, threading, time
import urllib.error, urllib.request

# The client's values (src/core/defaults.ts, remote/chunkKeys.ts, remote/fallbackScript.ts): when it packs
# this program, wrapperProgram.ts replaces each line from SPEC_BASE64 to VENV_FALLBACK_ROOT with its own value.
# The values written here are the same (a unit test compares them): the wrapper's own tests run with them.
SPEC_BASE64 = ""  # the run spec, base64 of JSON (commandText.ts); empty when imported by the unit tests
AGENT_REBOOT_CODE = 194
REBOOT_CODE_REPORTED_AS = 195
REBOOT_CODE_NOTE = "ec2-runner: the script exited 194, which the SSM agent takes as a reboot request; reported to SSM as 195"
S3_FIRST_CONTACT_SECONDS = 3
S3_DOWNLOAD_FIRST_CONTACT_SECONDS = 5
LEFTOVER_GRACE_SECONDS = 2
INSTANCE_ID_PATTERN = r"^m?i-[0-9a-f]{8,17}$"
ARTIFACTS_MAX_BYTES = 8388608
ARTIFACTS_MAX_FILES = 10000
VENV_HOME_SUBDIR = b".cache/ec2-runner/venvs"
VENV_FALLBACK_ROOT = b"/var/tmp/ec2-runner/venvs"

SPEC = json.loads(base64.b64decode(SPEC_BASE64).decode("utf-8")) if SPEC_BASE64 else {}
INSTANCE_ID = re.compile(INSTANCE_ID_PATTERN)
FLUSH_SECONDS = 0.2
FIRST_FLUSH_SECONDS = 0.05  # the start frame waits this long for the first output, to share one object with it
FIRST_OUTPUT_GATHER_SECONDS = 0.02  # the first output waits this long for more (a short script's end and exit frame)
HOLD_AFTER_EXIT_SECONDS = 0.5  # once a child has exited, output waits up to this long for the exit frame that follows
FLUSH_BYTES = 1 << 20
UPLOAD_GAP = float(SPEC.get("uploadGap") or 0.2)  # seconds per upload of continuous output, chosen by the client
UPLOAD_BURST = 3
OBJECT_BYTES = 8 << 20  # well below the POST policy's 16 MiB per object
MAX_PENDING_BYTES = 64 << 20  # beyond this, stop reading (the script blocks) instead of growing memory
RESULT_LIMIT_BYTES = 6 << 20
READ_BYTES = 65536
DRAIN_AFTER_EXIT_SECONDS = 2.0  # a background process may keep the pipes open after the script exits
CHILD_POLL_SECONDS = 1.0  # the output loop's safety-net wake-up; output and SIGCHLD wake it at once
UPLOAD_ATTEMPTS = 6
BACKOFF_MAX_SECONDS = 4.0
THROTTLED_SECONDS = 300  # how long S3 may answer SlowDown before an upload or download gives up
CLOSE_SECONDS = 120  # the most the wrapper waits, after the script, for the last uploads
STALLED_CLOSE_SECONDS = 5  # after the script, how long a refused channel waits for a renewed policy (then the spool keeps it)
STALLED_RETRY_SECONDS = 5  # a channel that failed for a network reason tries again after this long
SPOOL_CHECK_SECONDS = 0.5  # how often the channel looks for a renewed policy (and a stalled one retries)
RENEW_HANDOVER_SECONDS = 30  # how long a renewal command waits for the running wrapper to take its policy
RENEWED_DOWNLOAD_WAIT_SECONDS = 10  # after a refused download, how long to wait for a renewal's fresh URL
EXIT_NOT_RUN, EXIT_CANNOT_START, EXIT_NOT_FOUND = 125, 126, 127
S3_ROUTE_FIX = "give the instance's subnet a route to S3: an S3 gateway endpoint in its VPC, or a NAT route"
VENV_MARKER = b".ec2-runner-complete"
STALE_TEMP_SECONDS = 3 * 86400  # longer than the longest execution timeout (2 days): never a live run's dir
OWN_TEMP_NAME = re.compile(r"^ec2-runner-([A-Za-z0-9_]{6,8}|spool-[A-Za-z0-9_-]+)$")  # mkdtemp's (and the sh fallback's mktemp's) names, spools


class Failure(Exception):
    def __init__(self, message, code=EXIT_NOT_RUN):
        Exception.__init__(self, message)
        self.code = code


def note(message):
    try:
        sys.stderr.write("ec2-runner: %s\n" % message)
        sys.stderr.flush()
    except Exception:
        pass


def tee(fd, data):
    try:
        while data:
            data = data[os.write(fd, data):]
    except OSError:
        pass


def chunk_key(key_prefix, instance_id, seq):
    """The live-output object's key: sequence numbers sort as keys (remote/chunkKeys.ts reads them)."""
    return "%s%s/%08d" % (key_prefix, instance_id, seq)


def frame(letter, payload):
    return letter + struct.pack(">I", len(payload)) + bytes(payload)


def error_body(error):
    """The start of an HTTP error's body (read once, kept for the next reader)."""
    if not hasattr(error, "ec2r_body"):
        try:
            error.ec2r_body = error.read(4096)
        except Exception:
            error.ec2r_body = b""
    return error.ec2r_body


def http_reason(error):
    if isinstance(error, urllib.error.HTTPError):
        code = ""
        try:
            match = re.search(rb"<Code>([^<]{1,64})</Code>", error_body(error))
            code = " " + match.group(1).decode("ascii", "replace") if match else ""
        except Exception:
            pass
        return "HTTP %d%s" % (error.code, code)
    reason = getattr(error, "reason", None) or error
    return "%s: %s" % (type(error).__name__, reason)  # never the URL: it carries a signature


def is_permanent(error):
    return isinstance(error, urllib.error.HTTPError) and 400 <= error.code < 500 and error.code not in (408, 429)


def is_unreachable(error):
    """No answer at all: a timeout before the first response, a refused or unroutable connection, no DNS."""
    reason = error.reason if isinstance(error, urllib.error.URLError) and not isinstance(error, urllib.error.HTTPError) else error
    if isinstance(reason, (socket.timeout, socket.gaierror, ConnectionRefusedError)):
        return True
    return isinstance(reason, OSError) and reason.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ETIMEDOUT)


def is_throttled(error):
    # S3's 503 SlowDown (request rate above its per-prefix limit) or a 429: wait longer, never give up early.
    return isinstance(error, urllib.error.HTTPError) and error.code in (429, 503)


def with_retries(action, attempts, give_up=is_permanent):
    # Jittered exponential backoff, so a fleet's wrappers that were throttled together do not retry
    # together. Throttling does not use up the attempts: it is retried for up to THROTTLED_SECONDS.
    delay, throttled_since, attempt = 0.25, None, 0
    while True:
        try:
            return action()
        except Exception as error:
            if is_throttled(error):
                throttled_since = throttled_since or time.time()
                if time.time() - throttled_since > THROTTLED_SECONDS:
                    raise
            else:
                attempt += 1
                if give_up(error) or attempt >= attempts:
                    raise
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, BACKOFF_MAX_SECONDS)


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
            note("cannot keep live output on disk (%s); a run that outlives its upload policy may lose output" % error.strerror)
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


class Channel(object):
    """Batches frames into numbered objects, keeps each in the spool until S3 acknowledges it, and
    uploads them in order from a background thread. A refused upload (policy or credentials expired)
    never loses data: the channel stalls, keeps spooling, and resumes from the first unacknowledged
    object when a renewed policy arrives."""

    def __init__(self, target, instance_id, spool=None, background=True):
        self.active = bool(target)
        self.target = target if target and target.get("url") else None
        self.instance_id = instance_id
        self.cond = threading.Condition()
        self.pending = []
        self.pending_bytes = 0
        self.oldest = 0.0
        self.urgent = False
        self.output_sent = False  # an object with output has been taken (the first output gathers only briefly)
        self.first_output_at = None
        self.held_until = 0.0
        self.credit, self.credited_at = float(UPLOAD_BURST), time.time()
        self.closing = False
        self.closed_at = None
        self.stalled = None if self.target else "waiting for an upload policy"
        self.retry_at = 0.0 if self.target else float("inf")
        self.checked_at = 0.0
        self.contacted = False  # S3 has acknowledged an upload of this channel
        self.unreachable = False  # S3 never answered the first upload (see S3_FIRST_CONTACT_SECONDS)
        self.seq = 0
        self.spool = spool or (Spool(instance_id) if self.active else None)
        self.thread = threading.Thread(target=self.run)
        self.thread.daemon = True
        if self.active and background:
            self.spool.lock(True)
            Spool.current = self.spool
            self.thread.start()

    def add(self, letter, data, urgent=False):
        if not self.active:
            return
        with self.cond:
            if self.first_output_at is None and letter in (b"o", b"e"):
                self.first_output_at = time.time()
            last = self.pending[-1] if self.pending else None
            if last and last[0] == letter and letter in (b"o", b"e") and len(last[1]) + len(data) <= FLUSH_BYTES:
                last[1].extend(data)
                self.pending_bytes += len(data)
            else:
                first = not self.pending
                if first:
                    self.oldest = time.time()
                self.pending.append((letter, bytearray(data)))
                self.pending_bytes += len(data) + 5
                if first:
                    self.cond.notify_all()  # the uploader sleeps until its next spool check: now it has a flush to time
            if urgent or self.pending_bytes >= FLUSH_BYTES:
                self.urgent = True
                self.cond.notify_all()
            elif not self.output_sent and letter in (b"o", b"e"):
                self.cond.notify_all()  # the first output goes almost at once

    def hold(self):
        # A child has exited: pending output waits (briefly) for the exit frame, one upload instead of two.
        with self.cond:
            self.held_until = time.time() + HOLD_AFTER_EXIT_SECONDS

    def wait_for_room(self):
        with self.cond:
            while self.pending_bytes > MAX_PENDING_BYTES and self.thread.is_alive():
                self.cond.wait(0.2)

    def close(self):
        if not self.active:
            return
        with self.cond:
            self.closing = True
            self.closed_at = time.time()
            self.cond.notify_all()
        if self.thread.is_alive():
            self.thread.join(CLOSE_SECONDS)
        if self.unreachable:
            return  # give_up left only its marker, for a renewal to read
        left = len(self.spool.pending())
        if not left and not self.thread.is_alive():
            self.spool.remove()
        elif left:
            self.spool.mark_ended()
            note("%d live output object(s) are kept on this instance until the client renews the upload policy (ec2-runner status or attach does it)" % left)

    def take(self):
        body = bytearray()
        while self.pending and (not body or len(body) + 5 + len(self.pending[0][1]) <= OBJECT_BYTES):
            letter, data = self.pending.pop(0)
            self.output_sent = self.output_sent or letter in (b"o", b"e")
            body += frame(letter, data)
        self.pending_bytes -= len(body)
        self.urgent = False
        self.cond.notify_all()
        return bytes(body)

    def ready(self):
        # Output waits FLUSH_SECONDS to gather, then goes as soon as the upload budget allows: a few
        # uploads at once, then one per UPLOAD_GAP seconds. Sparse output is shown at once; continuous
        # output goes in bigger, rarer objects (S3 bills per request). Urgent frames skip the budget.
        # The first output goes almost at once (with the start frame, which waits FIRST_FLUSH_SECONDS
        # for it): the first line is what a user waits for.
        if not self.pending:
            return False
        if self.urgent or self.closing:
            return True
        now = time.time()
        self.credit = min(UPLOAD_BURST, self.credit + (now - self.credited_at) / UPLOAD_GAP)
        self.credited_at = now
        return now >= self.gathered_at() and self.credit >= 1

    def gathered_at(self):
        # When the pending frames have gathered long enough to go (the upload budget aside).
        if not self.output_sent and self.first_output_at is not None:
            gathered = self.first_output_at + FIRST_OUTPUT_GATHER_SECONDS
        else:
            gathered = self.oldest + self.gather_seconds()
        return max(gathered, self.held_until)

    def gather_seconds(self):
        return FLUSH_SECONDS if self.output_sent else FIRST_FLUSH_SECONDS

    def due(self):
        # Also when nothing is ready: a renewal command may have left a fresh policy to take.
        return self.ready() or time.time() - self.checked_at >= SPOOL_CHECK_SECONDS

    def idle_seconds(self):
        # Until the uploader may have work: the pending output's flush (once the upload budget allows it),
        # the next spool check, the end of a stalled close. New output and urgent frames wake it sooner.
        # Sleeping exactly that long instead of polling keeps an idle wrapper's CPU near zero (a fleet of
        # them shares the instances' CPUs with the scripts).
        now = time.time()
        wake = self.checked_at + SPOOL_CHECK_SECONDS
        if self.pending:
            credit_at = self.credited_at + max(0.0, 1 - self.credit) * UPLOAD_GAP
            wake = min(wake, max(self.gathered_at(), credit_at))
        if self.closing:
            wake = min(wake, self.closed_at + STALLED_CLOSE_SECONDS)
        return min(SPOOL_CHECK_SECONDS, max(0.005, wake - now))

    def done(self):
        if not self.closing or self.pending:
            return False
        if not self.spool.pending():
            return True
        return bool(self.stalled) and time.time() - self.closed_at >= STALLED_CLOSE_SECONDS

    def run(self):
        while True:
            with self.cond:
                while not self.due():
                    if self.done():
                        return
                    self.cond.wait(self.idle_seconds())
                body = None
                if self.ready():
                    body = self.take()
                    self.credit = max(0.0, self.credit - 1)
            if body:
                self.spool.put(self.seq, body)
                self.seq += 1
            self.upload()
            if self.unreachable:
                self.give_up()
                return

    def give_up(self):
        """S3 never answered: the output is SSM's own from here on (everything is teed). Nothing is kept
        for a renewal (one would not reach S3 either), and one that comes says so at once."""
        with self.cond:
            self.active = False
            self.pending = []
            self.pending_bytes = 0
            self.cond.notify_all()
        try:
            for seq in self.spool.pending():
                self.spool.ack(seq)
            self.spool.mark_unreachable()
        except OSError:
            pass

    def upload(self):
        """Uploads the spooled objects in order; returns how many are still waiting."""
        self.checked_at = time.time()
        renewed = self.spool.take_policy()
        if renewed:
            self.target = renewed
            self.retry_at = 0.0
        if self.stalled and time.time() < self.retry_at:
            return len(self.spool.pending())
        waiting = self.spool.pending()
        for index, seq in enumerate(waiting):
            body = self.spool.read(seq)
            first_contact = not self.contacted
            try:
                if first_contact:
                    # A few seconds for a first answer: an instance without a route to S3 falls back to SSM's output at once.
                    with_retries(lambda: self.post(seq, body, S3_FIRST_CONTACT_SECONDS), UPLOAD_ATTEMPTS, lambda e: is_permanent(e) or is_unreachable(e))
                else:
                    with_retries(lambda: self.post(seq, body), UPLOAD_ATTEMPTS)
            except Exception as error:
                if first_contact and is_unreachable(error):
                    self.unreachable = True  # said once, at the end (main), or by the renewal command
                    return len(waiting) - index
                if not self.stalled:
                    note("live output upload refused (%s); output is kept on this instance until the upload is renewed" % http_reason(error))
                self.stalled = http_reason(error)
                # A refused policy only works again once renewed; a network failure is retried as it is.
                self.retry_at = float("inf") if is_permanent(error) else time.time() + STALLED_RETRY_SECONDS
                return len(waiting) - index
            self.contacted = True
            self.spool.ack(seq)
        if self.stalled and waiting:
            note("upload policy renewed; live output resumed")
        self.stalled = None
        return 0

    def post(self, seq, body, timeout=60):
        key = chunk_key(self.target["keyPrefix"], self.instance_id, seq)
        fields = [(name, key if name == "key" else value) for name, value in self.target["fields"]]
        if "key" not in [name for name, _ in fields]:
            fields.append(("key", key))
        boundary = base64.b16encode(os.urandom(16)).lower()
        data = bytearray()
        for name, value in fields:
            data += b"--" + boundary + b'\r\nContent-Disposition: form-data; name="' + name.encode("utf-8") + b'"\r\n\r\n'
            data += value.encode("utf-8") + b"\r\n"
        data += b"--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="output"\r\n'
        data += b"Content-Type: application/octet-stream\r\n\r\n" + body + b"\r\n--" + boundary + b"--\r\n"
        request = urllib.request.Request(self.target["url"], data=bytes(data), method="POST")
        request.add_header("Content-Type", "multipart/form-data; boundary=" + boundary.decode("ascii"))
        response = urllib.request.urlopen(request, timeout=timeout)
        response.read()
        response.close()


def renew(instance_id):
    """A renewal command: hands a fresh upload policy to the running wrapper, or, when the wrapper has
    ended, uploads what it kept in its spool itself."""
    spool = Spool(instance_id)
    if spool.memory is not None:
        return 0
    started = os.path.exists(spool.path("active"))
    if spool.unreachable():
        print("ec2-runner: this instance cannot reach S3, so the run has no live output to renew (its output is SSM's own)")
        return 0
    if SPEC.get("download"):
        spool.offer_download(SPEC["download"])
    spool.offer_policy(SPEC["output"])
    deadline = time.time() + RENEW_HANDOVER_SECONDS
    while time.time() < deadline:
        if not spool.policy_offered():
            print("ec2-runner: upload policy handed to the running wrapper")
            return 0
        if started and spool.lock(False):
            channel = Channel(SPEC["output"], instance_id, spool, background=False)
            waiting = len(spool.pending())
            left = channel.upload()
            print("ec2-runner: uploaded %d kept live output object(s), %d left" % (waiting - left, left))
            if not left and spool.ended():
                spool.remove()
            return 0 if not left else 1
        if not started:
            print("ec2-runner: the run has not started here yet; its upload policy waits for it")
            return 0
        time.sleep(0.2)
    print("ec2-runner: the running wrapper did not take the upload policy")
    return 1


def hash_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_presigned(url, path):
    renewed = []
    def attempt():
        # A short wait for the first answer (S3 unreachable fails fast), then a normal one for the body.
        response = urllib.request.urlopen(renewed[0] if renewed else url, timeout=S3_DOWNLOAD_FIRST_CONTACT_SECONDS)
        try:
            try:
                response.fp.raw._sock.settimeout(60)
            except AttributeError:
                pass
            with open(path, "wb") as out:
                shutil.copyfileobj(response, out, 1 << 20)
        finally:
            response.close()
    try:
        fails_fast = lambda e: is_permanent(e) or is_unreachable(e)
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
        if is_unreachable(error):
            raise Failure("cannot reach S3 from this instance (no answer within %d s) to fetch the file to run: %s; a single file small enough to travel in the command needs no S3" % (S3_DOWNLOAD_FIRST_CONTACT_SECONDS, S3_ROUTE_FIX))
        hint = {403: " (the presigned URL expired or was refused: run again)", 404: " (the staged file is gone: run again to stage it)"}
        raise Failure("download failed: %s%s" % (http_reason(error), hint.get(getattr(error, "code", None), "")))


def download_with_role(fetch, path, env):
    aws = find_executable(b"aws", env)
    if not aws:
        raise Failure("download failed: the aws CLI is not on this instance's PATH (needed by the instance-role transfer mode; install it or use presigned transfer)")
    child = subprocess.Popen([aws, b"s3", b"cp", b"--only-show-errors", b"--region", fetch["region"].encode("utf-8"), fetch["s3Uri"].encode("utf-8"), path],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    output = child.communicate()[0].decode("utf-8", "replace").strip().splitlines()
    if child.returncode != 0:
        raise Failure("download failed: aws s3 cp exited %d: %s (the instance role needs s3:GetObject on the staged object)" % (child.returncode, output[-1] if output else "no output"))


def find_executable(name, env):
    if b"/" in name:
        return name if os.path.isfile(name) and os.access(name, os.X_OK) else None
    for folder in env.get(b"PATH", b"/usr/local/bin:/usr/bin:/bin").split(b":"):
        candidate = os.path.join(folder or b".", name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


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
    env = dict((name, value) for name, value in os.environb.items() if not name.startswith(b"ec2r_"))  # the command text's own
    env[b"PYTHONUNBUFFERED"] = b"1"
    for name, value in SPEC["env"]:
        env[name.encode("utf-8")] = value.encode("utf-8")
    env[b"EC2_RUNNER_RESULT"] = os.path.join(tmp, b"result.json")
    env[b"EC2_RUNNER_RUN_ID"] = SPEC["runId"].encode("utf-8")
    env[b"EC2_RUNNER_ARTIFACTS"] = os.path.join(tmp, b"artifacts")
    os.mkdir(env[b"EC2_RUNNER_ARTIFACTS"], 0o700)
    return env


def tell(channel, message):
    """A line for the user on stderr, live and in SSM's output."""
    note(message)
    channel.add(b"e", ("ec2-runner: %s\n" % message).encode("utf-8"))


def unpack(archive_path, dest):
    import tarfile
    root = os.path.realpath(os.fsdecode(dest))
    try:
        with tarfile.open(os.fsdecode(archive_path), "r:gz") as archive:
            members = archive.getmembers()
            for member in members:
                target = os.path.realpath(os.path.join(root, member.name))
                if member.name.startswith("/") or ".." in member.name.split("/") or not target.startswith(root + os.sep):
                    raise Failure("unsafe path in the project archive: %r (refusing to unpack it)" % member.name)
                if not (member.isfile() or member.isdir()):
                    raise Failure("the project archive holds a link or special file: %r (refusing to unpack it)" % member.name)
            if hasattr(tarfile, "data_filter"):
                archive.extractall(root, members, filter="data")
            else:
                archive.extractall(root, members)
    except (tarfile.TarError, EOFError, OSError) as error:
        raise Failure("could not unpack the project archive: %s" % error)


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
    """(the bytes that key the venv, pip's arguments, what to call them) for the requirements file or the pyproject dependencies."""
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
        raise Failure("interpreter not found: %s (install it on the instance or choose another interpreter)" % python.decode("utf-8", "replace"), EXIT_NOT_FOUND)
    identity = subprocess.check_output([python, b"-c", b"import sys; sys.stdout.write(sys.version + sys.prefix)"], env=env, stdin=subprocess.DEVNULL)
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
            install_step([python, b"-m", b"venv", venv], project, env, channel, " (python -m venv; on Debian/Ubuntu install python3-venv)")
            pip_env = dict(env)
            pip_env[b"PIP_DISABLE_PIP_VERSION_CHECK"] = b"1"
            install_step([os.path.join(venv, b"bin", b"python"), b"-m", b"pip", b"install", b"--no-input"] + pip_args, project, pip_env, channel, "")
        except BaseException:
            shutil.rmtree(os.fsdecode(venv), ignore_errors=True)
            raise
        with open(os.path.join(venv, VENV_MARKER), "wb") as marker:
            marker.write(requirements)
        return venv


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
        raise Failure("checksum mismatch: expected %s got %s (the staged file changed after upload; run again)" % (staged["sha256"], actual))
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
        raise Failure("interpreter not found: %s (install it on the instance or choose another interpreter)" % SPEC["interpreter"][0], EXIT_NOT_FOUND)
    return argv + [path] + [arg.encode("utf-8") for arg in SPEC["args"]], cwd


def supervise(argv, cwd, env, channel, stdout_letter=b"o"):
    try:
        child = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as error:
        raise Failure("could not start %s: %s" % (argv[0].decode("utf-8", "replace"), error.strerror), EXIT_CANNOT_START)
    def forward(received, _frame):
        try:
            child.send_signal(received)
        except OSError:
            pass  # already gone
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(number, forward)
    streams = {child.stdout.fileno(): (stdout_letter, 1 if stdout_letter == b"o" else 2), child.stderr.fileno(): (b"e", 2)}
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
        try:
            with open("/proc/%d/stat" % pid, "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
            if int(fields[2]) != own_group:
                break
            pid = int(fields[1])
        except (OSError, IndexError, ValueError):
            break
    members = []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) not in keep:
            try:
                if os.getpgid(int(name)) == own_group:
                    members.append(int(name))
            except OSError:
                pass
    return members


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
            if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and time.time() - info.st_mtime > STALE_TEMP_SECONDS:
                shutil.rmtree(path, ignore_errors=True)
    except Exception:
        pass  # housekeeping must never stop a run


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
        tell(channel, "artifacts not shipped: %d files, over the %d-file limit; write fewer (e.g. one archive) to $EC2_RUNNER_ARTIFACTS" % (len(files), ARTIFACTS_MAX_FILES))
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
        biggest = ", ".join("%s (%d bytes)" % (r.decode("utf-8", "replace"), n) for r, n, _ in sorted(files, key=lambda f: -f[1])[:3])
        tell(channel, "artifacts not shipped: %d file(s), %d bytes, over the %d-byte limit (biggest: %s); write less to $EC2_RUNNER_ARTIFACTS" % (len(files), total, ARTIFACTS_MAX_BYTES, biggest))
        return
    channel.add(b"a", buffer.getvalue(), urgent=True)


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
        note("live output is off: this SSM agent does not say which instance this is (no AWS_SSM_INSTANCE_ID; update the agent); the output is SSM's own")
    channel = Channel(SPEC.get("output") if instance_id else None, instance_id)
    sweep_stale_temp_dirs()  # before the script: beside it, it would hold the GIL when a short script ends
    tmp_name = tempfile.mkdtemp(prefix="ec2-runner-")
    tmp = os.fsencode(tmp_name)
    cwd = SPEC["cwd"].encode("utf-8") if SPEC.get("cwd") else (os.path.join(tmp, b"project") if SPEC.get("archive") else tmp)
    channel.add(b"S", json.dumps({"pid": os.getpid(), "pythonVersion": "%d.%d.%d" % sys.version_info[:3], "cwd": cwd.decode("utf-8", "replace"), "instanceId": instance_id}).encode("utf-8"))
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
        note("S3 did not answer within %d s, so there was no live output: this output is SSM's own (the first 24,000 characters of stdout and 8,000 of stderr); for live output and projects, %s" % (S3_FIRST_CONTACT_SECONDS, S3_ROUTE_FIX))
    if code == AGENT_REBOOT_CODE:
        note(REBOOT_CODE_NOTE[len("ec2-runner: "):])
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
