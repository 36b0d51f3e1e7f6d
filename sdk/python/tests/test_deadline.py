"""Deadlines within one process: a Python caller's channel call to a
Python callee (real sockets, shared memory and futexes) carries the
deadline of the call the caller is running, and the callee stops at its
next check once it passes."""

import os
import threading
import time
import unittest

import grpc

from ebmflow_plugin import DeadlineExceeded, Energy, LinkError, Tensor, channel, check_deadline, deadline, time_left
from ebmflow_plugin.server import Server


class Slow(Energy):
    name = "slow"
    steps = 300  # 10 ms each: 3 s when nothing stops it

    def __init__(self):
        self.ran, self.outcome, self.done = 0, None, threading.Event()

    def grad(self, x):
        try:
            for _ in range(self.steps):
                check_deadline()
                time.sleep(0.01)
                self.ran += 1
            self.outcome = "finished"
        except DeadlineExceeded:
            self.outcome = "deadline"
            raise
        finally:
            self.done.set()
        return Tensor.from_list([0.0] * x.batch()), x


@unittest.skipUnless(channel.enabled(), "no shared-memory channels here")
class DeadlineTest(unittest.TestCase):
    def test_link_call_carries_the_running_calls_deadline(self):
        impl = Slow()
        ln = channel.listen(Server(impl), os.getpid(), "sampler")
        c = channel.dial(ln.name, os.getpid(), 1 << 20, 0)  # the link itself sets no timeout
        try:
            x = Tensor.from_list([1.0], (1, 1))
            # The caller's own check (its futex sleeps last up to 100 ms)
            # or the callee's answer, whichever comes first.
            with self.assertRaises((DeadlineExceeded, LinkError)) as cm:
                deadline.run(time.monotonic() + 0.3, c.call, "energy", "sampler", "grad", "/ebmflow.v1.Energy/Grad", None, [("x", x)])
            self.assertEqual(cm.exception.code, grpc.StatusCode.DEADLINE_EXCEEDED)
            self.assertTrue(impl.done.wait(60))
            self.assertEqual(impl.outcome, "deadline")
            self.assertLess(impl.ran, Slow.steps)
        finally:
            c.close()
            ln.close()

    def test_outside_a_call(self):
        self.assertIsNone(time_left())
        check_deadline()  # no call, no deadline
        self.assertGreater(deadline.run(time.monotonic() + 60, time_left), 59)
        with self.assertRaises(DeadlineExceeded):
            deadline.run(time.monotonic() - 1, self.fail, "ran past its deadline")
        self.assertIsNone(time_left())


if __name__ == "__main__":
    unittest.main()
