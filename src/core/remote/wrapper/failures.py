# Failures and retries: the error that stops a run before its script (with the wrapper's exit code), the
# note for the user, and how an S3 error is told apart (refused, throttled, unreachable) and retried.
import errno, random, re, socket, sys, time
import urllib.error
from .values import BACKOFF_MAX_SECONDS, EXIT_NOT_RUN, THROTTLED_SECONDS


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
    url_error = isinstance(error, urllib.error.URLError) and not isinstance(error, urllib.error.HTTPError)
    reason = error.reason if url_error else error
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
