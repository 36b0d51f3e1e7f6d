"""Shared-memory channels (docs/channel.md) in Python: the callee side
(serving the host's and linked stages' calls) and the caller side (a link
to another stage), with the same bytes as internal/channel.

Linux on x86-64 only (the word protocol relies on its store ordering, with
which plain aligned stores publish a part after its bytes); elsewhere, or
with EBMFLOW_SHM=0, ``enabled()`` is false and every call stays on frames.
This side never trusts the other: every header is read once and checked
against the area and the limits before anything is allocated.
"""

import ctypes
import fcntl
import mmap
import os
import platform
import secrets
import socket
import struct
import sys
import threading
import time

from . import wire
from .errors import LinkError, Malformed
from .log import logger
from .tensor import DTYPES, FLOAT32, FLOAT64, Tensor

MAGIC = b"ebmflow-chan-v1\0"
HEADER = 4096
MIN_AREA, MAX_AREA = 64 << 10, 64 << 20
OFF_REQ, OFF_ANS, OFF_CLOSED = 64, 320, 576
POSTED, TAKEN, READER_WAITS, WRITER_WAITS = 0, 64, 128, 192
SLEEP_NS = 100_000_000  # a waiter re-checks at least every 100 ms
LISTEN_FOR = 120.0
SPIN = float(os.environ.get("EBMFLOW_CHAN_SPIN_US", "100")) / 1e6
_DT = {1: FLOAT32, 2: FLOAT64}
_DT_CODE = {FLOAT32: 1, FLOAT64: 2}

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
        end = time.monotonic() + SPIN
        while time.monotonic() < end:
            if cond():
                return
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

    def read(self, call_id, limit, alive):
        """Reads one message's parts; returns (call id, bytes). call_id None
        takes the first part's."""
        out = bytearray()
        while True:
            self._wait(POSTED, READER_WAITS, lambda: self.w[POSTED // 4] != self.w[TAKEN // 4], alive)
            if (self.w[POSTED // 4] - self.w[TAKEN // 4]) & 0xFFFFFFFF != 1:
                raise Malformed("channel: more than one part posted")
            cid, flags, n = struct.unpack("<IIQ", self.mm[self.area:self.area + 16])
            if n > self.size - 16 or flags & ~1:
                raise Malformed("channel: bad part header (length %d, flags %d)" % (n, flags))
            if call_id is None:
                call_id = cid
            elif cid != call_id:
                raise Malformed("channel: part of call %d, expected %d" % (cid, call_id))
            if len(out) + n > limit:
                raise Malformed("channel: record exceeds %d bytes" % limit)
            out += self.mm[self.area + 16:self.area + 16 + n]
            self.w[TAKEN // 4] = (self.w[TAKEN // 4] + 1) & 0xFFFFFFFF
            self._wake(TAKEN)
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
    def __init__(self, b, limit):
        self.b, self.i, self.limit, self.total = b, 0, limit, 0

    def take(self, n):
        if n < 0 or self.i + n > len(self.b):
            raise Malformed("channel record: %d bytes wanted, %d left" % (n, len(self.b) - self.i))
        v = self.b[self.i:self.i + n]
        self.i += n
        return v

    def u32(self):
        return struct.unpack("<I", self.take(4))[0]

    def i64(self):
        return struct.unpack("<q", self.take(8))[0]

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
            name = self.bytes(256).decode()
            dt = _DT.get(self.u32())
            if dt is None:
                raise Malformed("channel record: tensor %r: unknown dtype" % name)
            ndim = self.u32()
            if ndim > 8:
                raise Malformed("channel record: tensor %r has %d dimensions" % (name, ndim))
            shape = struct.unpack("<%dq" % ndim, self.take(8 * ndim))
            n = wire.shape_elements(dt, shape, self.limit)
            blen = struct.unpack("<Q", self.take(8))[0]
            if blen != n * DTYPES[dt]:
                raise Malformed("channel record: tensor %r claims %d bytes, its shape needs %d" % (name, blen, n * DTYPES[dt]))
            self.total += blen
            if self.total > 4 * self.limit:
                raise Malformed("channel record: tensors exceed %d bytes" % (4 * self.limit))
            if name in out:
                raise Malformed("channel record: tensor %r twice" % name)
            out[name] = Tensor(dt, shape, bytearray(self.take(blen)))
        return out

    def end(self):
        if self.i != len(self.b):
            raise Malformed("channel record: %d bytes after the last field" % (len(self.b) - self.i))


def _tensors(ts):
    parts = [struct.pack("<I", sum(1 for _, t in ts if t is not None))]
    for name, t in ts:
        if t is None:
            continue
        nb = name.encode()
        parts.append(struct.pack("<I", len(nb)) + nb + struct.pack("<II", _DT_CODE[t.dtype], len(t.shape)))
        parts.append(struct.pack("<%dq" % len(t.shape), *t.shape) + struct.pack("<Q", t.nbytes()))
        parts.append(memoryview(t.data).cast("B"))
    return parts


def _record(parts):
    return b"".join(parts)


# -- the callee ------------------------------------------------------------

class Listener:
    """Serves one channel to one peer process."""

    def __init__(self, server, peer_pid, peer_stage):
        self.server, self.peer, self.stage = server, peer_pid, peer_stage
        self.link = peer_stage != ""
        self.name = "@ebmflow-" + secrets.token_hex(16)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET | socket.SOCK_CLOEXEC)
        self.sock.bind("\0" + self.name[1:])
        self.sock.listen(4)
        self.conn = None
        self.dead = threading.Event()
        threading.Thread(target=self._accept, daemon=True, name="ebmflow-channel").start()

    def _accept(self):
        end = time.monotonic() + LISTEN_FOR  # then stop listening, peer or not
        try:
            while True:
                self.sock.settimeout(max(end - time.monotonic(), 0.001))
                c, _ = self.sock.accept()
                pid = struct.unpack("3i", c.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[0]
                if pid == self.peer:
                    break
                c.close()
        except OSError:
            self.sock.close()
            return
        self.sock.close()
        self.conn = c
        try:
            self._control()
        finally:
            self.dead.set()

    def _control(self):
        while True:
            msg, fds, _, _ = socket.recv_fds(self.conn, 64, 4)
            if not msg:
                return  # the peer is gone
            for fd in fds[1:]:
                os.close(fd)
            if len(msg) != 8 or msg[:4] != b"LANE" or len(fds) != 1:
                for fd in fds[:1]:
                    os.close(fd)
                continue
            lid = struct.unpack("<I", msg[4:])[0]
            try:
                lane = self._map(fds[0], lid)
            except (OSError, ValueError) as e:
                self.conn.send(b"ERR\0" + struct.pack("<I", lid) + str(e).encode())
                continue
            finally:
                os.close(fds[0])
            self.conn.send(b"OK\0\0" + struct.pack("<I", lid))
            threading.Thread(target=self._serve, args=(lane,), daemon=True, name="ebmflow-lane").start()

    def _map(self, fd, lid):
        seals = fcntl.fcntl(fd, 1034)  # F_GET_SEALS
        if seals & 6 != 6:
            raise ValueError("lane not sealed against shrinking and growing")
        size = os.fstat(fd).st_size
        if size < HEADER + 2 * MIN_AREA:
            raise ValueError("lane of %d bytes" % size)
        mm = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        magic, total, ro, rs, ao, asz, l = struct.unpack_from("<16sQQQQQI", mm, 0)
        ok = (magic == MAGIC and total == size and l == lid and ro == HEADER and MIN_AREA <= rs <= MAX_AREA
              and MIN_AREA <= asz <= MAX_AREA and ao == HEADER + rs and ao + asz == size)
        if not ok:
            mm.close()
            raise ValueError("lane header does not match its segment")
        return _Lane(mm, rs, asz)

    def _alive(self, lane):
        def check():
            if self.dead.is_set() or lane.closed():
                raise Gone("channel closed")
        return check

    def _serve(self, lane):
        alive = self._alive(lane)
        limit = self.server.limit
        try:
            while True:
                cid, rec = lane.req.read(None, 4 * limit + (32 << 20), alive)
                r = _Reader(rec, limit)
                method = r.bytes(256).decode()
                r.i64()  # the caller's deadline: this side runs calls to the end
                meta = r.bytes(16 << 20)
                tensors = r.tensors()
                r.end()
                answer = self._answer(method, bytes(meta), tensors)
                lane.ans.write(answer, cid, alive)
        except Gone:
            pass
        except Exception as e:  # a protocol violation drops the lane
            logger().warning("channel lane dropped", extra={"fields": {"error": str(e), "peer_stage": self.stage}})
        try:
            lane.mm.close()
        except BufferError:
            pass

    def _answer(self, method, meta, tensors):
        from .pb import goplugin_pb2 as gp
        import grpc
        srv = self.server
        m = srv.methods.get(method)
        if m is None:
            code, msg, details = grpc.StatusCode.UNIMPLEMENTED, "unknown method %r" % method, None
        elif self.link and not m.link:
            code, msg, details = grpc.StatusCode.PERMISSION_DENIED, "stage %r: %s is not available through a link (called by stage %r)" % (srv.stage, m.name, self.stage), None
        else:
            try:
                ameta, ts = m.run(wire.Message(meta, tensors))
                mb = ameta.SerializeToString() if ameta is not None else b""
                return _record([struct.pack("<II", 0, len(mb)), mb] + _tensors(ts))
            except Exception as e:
                code, msg, details = srv.status(m.name, e)
        st = gp.RpcStatus(code=code.value[0], message=msg)
        if details:
            st.details.extend(gp.RpcStatus.FromString(details).details)
        b = st.SerializeToString()
        return _record([struct.pack("<II", code.value[0], len(b)), b, struct.pack("<I", 0)])

    def close(self):
        for s in (self.sock, self.conn):
            try:
                if s is not None:
                    s.close()
            except OSError:
                pass


def listen(server, peer_pid, peer_stage):
    """Serves a channel to the process peer_pid; its name is .name."""
    return Listener(server, peer_pid, peer_stage)


# -- the caller ------------------------------------------------------------

def _area(n):
    a = MIN_AREA
    while a < n and a < MAX_AREA:
        a *= 2
    return a


class Caller:
    """A channel to a linked stage: one lane, one call at a time."""

    def __init__(self, name, pid, limit, timeout_ms):
        self.limit, self.timeout = limit, timeout_ms / 1000.0 if timeout_ms > 0 else 0.0
        self.conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET | socket.SOCK_CLOEXEC)
        self.conn.connect("\0" + name[1:] if name.startswith("@") else name)
        got = struct.unpack("3i", self.conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[0]
        if got != pid:
            self.conn.close()
            raise OSError("channel %s is served by pid %d, not %d" % (name, got, pid))
        self.gone = threading.Event()
        self.lock = threading.Lock()
        self.lane = self._open(1, _area(1 << 20), _area(1 << 20))
        threading.Thread(target=self._watch, daemon=True, name="ebmflow-channel-caller").start()

    def _open(self, lid, req, ans):
        size = HEADER + req + ans
        fd = os.memfd_create("ebmflow-lane", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        try:
            os.ftruncate(fd, size)
            fcntl.fcntl(fd, 1033, 1 | 2 | 4)  # F_ADD_SEALS: SEAL, SHRINK, GROW
            mm = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
            struct.pack_into("<16sQQQQQI", mm, 0, MAGIC, size, HEADER, req, HEADER + req, ans, lid)
            socket.send_fds(self.conn, [b"LANE" + struct.pack("<I", lid)], [fd])
        finally:
            os.close(fd)
        msg = self.conn.recv(4096)
        if msg[:4] != b"OK\0\0" or struct.unpack("<I", msg[4:8])[0] != lid:
            mm.close()
            raise OSError("channel: lane %d refused: %r" % (lid, msg[8:].decode(errors="replace")))
        return _Lane(mm, req, ans)

    def _watch(self):
        try:
            while self.conn.recv(4096):
                pass
        except OSError:
            pass
        self.gone.set()

    def dead(self):
        """Whether the peer is gone or the lane abandoned."""
        return self.gone.is_set() or self.lane is None

    def call(self, stage, caller, name, method, meta, tensors):
        """Makes a call; returns the answer as a wire.Message or raises
        LinkError with the callee's status (and a CallFailure when the
        linked stage died or passed its deadline)."""
        import grpc
        from .pb import goplugin_pb2 as gp
        from .pb import plugin_pb2 as pb
        mb = b"" if meta is None else meta.SerializeToString()
        deadline = time.monotonic() + self.timeout if self.timeout else 0.0
        dl_ns = time.time_ns() + int(self.timeout * 1e9) if self.timeout else 0
        mbytes = method.encode()
        rec = _record([struct.pack("<I", len(mbytes)), mbytes, struct.pack("<qI", dl_ns, len(mb)), mb] + _tensors(tensors))

        def alive():
            if self.gone.is_set():
                raise Gone("peer gone")
            if deadline and time.monotonic() > deadline:
                raise TimeoutError("deadline")

        def failure(reason, code, text):
            cf = pb.CallFailure(stage=stage, method=name, caller=caller, reason=reason, timeout_ms=int(self.timeout * 1000))
            st = gp.RpcStatus(code=code.value[0], message=text)
            st.details.add().Pack(cf)
            return LinkError(stage, name, code, text, st.SerializeToString())

        with self.lock:
            if self.lane is None:
                raise failure(pb.CallFailure.CRASHED, grpc.StatusCode.UNAVAILABLE, "the channel was abandoned")
            lane = self.lane
            lane.calls += 1
            try:
                lane.req.write(rec, lane.calls, alive)
                _, ans = lane.ans.read(lane.calls, 4 * self.limit + (32 << 20), alive)
            except Gone:
                raise failure(pb.CallFailure.CRASHED, grpc.StatusCode.UNAVAILABLE, "the plugin's process ended during the call") from None
            except (TimeoutError, Malformed) as e:
                struct.pack_into("<I", lane.mm, OFF_CLOSED, 1)  # abandon the lane
                lane.req._wake(POSTED)
                self.lane = None
                if isinstance(e, Malformed):
                    raise LinkError(stage, name, grpc.StatusCode.INTERNAL, "channel: %s" % e) from None
                raise failure(pb.CallFailure.DEADLINE, grpc.StatusCode.DEADLINE_EXCEEDED, "no answer within %gs" % self.timeout) from None
        r = _Reader(ans, self.limit)
        code = r.u32()
        ameta = bytes(r.bytes(16 << 20))
        ts = r.tensors()
        r.end()
        if code != 0:
            try:
                st = gp.RpcStatus.FromString(ameta)
                text = st.message
            except Exception:
                text = "(an error status the peer sent could not be decoded)"
            raise LinkError(stage, name, _code(code), text, ameta)
        return wire.Message(ameta, ts)

    def close(self):
        """Closes the channel."""
        self.gone.set()
        try:
            self.conn.close()
        except OSError:
            pass


def _code(n):
    import grpc
    for c in grpc.StatusCode:
        if c.value[0] == n:
            return c
    return grpc.StatusCode.UNKNOWN


def dial(name, pid, limit, timeout_ms):
    """Connects to a channel served by pid and opens its lane."""
    return Caller(name, pid, limit, timeout_ms)
