"""The wrapper's channel after the script (src/core/remote/wrapper/channel.py): an upload refused for good waits
briefly for a renewed policy, then leaves its objects in the spool; one that failed for a network reason (a busy
or briefly unreachable S3) keeps retrying with the policy it has, so the output arrives without a renewal."""
import http.server
import os
import shutil
import sys
import tempfile
import threading
import time
import unittest

REMOTE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "core", "remote")
sys.dont_write_bytecode = True
sys.path.insert(0, REMOTE_DIR)
from wrapper import channel as channel_module, values  # noqa: E402

FAST = {"UPLOAD_ATTEMPTS": 1, "STALLED_RETRY_SECONDS": 0.2, "STALLED_CLOSE_SECONDS": 0.3, "CLOSE_SECONDS": 10}


class FlakyS3(object):
    """A presigned-POST endpoint that answers `status` (500: a server error; 403: a refusal) until `recover()`,
    then 204; it keeps the bodies it accepted."""

    def __init__(self, status):
        self.status, self.accepted = status, []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if owner.status == 204:
                    owner.accepted.append(body)
                self.send_response(owner.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d/" % self.server.server_address[1]

    def recover(self):
        self.status = 204

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class CloseTests(unittest.TestCase):
    def setUp(self):
        self.saved_spec = dict(values.SPEC)
        values.SPEC.clear()
        values.SPEC.update({"runId": "0123456789abcdef"})
        self.tmp = tempfile.mkdtemp(prefix="wrapper-close-test-")
        self.saved_tempdir, tempfile.tempdir = tempfile.tempdir, self.tmp
        self.saved_values = {name: getattr(channel_module, name) for name in FAST}
        for name, value in FAST.items():
            setattr(channel_module, name, value)

    def tearDown(self):
        for name, value in self.saved_values.items():
            setattr(channel_module, name, value)
        values.SPEC.clear()
        values.SPEC.update(self.saved_spec)
        tempfile.tempdir = self.saved_tempdir
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_and_close(self, s3, recover_after):
        channel = channel_module.Channel({"url": s3.url, "fields": [], "keyPrefix": "p/"}, "i-0abc")
        self.addCleanup(channel.spool.lock_handle.close)
        channel.add(b"o", b"last line\n")
        channel.add(b"x", b"0", urgent=True)
        threading.Timer(recover_after, s3.recover).start()
        started = time.time()
        channel.close()
        return channel, time.time() - started

    def test_after_a_network_failure_the_last_objects_are_retried_until_they_arrive(self):
        s3 = FlakyS3(500)
        self.addCleanup(s3.close)
        channel, _ = self.run_and_close(s3, recover_after=3.0)  # longer than STALLED_CLOSE_SECONDS
        self.assertEqual(len(s3.accepted), 1)
        self.assertIn(b"last line\n", s3.accepted[0])
        self.assertFalse(os.path.exists(channel.spool.dir), "nothing kept for a renewal")

    def test_after_a_refusal_the_objects_wait_in_the_spool_for_a_renewal(self):
        s3 = FlakyS3(403)
        self.addCleanup(s3.close)
        channel, seconds = self.run_and_close(s3, recover_after=3.0)
        self.assertEqual(s3.accepted, [])
        self.assertLess(seconds, 2.5, "a refused policy does not come back by itself: close does not wait for it")
        self.assertEqual(channel.spool.pending(), [0])
        self.assertTrue(channel.spool.ended())


if __name__ == "__main__":
    unittest.main()
