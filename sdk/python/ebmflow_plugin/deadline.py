"""The caller's deadline of the call a plugin is running.

Every tensor call arrives with its caller's deadline (a channel record
carries it, a gRPC call has its own). The SDK refuses a call whose deadline
has passed before it starts, on arrival and again when the plugin's thread
takes it up (a call may wait there behind another), with ``DeadlineExceeded``:
the caller sees the status the Go SDK gives ``context.DeadlineExceeded``. A
long computation calls ``check_deadline()`` where it can stop cleanly (between
chunks, before it changes its state), as a Go plugin checks ``ctx.Err()``.
"""

import threading
import time

from .errors import DeadlineExceeded

_local = threading.local()


def time_left():
    """Seconds left before the running call's deadline (negative once it
    has passed), or None when the call has none or the thread runs none."""
    d = getattr(_local, "deadline", None)
    return None if d is None else d - time.monotonic()


def check_deadline():
    """Raises DeadlineExceeded if the running call's deadline has passed."""
    d = getattr(_local, "deadline", None)
    if d is not None and time.monotonic() >= d:
        raise DeadlineExceeded()


def current():
    """The running call's deadline on time.monotonic()'s clock, or None."""
    return getattr(_local, "deadline", None)


def from_unix_ns(ns):
    """A request's deadline (Unix nanoseconds, 0 for none) on
    time.monotonic()'s clock, or None."""
    if ns == 0:
        return None
    return time.monotonic() + (ns - time.time_ns()) / 1e9


def from_grpc(context):
    """A gRPC call's deadline on time.monotonic()'s clock, or None."""
    left = context.time_remaining()
    return None if left is None else time.monotonic() + left


def run(deadline, fn, *args):
    """Runs fn(*args) as a call with deadline (None: none) on this thread:
    refused if the deadline has passed, visible to check_deadline() while
    it runs."""
    if deadline is not None and time.monotonic() >= deadline:
        raise DeadlineExceeded()
    prev = getattr(_local, "deadline", None)
    _local.deadline = deadline
    try:
        return fn(*args)
    finally:
        _local.deadline = prev
