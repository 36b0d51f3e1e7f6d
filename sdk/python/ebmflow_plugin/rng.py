"""Seeded random streams, the same numbers as the Go SDK's sdk.NewStream.

``derive_seed`` is the Go SDK's DeriveSeed (SHA-256 of the little-endian
seed and a name), and ``Stream`` is Go's math/rand/v2 PCG (128-bit LCG with
the DXSM output) seeded as sdk.NewStream seeds it, so ``uint64()`` and
``float64()`` give exactly the draws a Go plugin with the same seed and name
gets, and ``state()`` / ``set_state()`` use Go's PCG MarshalBinary format.
"""

import hashlib
import math
import struct

_M64 = (1 << 64) - 1
_M128 = (1 << 128) - 1
_MUL = (2549297995355413924 << 64) | 4865540595714422341
_INC = (6364136223846793005 << 64) | 1442695040888963407
_CHEAP = 0xDA942042E4DD58B5
_M53 = (1 << 53) - 1


def derive_seed(seed, name):
    """A seed derived from a parent seed and a name (sdk.DeriveSeed)."""
    h = hashlib.sha256(struct.pack("<Q", seed & _M64) + name.encode())
    return struct.unpack("<Q", h.digest()[:8])[0]


class Stream:
    """A random stream named name derived from seed (sdk.NewStream)."""

    def __init__(self, seed, name):
        s1 = derive_seed(seed, name)
        s2 = derive_seed(s1, "pcg-increment")
        self._s = (s1 << 64) | s2

    def uint64(self):
        """The next 64 random bits (PCG.Uint64)."""
        s = (self._s * _MUL + _INC) & _M128
        self._s = s
        hi, lo = s >> 64, s & _M64
        hi ^= hi >> 32
        hi = (hi * _CHEAP) & _M64
        hi ^= hi >> 48
        return (hi * (lo | 1)) & _M64

    def float64(self):
        """A uniform draw in [0, 1) (rand.Rand.Float64)."""
        return (self.uint64() & _M53) / 9007199254740992.0  # Go: Uint64()<<11>>11 / 2^53

    def floats(self, n):
        """n draws of float64(), as a list."""
        out = [0.0] * n
        s = self._s
        for i in range(n):
            s = (s * _MUL + _INC) & _M128
            hi, lo = s >> 64, s & _M64
            hi ^= hi >> 32
            hi = (hi * _CHEAP) & _M64
            hi ^= hi >> 48
            out[i] = ((hi * (lo | 1)) & _M53) / 9007199254740992.0
        self._s = s
        return out

    def normal(self):
        """A standard normal draw (Box-Muller on two float64() draws; not the
        Go SDK's NormFloat64 sequence)."""
        u1 = 1.0 - self.float64()
        u2 = self.float64()
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)

    def state(self):
        """The stream's state, in Go's PCG MarshalBinary format."""
        return b"pcg:" + struct.pack(">QQ", self._s >> 64, self._s & _M64)

    def set_state(self, b):
        """Restores a state from state() (or a Go stream's MarshalBinary)."""
        b = bytes(b)
        if len(b) != 20 or b[:4] != b"pcg:":
            raise ValueError("invalid PCG state of %d bytes" % len(b))
        hi, lo = struct.unpack(">QQ", b[4:])
        self._s = (hi << 64) | lo
