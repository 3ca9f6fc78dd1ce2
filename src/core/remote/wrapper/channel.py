# The live-output channel: frames (remote/frames.ts reads them) batched into numbered objects
# (remote/chunkKeys.ts) and uploaded in order by presigned POST from a background thread.
import base64, os, struct, threading, time
import urllib.request
from .values import (
    CLOSE_SECONDS, FIRST_FLUSH_SECONDS, FIRST_OUTPUT_GATHER_SECONDS, FLUSH_BYTES, FLUSH_SECONDS,
    HOLD_AFTER_EXIT_SECONDS, MAX_PENDING_BYTES, OBJECT_BYTES, S3_FIRST_CONTACT_SECONDS, SPOOL_CHECK_SECONDS,
    STALLED_CLOSE_SECONDS, STALLED_RETRY_SECONDS, UPLOAD_ATTEMPTS, UPLOAD_BURST, UPLOAD_GAP,
)
from .failures import http_reason, is_permanent, note, with_retries
from .s3route import Route
from .spool import Spool


def chunk_key(key_prefix, instance_id, seq):
    """The live-output object's key: sequence numbers sort as keys (remote/chunkKeys.ts reads them)."""
    return "%s%s/%08d" % (key_prefix, instance_id, seq)


def frame(letter, payload):
    return letter + struct.pack(">I", len(payload)) + bytes(payload)


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
        self.unreachable = False  # no route to S3 showed within S3_FIRST_CONTACT_SECONDS of the first upload
        self.route = Route()
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
            note("%d live output object(s) are kept on this instance until the client renews the upload policy"
                 " (ec2-runner status or attach does it)" % left)

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
        # A refused upload waits briefly for a renewed policy; one that failed for a network reason (a busy or
        # briefly unreachable S3) keeps retrying with the policy it has, until close() stops waiting.
        refused = self.retry_at == float("inf")
        return bool(self.stalled) and refused and time.time() - self.closed_at >= STALLED_CLOSE_SECONDS

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
            first_contact = not (self.contacted or self.route.known)
            try:
                if first_contact:
                    # A few seconds to show a route to S3: an instance without one falls back to SSM's output at
                    # once; S3's answer itself may take longer (a busy S3 is not a missing route).
                    with_retries(lambda: self.post(seq, body, S3_FIRST_CONTACT_SECONDS), UPLOAD_ATTEMPTS,
                                 lambda e: is_permanent(e) or self.route.unreachable(e))
                else:
                    with_retries(lambda: self.post(seq, body), UPLOAD_ATTEMPTS)
            except Exception as error:
                if first_contact and self.route.unreachable(error):
                    self.unreachable = True  # said once, at the end (main), or by the renewal command
                    return len(waiting) - index
                if not self.stalled:
                    note("live output upload refused (%s); output is kept on this instance until the upload is"
                         " renewed" % http_reason(error))
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

    def post(self, seq, body, route_seconds=60):
        key = chunk_key(self.target["keyPrefix"], self.instance_id, seq)
        fields = [(name, key if name == "key" else value) for name, value in self.target["fields"]]
        if "key" not in [name for name, _ in fields]:
            fields.append(("key", key))
        boundary = base64.b16encode(os.urandom(16)).lower()
        data = bytearray()
        for name, value in fields:
            data += b"--" + boundary + b'\r\nContent-Disposition: form-data; name="' + name.encode("utf-8")
            data += b'"\r\n\r\n'
            data += value.encode("utf-8") + b"\r\n"
        data += b"--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="output"\r\n'
        data += b"Content-Type: application/octet-stream\r\n\r\n" + body + b"\r\n--" + boundary + b"--\r\n"
        request = urllib.request.Request(self.target["url"], data=bytes(data), method="POST")
        request.add_header("Content-Type", "multipart/form-data; boundary=" + boundary.decode("ascii"))
        response = self.route.open(request, 60, route_seconds)
        response.read()
        response.close()


def tell(channel, message):
    """A line for the user on stderr, live and in SSM's output."""
    note(message)
    channel.add(b"e", ("ec2-runner: %s\n" % message).encode("utf-8"))
