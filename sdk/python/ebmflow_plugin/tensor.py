"""Tensors as they cross the process boundary: float32 or float64,
little-endian, batch first.

A ``Tensor`` holds its shape, its dtype and its data as a bytes-like object.
It converts to and from NumPy arrays and PyTorch tensors (either library is
imported only when used), and checks itself the way the Go SDK does
(``expect``, ``check_finite``).
"""

import math
import struct
import sys

from .errors import NonFinite, ShapeError

FLOAT32 = "float32"
FLOAT64 = "float64"
DTYPES = {FLOAT32: 4, FLOAT64: 8}
_FMT = {FLOAT32: "f", FLOAT64: "d"}


def format_shape(shape):
    """Formats a shape as the Go SDK does: [n 2]."""
    return "[" + " ".join(str(d) for d in shape) + "]"


class Tensor:
    """A dense float32 or float64 tensor, row-major, little-endian bytes."""

    __slots__ = ("dtype", "shape", "data")

    def __init__(self, dtype, shape, data=None):
        if dtype not in DTYPES:
            raise ShapeError("unknown dtype %r" % (dtype,))
        shape = tuple(int(d) for d in shape)
        if any(d < 0 for d in shape):
            raise ShapeError("negative dimension in shape %s" % format_shape(shape))
        n = math.prod(shape)
        if data is None:
            data = bytearray(n * DTYPES[dtype])
        if len(memoryview(data).cast("B")) != n * DTYPES[dtype]:
            raise ShapeError("shape %s (%s) needs %d bytes, got %d"
                             % (format_shape(shape), dtype, n * DTYPES[dtype], len(memoryview(data).cast("B"))))
        self.dtype, self.shape, self.data = dtype, shape, data

    @classmethod
    def _of(cls, dtype, shape, data):
        """A tensor from parts the SDK has already checked (a known dtype, a
        tuple of non-negative ints, data of exactly the shape's bytes):
        the constructor without its checks, for the per-call paths."""
        t = cls.__new__(cls)
        t.dtype, t.shape, t.data = dtype, shape, data
        return t

    def __repr__(self):
        return "Tensor(%s, %s)" % (self.dtype, format_shape(self.shape))

    @property
    def itemsize(self):
        """Bytes per element."""
        return DTYPES[self.dtype]

    def __len__(self):
        return math.prod(self.shape)

    def batch(self):
        """The first dimension (0 for a scalar)."""
        return self.shape[0] if self.shape else 0

    def nbytes(self):
        """The data's length in bytes."""
        return len(self) * self.itemsize

    def tolist(self):
        """The elements as a flat list of Python floats."""
        mv = memoryview(self.data).cast("B")
        return list(struct.unpack("<%d%s" % (len(self), _FMT[self.dtype]), mv))

    @classmethod
    def from_list(cls, values, shape=None, dtype=FLOAT32):
        """A tensor of the given flat values (shape defaults to [len])."""
        values = [float(v) for v in values]
        shape = (len(values),) if shape is None else shape
        return cls(dtype, shape, struct.pack("<%d%s" % (len(values), _FMT[dtype]), *values))

    def numpy(self):
        """A NumPy array viewing (or, on a big-endian host, copying) the data."""
        import numpy as np
        a = np.frombuffer(self.data, dtype="<f4" if self.dtype == FLOAT32 else "<f8")
        if sys.byteorder != "little":
            a = a.astype(a.dtype.newbyteorder("="))
        return a.reshape(self.shape)

    @classmethod
    def from_numpy(cls, a):
        """A tensor holding a copy of a float32 or float64 NumPy array."""
        import numpy as np
        a = np.asarray(a)
        if a.dtype not in (np.float32, np.float64):
            raise ShapeError("want a float32 or float64 array, got %s" % a.dtype)
        dtype = FLOAT32 if a.dtype == np.float32 else FLOAT64
        le = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<"))
        return cls._of(dtype, a.shape, le.tobytes())

    def torch(self, device=None):
        """A PyTorch tensor with the data (a copy), on device if given."""
        import torch
        t = torch.from_numpy(self.numpy().copy())
        return t.to(device) if device is not None else t

    @classmethod
    def from_torch(cls, t):
        """A tensor holding a copy of a float32 or float64 PyTorch tensor."""
        t = t.detach()
        if t.device.type != "cpu":
            t = t.cpu()
        return cls.from_numpy(t.numpy())

    def expect(self, dtype, *shape):
        """Raises ShapeError unless the tensor has dtype and shape; -1 in
        shape matches any size of that dimension."""
        ok = self.dtype == dtype and len(self.shape) == len(shape) and all(
            w < 0 or w == d for w, d in zip(shape, self.shape))
        if not ok:
            raise ShapeError("want %s %s, got %s %s" % (
                dtype, format_shape(shape), self.dtype, format_shape(self.shape)))

    def check_finite(self):
        """Raises NonFinite if any element is NaN or infinite."""
        try:
            import numpy as np
            a = self.numpy()
            # A finite sum means finite elements (a NaN or an infinity makes
            # the sum one); a sum that overflows is looked at element by
            # element.
            if math.isfinite(np.add.reduce(a, None)):
                return
            if not np.isfinite(a).all():
                i = int(np.argmin(np.isfinite(a).reshape(-1)))
                raise NonFinite("element %d is %s" % (i, a.reshape(-1)[i]))
            return
        except ImportError:
            pass
        for i, v in enumerate(self.tolist()):
            if not math.isfinite(v):
                raise NonFinite("element %d is %s" % (i, v))
