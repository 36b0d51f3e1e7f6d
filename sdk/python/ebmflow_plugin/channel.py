"""Shared-memory channels (docs/channel.md) in Python, with the same bytes
as internal/channel: the lane layout, the pipes and their words, records;
channel_serve.py is the callee side (serving the host's and linked stages'
calls), channel_dial.py the caller side (a link to another stage).

Linux on x86-64 only (the word protocol relies on its store ordering, with
which plain aligned stores publish a part after its bytes); elsewhere, or
with EBMFLOW_SHM=0, ``enabled()`` is false and every call stays on frames.
This side never trusts the other: every header is read once and checked
against the area and the limits before anything is allocated.
"""

import ctypes
import os
import platform
import struct
import sys
import time

from . import wire
from .errors import Malformed
from .tensor import DTYPES, FLOAT32, FLOAT64, Tensor

MAGIC = b"ebmflow-chan-v1\0"
HEADER = 4096
MIN_AREA, MAX_AREA = 64 << 10, 64 << 20
OFF_REQ, OFF_ANS, OFF_CLOSED = 64, 320, 576
POSTED, TAKEN, READER_WAITS, WRITER_WAITS = 0, 64, 128, 192
SLEEP_NS = 100_000_000  # a waiter re-checks at least every 100 ms
LISTEN_FOR = 120.0
SPIN = float(os.environ.get("EBMFLOW_CHAN_SPIN_US", "100")) / 1e6
BUSY_SPIN = min(10e-6, SPIN)  # of which spent without yielding the core
_DT = {1: FLOAT32, 2: FLOAT64}
# A tensor whose dtype has this bit carries u32 pad and pad bytes before its
# data (docs/channel.md); this SDK reads them and never writes them.
_ALIGNED = 0x100
_DT_CODE = {FLOAT32: 1, FLOAT64: 2}
_PART = struct.Struct("<IIQ")
_U32, _I64, _U64 = struct.Struct("<I"), struct.Struct("<q"), struct.Struct("<Q")

_libc = ctypes.CDLL(None, use_errno=True)
_SYS_FUTEX = 202  # x86-64
_FUTEX_WAIT, _FUTEX_WAKE = 0, 1


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


_SLEEP = _Timespec(0, SLEEP_NS)


def enabled():
    """Whether this process can serve and dial channels."""
    return (sys.platform.startswith("linux") and platform.machine() in ("x86_64", "AMD64")
            and sys.byteorder == "little" and os.environ.get("EBMFLOW_SHM") != "0")


class Gone(Exception):
    """The peer process ended, or the lane was abandoned."""


class _Pipe:
    """One direction of a lane: an area and its four words."""

    def __init__(self, mm, words, area, size):
        self.mm, self.area, self.size = mm, area, size
        self.w = memoryview(mm)[words:words + 256].cast("I")  # u32 words at 0, 16, 32, 48
        self.addr = ctypes.addressof(ctypes.c_char.from_buffer(mm, words))

    def _wake(self, off):
        _libc.syscall(_SYS_FUTEX, ctypes.c_void_p(self.addr + off), _FUTEX_WAKE, 1 << 30, None, None, 0)

    def _wait(self, off, flag, cond, alive):
        if cond():
            return
        # Busy for the first few µs (the peer is usually about to answer),
        # then yielding the core at every turn, as the Go side does, so
        # that a peer sharing it (more runnable threads than cores) runs.
        t0 = time.monotonic()
        busy, end = t0 + BUSY_SPIN, t0 + SPIN
        while True:
            if cond():
                return
            now = time.monotonic()
            if now >= end:
                break
            if now >= busy:
                os.sched_yield()
        while True:
            v = self.w[off // 4]
            self.w[flag // 4] = 1
            if cond():
                self.w[flag // 4] = 0
                return
            _libc.syscall(_SYS_FUTEX, ctypes.c_void_p(self.addr + off), _FUTEX_WAIT, ctypes.c_uint32(v), ctypes.byref(_SLEEP), None, 0)
            self.w[flag // 4] = 0
            if cond():
                return
            alive()

    def write_parts(self, parts, call_id, alive):
        """Writes a message given as a list of bytes-like pieces: straight
        into the area when it fits in one part, else joined and in parts."""
        cap = self.size - 16
        n = 0
        for b in parts:
            n += len(b)
        if n > cap:
            self.write(b"".join(parts), call_id, alive)
            return
        w, mm = self.w, self.mm
        self._wait(TAKEN, WRITER_WAITS, lambda: w[TAKEN // 4] == w[POSTED // 4], alive)
        _PART.pack_into(mm, self.area, call_id, 1, n)
        o = self.area + 16
        for b in parts:
            k = len(b)
            mm[o:o + k] = b
            o += k
        w[POSTED // 4] = (w[POSTED // 4] + 1) & 0xFFFFFFFF  # only this side writes it
        self._wake(POSTED)

    def write(self, payload, call_id, alive):
        """Writes a message in parts."""
        cap = self.size - 16
        mv = memoryview(payload)
        off, first = 0, True
        while first or off < len(mv):
            first = False
            self._wait(TAKEN, WRITER_WAITS, lambda: self.w[TAKEN // 4] == self.w[POSTED // 4], alive)
            n = min(cap, len(mv) - off)
            last = off + n >= len(mv)
            self.mm[self.area:self.area + 16] = struct.pack("<IIQ", call_id, 1 if last else 0, n)
            self.mm[self.area + 16:self.area + 16 + n] = mv[off:off + n]
            self.w[POSTED // 4] = (self.w[POSTED // 4] + 1) & 0xFFFFFFFF  # only this side writes it
            self._wake(POSTED)
            off += n

    def read(self, call_id, limit, alive, request=False):
        """Reads one message's parts; returns (call id, bytes). call_id None
        takes the first part's. request: the message is a request to this
        callee, whose writer waits for nothing after its last part (its next
        part is the next call's, after this side's answer), so taking the
        last part wakes no one."""
        out = None
        w = self.w
        while True:
            self._wait(POSTED, READER_WAITS, lambda: w[POSTED // 4] != w[TAKEN // 4], alive)
            if (w[POSTED // 4] - w[TAKEN // 4]) & 0xFFFFFFFF != 1:
                raise Malformed("channel: more than one part posted")
            cid, flags, n = _PART.unpack_from(self.mm, self.area)
            if n > self.size - 16 or flags & ~1:
                raise Malformed("channel: bad part header (length %d, flags %d)" % (n, flags))
            if call_id is None:
                call_id = cid
            elif cid != call_id:
                raise Malformed("channel: part of call %d, expected %d" % (cid, call_id))
            if (0 if out is None else len(out)) + n > limit:
                raise Malformed("channel: record exceeds %d bytes" % limit)
            part = self.mm[self.area + 16:self.area + 16 + n]  # a copy: read once
            w[TAKEN // 4] = (w[TAKEN // 4] + 1) & 0xFFFFFFFF
            if not (request and flags & 1):
                self._wake(TAKEN)
            if out is None:
                if flags & 1:
                    return call_id, part  # the usual message of one part
                out = bytearray()
            out += part
            if flags & 1:
                return call_id, bytes(out)


class _Lane:
    """A mapped lane: the request pipe and the answer pipe."""

    def __init__(self, mm, req, ans):
        self.mm = mm
        self.req = _Pipe(mm, OFF_REQ, HEADER, req)
        self.ans = _Pipe(mm, OFF_ANS, HEADER + req, ans)
        self.calls = 0

    def closed(self):
        return struct.unpack_from("<I", self.mm, OFF_CLOSED)[0] != 0


# -- records ---------------------------------------------------------------

class _Reader:
    """Parses a record (a private copy) without copying its fields: takes
    are views into it."""

    def __init__(self, b, limit):
        self.b, self.i, self.limit, self.total = memoryview(b).cast("B"), 0, limit, 0

    def take(self, n):
        if n < 0 or self.i + n > len(self.b):
            raise Malformed("channel record: %d bytes wanted, %d left" % (n, len(self.b) - self.i))
        v = self.b[self.i:self.i + n]
        self.i += n
        return v

    def _num(self, st):
        i = self.i
        if i + st.size > len(self.b):
            raise Malformed("channel record: %d bytes wanted, %d left" % (st.size, len(self.b) - i))
        self.i = i + st.size
        return st.unpack_from(self.b, i)[0]

    def u32(self):
        return self._num(_U32)

    def i64(self):
        return self._num(_I64)

    def bytes(self, most):
        n = self.u32()
        if n > most:
            raise Malformed("channel record: field of %d bytes exceeds %d" % (n, most))
        return self.take(n)

    def tensors(self):
        count = self.u32()
        if count > 64:
            raise Malformed("channel record: %d tensors" % count)
        out = {}
        for _ in range(count):
            name = str(self.bytes(256), "utf-8")
            code = self.u32()
            aligned = code & _ALIGNED
            dt = _DT.get(code & ~_ALIGNED)
            if dt is None:
                raise Malformed("channel record: tensor %r: unknown dtype" % name)
            ndim = self.u32()
            if ndim > 8:
                raise Malformed("channel record: tensor %r has %d dimensions" % (name, ndim))
            shape = struct.unpack("<%dq" % ndim, self.take(8 * ndim))
            n = wire.shape_elements(dt, shape, self.limit)
            blen = self._num(_U64)
            if aligned:  # pad bytes (any values) that put the data where the writer wants it
                self.take(self.u32())
            if blen != n * DTYPES[dt]:
                raise Malformed("channel record: tensor %r claims %d bytes, its shape needs %d" % (name, blen, n * DTYPES[dt]))
            self.total += blen
            if self.total > 4 * self.limit:
                raise Malformed("channel record: tensors exceed %d bytes" % (4 * self.limit))
            if name in out:
                raise Malformed("channel record: tensor %r twice" % name)
            out[name] = Tensor._of(dt, shape, bytearray(self.take(blen)))  # checked above
        return out

    def end(self):
        if self.i != len(self.b):
            raise Malformed("channel record: %d bytes after the last field" % (len(self.b) - self.i))


def _tensors(ts):
    """The pieces of a record's tensors: each header packed in one piece,
    each tensor's data as a view (copied once, into the area)."""
    parts = [None]
    for name, t in ts:
        if t is None:
            continue
        nb = name.encode()
        nd = len(t.shape)
        data = memoryview(t.data).cast("B")
        parts.append(struct.pack("<I%dsII%dqQ" % (len(nb), nd), len(nb), nb, _DT_CODE[t.dtype], nd, *t.shape, len(data)))
        parts.append(data)
    parts[0] = _U32.pack(len(parts) // 2)
    return parts


def _record(parts):
    return b"".join(parts)


def listen(server, peer_pid, peer_stage):
    """Serves a channel to the process peer_pid; its name is .name."""
    from .channel_serve import Listener
    return Listener(server, peer_pid, peer_stage)


def dial(name, pid, limit, timeout_ms):
    """Connects to a channel served by pid and opens its lane."""
    from .channel_dial import Caller
    return Caller(name, pid, limit, timeout_ms)
