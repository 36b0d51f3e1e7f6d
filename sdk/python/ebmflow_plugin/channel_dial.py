"""The caller side of a shared-memory channel (docs/channel.md): a link's
connection to another stage's channel, with one lane and one call at a
time."""

import fcntl
import mmap
import os
import socket
import struct
import threading
import time

from . import deadline, wire
from .channel import HEADER, MAGIC, MAX_AREA, MIN_AREA, OFF_CLOSED, POSTED, Gone, _Lane, _Reader, _record, _tensors
from .errors import DeadlineExceeded, LinkError, Malformed


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
        linked stage died or passed its deadline). The call's deadline is
        the earlier of the link's timeout and the deadline of the call this
        plugin is running (as a Go plugin's context gives it); when the
        latter passes first, DeadlineExceeded is raised, naming no one."""
        import grpc
        from .pb import goplugin_pb2 as gp
        from .pb import plugin_pb2 as pb
        mb = b"" if meta is None else meta.SerializeToString()
        now = time.monotonic()
        own = deadline.current()
        if own is not None and own <= now:
            raise DeadlineExceeded()
        end = now + self.timeout if self.timeout else None
        mine = own is not None and (end is None or own < end)
        if mine:
            end = own
        dl_ns = time.time_ns() + int((end - now) * 1e9) if end is not None else 0
        mbytes = method.encode()
        rec = _record([struct.pack("<I", len(mbytes)), mbytes, struct.pack("<qI", dl_ns, len(mb)), mb] + _tensors(tensors))

        def alive():
            if self.gone.is_set():
                raise Gone("peer gone")
            if end is not None and time.monotonic() > end:
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
                if mine:
                    raise DeadlineExceeded() from None
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
