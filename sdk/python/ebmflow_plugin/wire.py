"""The frame codec of the protocol, with the checks of internal/wire.

A message is its request or answer proto (serialized into the first frame's
``meta``) and named tensors, each sent as a header chunk (name, dtype, shape,
byte length) and data chunks of at most 1 MiB. The decoder checks every
frame as it arrives: meta only in the first frame, a known dtype, no
negative dimension, a byte length equal to the shape's, the size limit
before anything is allocated, no duplicate tensor, no data outside a
tensor, no more and no fewer bytes than announced.
"""

import math

from .errors import Malformed, TooLarge
from .pb import plugin_pb2 as pb
from .tensor import DTYPES, FLOAT32, FLOAT64, Tensor, format_shape

CHUNK_SIZE = 1 << 20
"""The largest data payload of one frame: 1 MiB."""

MAX_MESSAGE_SIZE = CHUNK_SIZE + (1 << 20)
"""The gRPC message limit both ends set."""

DEFAULT_LIMIT = 1 << 30
"""The largest tensor a decoder accepts unless told otherwise: 1 GiB."""

_TO_PB = {FLOAT32: pb.FLOAT32, FLOAT64: pb.FLOAT64}
_FROM_PB = {pb.FLOAT32: FLOAT32, pb.FLOAT64: FLOAT64}


def encode(meta=None, tensors=()):
    """Yields the frames of one message: meta (a proto message or bytes,
    may be None) then each (name, tensor) pair whose tensor is not None."""
    mb = b""
    if meta is not None:
        mb = meta if isinstance(meta, (bytes, bytearray)) else meta.SerializeToString()
    pending = pb.Frame(meta=mb) if mb else pb.Frame()
    first = True
    for name, t in tensors:
        if t is None:
            continue
        data = memoryview(t.data).cast("B")
        off = 0
        while True:
            end = min(off + CHUNK_SIZE, len(data))
            c = pb.TensorChunk(data=bytes(data[off:end]))
            if off == 0:
                c.start, c.name, c.dtype, c.byte_len = True, name, _TO_PB[t.dtype], len(data)
                c.shape.extend(t.shape)
            if first:
                pending.chunk.CopyFrom(c)
                first = False
                yield pending
            else:
                yield pb.Frame(chunk=c)
            off = end
            if off >= len(data):
                break
    if first:
        yield pending


def shape_elements(dtype, shape, limit):
    """Checks a header's shape and returns its element count, refusing
    negative dimensions and sizes above limit."""
    for d in shape:
        if d < 0:
            raise Malformed("negative dimension %d in shape %s" % (d, format_shape(shape)))
    n = math.prod(shape)
    if n * DTYPES[dtype] > limit:
        raise TooLarge("tensor of shape %s (%s) exceeds the limit of %d bytes" % (format_shape(shape), dtype, limit))
    return n


class Message:
    """A decoded message: its meta bytes and its tensors by name."""

    def __init__(self, meta=b"", tensors=None):
        self.meta = meta
        self.tensors = tensors if tensors is not None else {}

    def tensor(self, name):
        """The named tensor, or Malformed naming what is missing."""
        if name not in self.tensors:
            raise Malformed("tensor %r missing" % name)
        return self.tensors[name]

    def parse(self, msg):
        """Decodes the meta bytes into the proto message msg and returns it."""
        try:
            msg.ParseFromString(self.meta)
        except Exception as e:  # protobuf's DecodeError
            raise Malformed(str(e)) from e
        return msg


class Decoder:
    """Assembles a Message from frames, checking each as it arrives. The
    total of all tensors of one message is held to 4 * limit."""

    def __init__(self, limit=DEFAULT_LIMIT):
        self.limit = limit if limit > 0 else DEFAULT_LIMIT
        self.msg = Message()
        self.frames = 0
        self.cur = None  # [name, dtype, shape, want, got, buf]
        self.total = 0

    def add(self, f):
        """Consumes one frame."""
        self.frames += 1
        if f.meta:
            if self.frames != 1:
                raise Malformed("message bytes in frame %d, expected only in the first" % self.frames)
            self.msg.meta = f.meta
        if not f.HasField("chunk"):
            if self.frames != 1:
                raise Malformed("frame %d carries no chunk" % self.frames)
            return
        c = f.chunk
        if len(c.data) > CHUNK_SIZE:
            raise Malformed("chunk of %d bytes exceeds %d" % (len(c.data), CHUNK_SIZE))
        if c.start:
            if self.cur is not None:
                raise Malformed("tensor %r ended after %d of %d bytes" % (self.cur[0], self.cur[4], self.cur[3]))
            dtype = _FROM_PB.get(c.dtype)
            if dtype is None:
                raise Malformed("tensor %r has unknown dtype %d" % (c.name, c.dtype))
            if c.name in self.msg.tensors:
                raise Malformed("tensor %r sent twice" % c.name)
            shape = tuple(c.shape)
            try:
                n = shape_elements(dtype, shape, self.limit)
            except (Malformed, TooLarge) as e:
                raise type(e)("tensor %r: %s" % (c.name, str(e).split(": ", 1)[1])) from None
            need = n * DTYPES[dtype]
            if c.byte_len != need:
                raise Malformed("tensor %r of shape %s (%s) claims %d bytes, its shape needs %d"
                                % (c.name, format_shape(shape), dtype, c.byte_len, need))
            if self.total + c.byte_len > 4 * self.limit:
                raise TooLarge("message exceeds %d bytes of tensors" % (4 * self.limit))
            self.total += c.byte_len
            self.cur = [c.name, dtype, shape, c.byte_len, 0, bytearray()]
        elif self.cur is None:
            raise Malformed("data chunk of %d bytes outside a tensor" % len(c.data))
        cur = self.cur
        k = len(c.data)
        if cur[4] + k > cur[3]:
            raise Malformed("tensor %r receives more than its %d bytes" % (cur[0], cur[3]))
        cur[5] += c.data  # storage grows with the data, never with a claim
        cur[4] += k
        if cur[4] == cur[3]:
            self.msg.tensors[cur[0]] = Tensor(cur[1], cur[2], cur[5])
            self.cur = None

    def finish(self):
        """The message, or Malformed if a tensor is incomplete."""
        if self.cur is not None:
            raise Malformed("tensor %r truncated at %d of %d bytes" % (self.cur[0], self.cur[4], self.cur[3]))
        return self.msg


def decode(frames, limit=DEFAULT_LIMIT):
    """Reads frames until the iterator ends and returns the Message."""
    d = Decoder(limit)
    for f in frames:
        d.add(f)
    return d.finish()
