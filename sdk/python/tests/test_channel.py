"""Channel records and pipes within one process: what a request or answer
becomes in the area, and the checks on reading it back."""

import mmap
import struct
import unittest

from ebmflow_plugin import FLOAT32, FLOAT64, NonFinite, Tensor
from ebmflow_plugin import channel as ch
from ebmflow_plugin.errors import Malformed, TooLarge


def lane(area=64 << 10):
    return ch._Lane(mmap.mmap(-1, ch.HEADER + 2 * area), area, area)


def alive():
    pass


class ChannelTest(unittest.TestCase):
    def test_record_round_trip(self):
        x = Tensor.from_list([1.5, -2.0, 3.25, 0.0], (2, 2))
        y = Tensor.from_list([7.0], (1,), FLOAT64)
        parts = [struct.pack("<II", 0, 3), b"abc"] + ch._tensors([("x", x), ("skip", None), ("y", y)])
        r = ch._Reader(b"".join(parts), 1 << 20)
        self.assertEqual((r.u32(), bytes(r.bytes(16))), (0, b"abc"))
        ts = r.tensors()
        r.end()
        self.assertEqual(list(ts), ["x", "y"])
        self.assertEqual((ts["x"].dtype, ts["x"].shape, ts["x"].tolist()), (FLOAT32, (2, 2), [1.5, -2.0, 3.25, 0.0]))
        self.assertEqual((ts["y"].dtype, ts["y"].tolist()), (FLOAT64, [7.0]))
        ts["x"].data[0] = 0  # a private, writable copy

    def test_reader_checks(self):
        good = b"".join(ch._tensors([("x", Tensor.from_list([1.0, 2.0]))]))
        for bad in (good[:-1], good + b"\0", good[:3]):
            r = ch._Reader(bad, 1 << 20)
            with self.assertRaises(Malformed):
                r.tensors()
                r.end()
        with self.assertRaises(TooLarge):
            ch._Reader(good, 4).tensors()  # over the limit, before any allocation

    def test_pieces_as_one_part_or_many(self):
        small = [b"ab", memoryview(b"cde"), b""]
        l = lane()
        l.ans.write_parts(small, 9, alive)
        self.assertEqual(l.ans.w[ch.POSTED // 4], 1)
        cid, flags, n = struct.unpack_from("<IIQ", l.mm, l.ans.area)
        self.assertEqual((cid, flags, n, l.mm[l.ans.area + 16:l.ans.area + 16 + n]), (9, 1, 5, b"abcde"))
        self.assertEqual(l.ans.read(9, 1 << 20, alive), (9, b"abcde"))
        # Larger than the area: the same bytes in several parts, each
        # taken by the reader (here, in between) before the next is written.
        l = lane()
        big = bytes(range(256)) * 1000
        cap = l.req.size - 16
        got = bytearray()
        orig = l.req._wait

        def wait(off, flag, cond, alive):
            if off == ch.TAKEN and l.req.w[ch.POSTED // 4] != l.req.w[ch.TAKEN // 4]:
                n = struct.unpack_from("<IIQ", l.mm, l.req.area)[2]
                got.extend(l.mm[l.req.area + 16:l.req.area + 16 + n])
                l.req.w[ch.TAKEN // 4] += 1
            orig(off, flag, cond, alive)
        l.req._wait = wait
        l.req.write_parts([big[:1000], big[1000:]], 3, alive)
        n = struct.unpack_from("<IIQ", l.mm, l.req.area)[2]
        got.extend(l.mm[l.req.area + 16:l.req.area + 16 + n])
        self.assertEqual(l.req.w[ch.POSTED // 4], -(-len(big) // cap))
        self.assertEqual(bytes(got), big)

    def test_read_checks_parts(self):
        l = lane()
        struct.pack_into("<IIQ", l.mm, l.req.area, 4, 1, l.req.size)  # longer than the area
        l.req.w[ch.POSTED // 4] = 1
        with self.assertRaises(Malformed):
            l.req.read(None, 1 << 20, alive, request=True)
        l = lane()
        struct.pack_into("<IIQ", l.mm, l.req.area, 4, 1, 3)
        l.req.w[ch.POSTED // 4] = 1
        self.assertEqual(l.req.read(None, 1 << 20, alive, request=True), (4, b"\0\0\0"))
        self.assertEqual(l.req.w[ch.TAKEN // 4], 1)


class FiniteTest(unittest.TestCase):
    def test_check_finite(self):
        Tensor.from_list([3e38, 3e38, -1.0]).check_finite()  # the sum overflows; the elements are finite
        for bad, i in (([1.0, float("nan")], 1), ([float("-inf"), 2.0], 0), ([float("inf"), float("-inf")], 0)):
            with self.assertRaises(NonFinite) as cm:
                Tensor.from_list(bad).check_finite()
            self.assertIn("element %d " % i, str(cm.exception))


if __name__ == "__main__":
    unittest.main()
