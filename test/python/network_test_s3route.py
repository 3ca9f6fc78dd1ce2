"""The wrapper's first contact with S3 (src/core/remote/wrapper/s3route.py): an instance without a route to S3
falls back within the short wait, and an S3 that is reached but answers late is not taken for a missing route
(a 1,000-instance fleet on the sandbox: hundreds of wrappers once fell back to SSM's output that way)."""
import os
import socket
import sys
import threading
import time
import unittest

REMOTE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "core", "remote")
sys.dont_write_bytecode = True
sys.path.insert(0, REMOTE_DIR)
from wrapper import s3route  # noqa: E402

# Generous for a busy machine (the suite runs beside the integration tests): a local connection or answer
# takes milliseconds.
ROUTE_SECONDS = 1.0
ANSWER_SECONDS = 6.0


class Listener(object):
    """A local server: `answer_after` seconds after a request it answers 200 (None: it never answers)."""

    def __init__(self, answer_after=None, backlog=16):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(backlog)
        self.port = self.sock.getsockname()[1]
        self.url = "http://127.0.0.1:%d/bucket/key" % self.port
        self.held = []
        self.answer_after = answer_after
        self.accepting = backlog > 0
        if self.accepting:
            threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)
            threading.Thread(target=self.answer, args=(conn,), daemon=True).start()

    def answer(self, conn):
        try:
            conn.recv(65536)
            if self.answer_after is None:
                return
            time.sleep(self.answer_after)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        except OSError:
            pass

    def close(self):
        for conn in self.held:
            conn.close()
        self.sock.close()


def unroutable():
    """A host whose connections are never completed, like S3 from a subnet without a route: a listener
    with a full backlog that never accepts (the kernel drops further SYNs)."""
    listener = Listener(backlog=0)
    filler = socket.create_connection(("127.0.0.1", listener.port), 1)
    listener.held.append(filler)
    return listener


def timed_open(route, url):
    started = time.time()
    try:
        response = route.open(url, ANSWER_SECONDS, ROUTE_SECONDS)
        return response.read(), None, time.time() - started
    except Exception as error:  # noqa: BLE001 - the test looks at the error itself
        return None, error, time.time() - started


class RouteTests(unittest.TestCase):
    def setUp(self):
        self.saved = {name: os.environ.pop(name) for name in list(os.environ) if name.lower().endswith("_proxy")}

    def tearDown(self):
        for name in list(os.environ):
            if name.lower().endswith("_proxy"):
                del os.environ[name]
        os.environ.update(self.saved)

    def test_no_connection_within_the_short_wait_is_no_route(self):
        s3 = unroutable()
        self.addCleanup(s3.close)
        route = s3route.Route()
        body, error, seconds = timed_open(route, s3.url)
        self.assertIsNone(body)
        self.assertLess(seconds, ROUTE_SECONDS + 1.5)
        self.assertTrue(route.unreachable(error), repr(error))

    def test_a_reached_s3_may_answer_later_than_the_short_wait(self):
        s3 = Listener(answer_after=ROUTE_SECONDS * 3)
        self.addCleanup(s3.close)
        route = s3route.Route()
        body, error, _ = timed_open(route, s3.url)
        self.assertIsNone(error)
        self.assertEqual(body, b"ok")
        self.assertTrue(route.known)

    def test_a_reached_s3_that_never_answers_times_out_later_and_is_not_a_missing_route(self):
        s3 = Listener(answer_after=None)
        self.addCleanup(s3.close)
        route = s3route.Route()
        _, error, seconds = timed_open(route, s3.url)
        self.assertIsNotNone(error)
        self.assertGreaterEqual(seconds, ANSWER_SECONDS - 0.5)
        self.assertFalse(route.unreachable(error), "a connection to S3 proves a route")

    def test_through_a_plain_http_proxy_only_an_answer_proves_a_route(self):
        # The proxy itself always takes the connection: one that never answers is the sandbox's model of
        # an instance without a route (src/sandbox/blackHole.ts).
        proxy = Listener(answer_after=None)
        s3 = Listener(answer_after=0)
        self.addCleanup(proxy.close)
        self.addCleanup(s3.close)
        os.environ["http_proxy"] = "http://127.0.0.1:%d" % proxy.port
        route = s3route.Route()
        _, error, seconds = timed_open(route, s3.url)
        self.assertLess(seconds, ROUTE_SECONDS + 1.5)
        self.assertTrue(route.unreachable(error), repr(error))

    def test_a_proxy_that_answers_proves_a_route(self):
        proxy = Listener(answer_after=ROUTE_SECONDS * 3)
        self.addCleanup(proxy.close)
        os.environ["http_proxy"] = "http://127.0.0.1:%d" % proxy.port
        route = s3route.Route()
        body, error, _ = timed_open(route, "http://s3.example.invalid/bucket/key")
        self.assertIsNone(body, "the answer comes after the short wait: through a plain proxy that is no route")
        self.assertTrue(route.unreachable(error), repr(error))
        quick = Listener(answer_after=0)
        self.addCleanup(quick.close)
        os.environ["http_proxy"] = "http://127.0.0.1:%d" % quick.port
        body, error, _ = timed_open(route, "http://s3.example.invalid/bucket/key")
        self.assertEqual(body, b"ok")
        self.assertTrue(route.known)


if __name__ == "__main__":
    unittest.main()
