"""The callee side of a shared-memory channel (docs/channel.md): a
listener that accepts exactly one peer process, maps the lanes it offers
and serves each lane's requests from the plugin's method table."""

import fcntl
import mmap
import os
import secrets
import socket
import struct
import threading
import time

from . import deadline, wire
from .channel import HEADER, LISTEN_FOR, MAGIC, MAX_AREA, MIN_AREA, Gone, _Lane, _Reader, _tensors
from .errors import DeadlineExceeded
from .log import logger


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
                cid, rec = lane.req.read(None, 4 * limit + (32 << 20), alive, request=True)
                r = _Reader(rec, limit)
                method = str(r.bytes(256), "utf-8")
                dl = deadline.from_unix_ns(r.i64())
                meta = r.bytes(16 << 20)
                tensors = r.tensors()
                r.end()
                lane.ans.write_parts(self._answer(method, bytes(meta), tensors, dl), cid, alive)
        except Gone:
            pass
        except Exception as e:  # a protocol violation drops the lane
            logger().warning("channel lane dropped", extra={"fields": {"error": str(e), "peer_stage": self.stage}})
        try:
            lane.mm.close()
        except BufferError:
            pass

    def _answer(self, method, meta, tensors, dl):
        """The answer record to a request, as a list of pieces; dl is the
        request's deadline (time.monotonic()'s clock) or None."""
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
                ameta, ts = deadline.run(dl, m.run, wire.Message(meta, tensors))
                mb = ameta.SerializeToString() if ameta is not None else b""
                return [struct.pack("<II", 0, len(mb)), mb] + _tensors(ts)
            except Exception as e:
                code, msg, details = srv.status(m.name, e)
                if isinstance(e, DeadlineExceeded):
                    logger().debug("call refused or stopped: its deadline passed", extra={"fields": {"call": m.name, "peer_stage": self.stage}})
        st = gp.RpcStatus(code=code.value[0], message=msg)
        if details:
            st.details.extend(gp.RpcStatus.FromString(details).details)
        b = st.SerializeToString()
        return [struct.pack("<II", code.value[0], len(b)), b, struct.pack("<I", 0)]

    def close(self):
        for s in (self.sock, self.conn):
            try:
                if s is not None:
                    s.close()
            except OSError:
                pass
