"""Unit tests of the instance-side wrapper's pure parts (the package src/core/remote/wrapper), run with
python3's unittest by test/unit/remote-wrapper-python.test.ts (and by hand: python3 -m unittest discover -s
test/python). The wrapper's modules are imported as a package: its main() runs only as a program."""
import io
import os
import shutil
import socket
import struct
import sys
import tempfile
import threading
import time
import unittest
import urllib.error

REMOTE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "core", "remote")
sys.dont_write_bytecode = True  # no __pycache__ beside the source
sys.path.insert(0, REMOTE_DIR)
from wrapper import channel as channel_module, failures, spool as spool_module, supervise, values  # noqa: E402


def replace_spec(spec):
    """Sets the run spec that every module sees (one dict, changed in place); returns the one it replaced."""
    old = dict(values.SPEC)
    values.SPEC.clear()
    values.SPEC.update(spec)
    return old


def http_error(code):
    return urllib.error.HTTPError("https://bucket.s3.amazonaws.com/", code, "status %d" % code, {}, io.BytesIO(b""))


class FrameTests(unittest.TestCase):
    def test_a_frame_is_its_letter_a_big_endian_length_and_the_payload(self):
        self.assertEqual(channel_module.frame(b"o", b"hi\n"), b"o\x00\x00\x00\x03hi\n")
        self.assertEqual(channel_module.frame(b"x", b""), b"x\x00\x00\x00\x00")

    def test_frames_follow_each_other_and_decode_in_order(self):
        frame = channel_module.frame
        body = frame(b"o", b"out") + frame(b"e", bytearray(b"err")) + frame(b"x", b"0")
        decoded, at = [], 0
        while at < len(body):
            (length,) = struct.unpack(">I", body[at + 1:at + 5])
            decoded.append((body[at:at + 1], body[at + 5:at + 5 + length]))
            at += 5 + length
        self.assertEqual(decoded, [(b"o", b"out"), (b"e", b"err"), (b"x", b"0")])

    def test_a_payload_keeps_every_byte(self):
        payload = bytes(range(256)) * 3
        self.assertEqual(channel_module.frame(b"o", payload)[5:], payload)


class ChunkKeyTests(unittest.TestCase):
    def test_the_key_is_prefix_instance_and_an_eight_digit_sequence_number(self):
        self.assertEqual(channel_module.chunk_key("ec2-runner/runs/0123456789abcdef/", "i-0123456789abcdef0", 7),
                         "ec2-runner/runs/0123456789abcdef/i-0123456789abcdef0/00000007")

    def test_keys_sort_in_sequence_order_as_s3_lists_them(self):
        seqs = [0, 1, 9, 10, 99, 100, 12345, 99999999]
        keys = [channel_module.chunk_key("p/", "i-0abc", seq) for seq in seqs]
        self.assertEqual(sorted(keys), keys)


class SpoolTests(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="wrapper-test-")
        self.saved = (replace_spec({"runId": "0123456789abcdef"}), tempfile.tempdir)
        tempfile.tempdir = self.tmp

    def tearDown(self):
        replace_spec(self.saved[0])
        tempfile.tempdir = self.saved[1]
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_objects_are_kept_until_acknowledged_and_listed_in_sequence_order(self):
        spool = spool_module.Spool("i-0123456789abcdef0")
        self.assertIsNone(spool.memory)
        spool.put(1, b"second")
        spool.put(0, b"first")
        self.assertEqual(spool.pending(), [0, 1])
        self.assertEqual(spool.read(0), b"first")
        spool.ack(0)
        self.assertEqual(spool.pending(), [1])
        self.assertEqual(spool.read(1), b"second")

    def test_the_spool_is_private_to_the_run_and_the_instance(self):
        spool = spool_module.Spool("i-0123456789abcdef0/../x")
        self.assertEqual(os.path.dirname(spool.dir), self.tmp)
        self.assertEqual(os.path.basename(spool.dir), "ec2-runner-spool-0123456789abcdef-i-0123456789abcdef0____x")
        self.assertEqual(os.stat(spool.dir).st_mode & 0o777, 0o700)

    def test_one_process_holds_the_run_s_lock(self):
        first, second = spool_module.Spool("i-0abc"), spool_module.Spool("i-0abc")
        self.assertTrue(first.lock(False))
        try:
            self.assertFalse(second.lock(False))
        finally:
            first.lock_handle.close()
        self.assertTrue(second.lock(False), "free again once the holder is gone")
        second.lock_handle.close()

    def test_without_a_usable_disk_the_spool_keeps_objects_in_memory(self):
        blocker = os.path.join(self.tmp, "a-file")
        open(blocker, "w").close()
        tempfile.tempdir = blocker  # a file where the spool's parent directory should be (even root cannot)
        spool = spool_module.Spool("i-0abc")
        self.assertEqual(spool.memory, {})
        spool.put(0, b"kept")
        self.assertEqual((spool.pending(), spool.read(0)), ([0], b"kept"))


class CountingCondition(object):
    """A threading.Condition that counts the uploader's sleeps."""

    def __init__(self):
        self.inner = threading.Condition()
        self.waits = 0

    def __enter__(self):
        return self.inner.__enter__()

    def __exit__(self, *args):
        return self.inner.__exit__(*args)

    def wait(self, timeout=None):
        self.waits += 1
        return self.inner.wait(timeout)

    def notify_all(self):
        self.inner.notify_all()


class ChannelWakeUpTests(unittest.TestCase):
    """An idle wrapper sleeps: hundreds of them share a fleet simulation's CPUs, and each real instance's."""

    def setUp(self):
        self.saved = replace_spec({"runId": "0123456789abcdef"})
        self.tmp = tempfile.mkdtemp(prefix="wrapper-test-")
        self.saved_tempdir, tempfile.tempdir = tempfile.tempdir, self.tmp
        target = {"url": "http://127.0.0.1:9/", "fields": [], "keyPrefix": "p/"}
        self.channel = channel_module.Channel(target, "i-0abc", background=False)
        self.channel.cond = CountingCondition()

    def tearDown(self):
        replace_spec(self.saved)
        tempfile.tempdir = self.saved_tempdir
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_an_idle_uploader_sleeps_until_its_next_spool_check(self):
        channel = self.channel
        thread = threading.Thread(target=channel.run)
        thread.start()
        time.sleep(1.0)
        with channel.cond:
            channel.closing, channel.closed_at = True, time.time()
            channel.cond.notify_all()
        thread.join(5)
        self.assertFalse(thread.is_alive())
        # One sleep per spool check (every SPOOL_CHECK_SECONDS), where polling every 50 ms took 20.
        self.assertLessEqual(channel.cond.waits, 2 / values.SPOOL_CHECK_SECONDS + 2)

    def test_pending_output_is_due_after_its_flush_time_and_new_output_wakes_the_uploader(self):
        channel = self.channel
        channel.checked_at = time.time()
        self.assertGreater(channel.idle_seconds(), values.SPOOL_CHECK_SECONDS / 2)
        woke = []

        def sleeper():
            with channel.cond:
                started = time.time()
                channel.cond.wait(5)
                woke.append(time.time() - started)

        thread = threading.Thread(target=sleeper)
        thread.start()
        time.sleep(0.1)
        channel.add(b"o", b"first line\n")
        thread.join(5)
        self.assertLess(woke[0], 1.0, "the first output wakes a sleeping uploader")
        self.assertLessEqual(channel.idle_seconds(), values.FLUSH_SECONDS)


class BackoffTests(unittest.TestCase):
    def setUp(self):
        self.sleeps = []
        self.clock = [1000.0]
        self.saved = (time.sleep, time.time)
        time.sleep = lambda seconds: (self.sleeps.append(seconds), self.clock.__setitem__(0, self.clock[0] + seconds))
        time.time = lambda: self.clock[0]

    def tearDown(self):
        time.sleep, time.time = self.saved

    def failing(self, errors, value="done"):
        calls = []

        def action():
            calls.append(1)
            if len(calls) <= len(errors):
                raise errors[len(calls) - 1]
            return value
        return action, calls

    def test_transient_failures_are_retried_with_jittered_doubling_delays(self):
        action, calls = self.failing([ConnectionResetError(), ConnectionResetError(), ConnectionResetError()])
        self.assertEqual(failures.with_retries(action, 6), "done")
        self.assertEqual(len(calls), 4)
        for delay, base in zip(self.sleeps, [0.25, 0.5, 1.0]):
            self.assertTrue(0.5 * base <= delay <= 1.5 * base, (delay, base))

    def test_the_delay_stops_growing_at_its_maximum(self):
        action, _ = self.failing([ConnectionResetError()] * 9)
        failures.with_retries(action, 10)
        self.assertTrue(max(self.sleeps) <= 1.5 * values.BACKOFF_MAX_SECONDS)

    def test_the_last_attempt_s_error_is_raised(self):
        action, calls = self.failing([ConnectionResetError()] * 6)
        with self.assertRaises(ConnectionResetError):
            failures.with_retries(action, 3)
        self.assertEqual(len(calls), 3)

    def test_a_refusal_is_not_retried(self):
        action, calls = self.failing([http_error(403)])
        with self.assertRaises(urllib.error.HTTPError):
            failures.with_retries(action, 6)
        self.assertEqual((len(calls), self.sleeps), (1, []))

    def test_slow_down_does_not_use_up_the_attempts(self):
        action, calls = self.failing([http_error(503)] * 10 + [http_error(429)])
        self.assertEqual(failures.with_retries(action, 2), "done")
        self.assertEqual(len(calls), 12)

    def test_slow_down_for_longer_than_its_limit_is_raised(self):
        action, _ = self.failing([http_error(503)] * 1000)
        with self.assertRaises(urllib.error.HTTPError):
            failures.with_retries(action, 2)
        limit = values.THROTTLED_SECONDS
        self.assertTrue(limit <= sum(self.sleeps) <= limit + 1.5 * values.BACKOFF_MAX_SECONDS)

    def test_give_up_decides_which_errors_end_at_once(self):
        action, calls = self.failing([urllib.error.URLError(socket.timeout("timed out"))])
        with self.assertRaises(urllib.error.URLError):
            failures.with_retries(action, 6, lambda e: failures.is_permanent(e) or failures.is_unreachable(e))
        self.assertEqual(len(calls), 1)


class ErrorKindTests(unittest.TestCase):
    def test_permanent_throttled_and_unreachable(self):
        self.assertTrue(failures.is_permanent(http_error(403)))
        self.assertFalse(failures.is_permanent(http_error(429)))
        self.assertFalse(failures.is_permanent(http_error(500)))
        self.assertTrue(failures.is_throttled(http_error(503)))
        self.assertFalse(failures.is_throttled(http_error(500)))
        self.assertTrue(failures.is_unreachable(urllib.error.URLError(socket.timeout("timed out"))))
        self.assertTrue(failures.is_unreachable(urllib.error.URLError(ConnectionRefusedError())))
        self.assertFalse(failures.is_unreachable(http_error(503)))
        self.assertFalse(failures.is_unreachable(ConnectionResetError()))


class GatherTests(unittest.TestCase):
    """When the channel uploads: the first output after FIRST_OUTPUT_GATHER_SECONDS (the start frame
    waits FIRST_FLUSH_SECONDS for it), later output after FLUSH_SECONDS; once the script has exited,
    its last output waits for the exit frame."""

    def setUp(self):
        self.now = 0.0
        self.saved = time.time
        time.time = lambda: self.now
        target = {"url": "https://bucket.s3.amazonaws.com/", "fields": [], "keyPrefix": "p/"}
        self.channel = channel_module.Channel(target, "i-0123456789abcdef0", spool=object(), background=False)

    def tearDown(self):
        time.time = self.saved

    def take(self):
        with self.channel.cond:  # the uploader takes under the lock
            return self.channel.take()

    def letters(self, body):
        found, at = [], 0
        while at < len(body):
            (length,) = struct.unpack(">I", body[at + 1:at + 5])
            found.append(body[at:at + 1])
            at += 5 + length
        return found

    def test_the_start_frame_waits_briefly_for_the_first_line_which_goes_almost_at_once_with_it(self):
        channel = self.channel
        channel.add(b"S", b"{}")
        self.assertFalse(channel.ready(), "the start frame is not urgent")
        self.now += values.FIRST_FLUSH_SECONDS / 2
        channel.add(b"o", b"first\n")
        self.assertFalse(channel.ready(), "the first output gathers a moment for what follows it")
        self.now += values.FIRST_OUTPUT_GATHER_SECONDS
        self.assertTrue(channel.ready(), "then it goes, before the start frame's own wait is over")
        self.assertLess(values.FIRST_OUTPUT_GATHER_SECONDS, values.FIRST_FLUSH_SECONDS)
        self.assertEqual(self.letters(self.take()), [b"S", b"o"])

    def test_after_the_script_exits_its_last_output_travels_with_the_exit_frame(self):
        channel = self.channel
        channel.add(b"o", b"last line\n")
        channel.hold()  # the script exited (supervise_streams)
        self.now += values.FIRST_OUTPUT_GATHER_SECONDS + 0.001
        self.assertFalse(channel.ready(), "held for the exit frame")
        channel.add(b"x", b"0", urgent=True)
        self.assertTrue(channel.ready())
        self.assertEqual(self.letters(self.take()), [b"o", b"x"])

    def test_a_hold_ends_on_its_own(self):
        channel = self.channel
        channel.hold()  # e.g. a dependency install step ended and the next one prints
        channel.add(b"e", b"next step\n")
        self.now += values.HOLD_AFTER_EXIT_SECONDS - 0.001
        self.assertFalse(channel.ready())
        self.now += 0.002
        self.assertTrue(channel.ready())

    def test_after_the_first_output_output_gathers_for_the_whole_flush_time(self):
        channel = self.channel
        channel.add(b"o", b"first\n")
        self.now += values.FIRST_OUTPUT_GATHER_SECONDS
        self.assertTrue(channel.ready())
        self.take()
        channel.add(b"o", b"second\n")
        self.now += values.FIRST_FLUSH_SECONDS
        self.assertFalse(channel.ready(), "later output gathers longer (fewer, bigger objects)")
        self.now += values.FLUSH_SECONDS - values.FIRST_FLUSH_SECONDS + 0.001
        self.assertTrue(channel.ready())

    def test_a_start_frame_alone_goes_after_the_brief_gather(self):
        channel = self.channel
        channel.add(b"S", b"{}")
        self.now += values.FIRST_FLUSH_SECONDS + 0.001
        self.assertTrue(channel.ready(), "a script silent at first still shows it started")
        self.assertEqual(self.letters(self.take()), [b"S"])


@unittest.skipUnless(os.path.isdir("/proc"), "Linux only: the leftover check reads /proc")
class LeftoverTests(unittest.TestCase):
    """What the end-of-run check takes for leftovers of the script in the wrapper's process group."""

    def test_a_running_process_is_a_leftover_and_a_zombie_is_not(self):
        # The shell that execs the wrapper leaves it a zombie child (its heredoc writer): signalling it does
        # nothing, so counting it made every run wait the whole grace period.
        zombie = os.fork()
        if zombie == 0:
            os._exit(0)
        running = os.fork()
        if running == 0:
            time.sleep(30)
            os._exit(0)
        try:
            deadline = time.time() + 5
            while time.time() < deadline and supervise.proc_stat(zombie)[0] != b"Z":
                time.sleep(0.01)
            members = supervise.group_members()
            self.assertIn(running, members)
            self.assertNotIn(zombie, members)
            self.assertNotIn(os.getpid(), members)
        finally:
            os.kill(running, 9)
            os.waitpid(running, 0)
            os.waitpid(zombie, 0)


if __name__ == "__main__":
    unittest.main()
