"""The frame codec's checks, the same as internal/wire's."""

import unittest

from ebmflow_plugin import FLOAT32, FLOAT64, Tensor
from ebmflow_plugin.errors import Malformed, TooLarge
from ebmflow_plugin.pb import plugin_pb2 as pb
from ebmflow_plugin.wire import CHUNK_SIZE, Decoder, decode, encode


def header(name="x", dtype=pb.FLOAT32, shape=(2,), byte_len=8, data=b""):
    return pb.Frame(chunk=pb.TensorChunk(start=True, name=name, dtype=dtype, shape=shape, byte_len=byte_len, data=data))


class WireTest(unittest.TestCase):
    def test_round_trip_chunks(self):
        big = Tensor.from_list([float(i % 7) for i in range(300000)], (3000, 100), FLOAT64)  # 2.4 MB: 3 chunks
        small = Tensor.from_list([1.5, -2.0], (1, 2))
        empty = Tensor(FLOAT32, (0, 2))
        frames = list(encode(pb.UpdateRequest(lr=0.5, t=3), [("a", big), ("b", small), ("e", empty), ("none", None)]))
        self.assertEqual(len(frames), 5)
        self.assertTrue(all(len(f.chunk.data) <= CHUNK_SIZE for f in frames))
        m = decode(frames)
        self.assertEqual(m.parse(pb.UpdateRequest()).t, 3)
        self.assertEqual(m.tensor("a").shape, (3000, 100))
        self.assertEqual(bytes(m.tensor("a").data), bytes(big.data))
        self.assertEqual(m.tensor("b").tolist(), [1.5, -2.0])
        self.assertEqual(m.tensor("e").shape, (0, 2))
        self.assertNotIn("none", m.tensors)
        with self.assertRaises(Malformed):
            m.tensor("missing")

    def test_meta_only(self):
        m = decode(encode(pb.NextRequest(n=4)))
        self.assertEqual(m.parse(pb.NextRequest()).n, 4)
        self.assertEqual(m.tensors, {})

    def refuse(self, frames, err=Malformed, limit=1 << 30, text=""):
        d = Decoder(limit)
        with self.assertRaises(err) as cm:
            for f in frames:
                d.add(f)
            d.finish()
        self.assertIn(text, str(cm.exception))

    def test_checks(self):
        self.refuse([header(dtype=0)], text="unknown dtype")
        self.refuse([header(dtype=7)], text="unknown dtype")
        self.refuse([header(shape=(-1, 2))], text="negative dimension")
        self.refuse([header(byte_len=12)], text="claims 12 bytes")
        self.refuse([header(shape=(1 << 20, 1 << 20), byte_len=4 << 40)], TooLarge)
        self.refuse([header(shape=(300,), byte_len=1200)], TooLarge, limit=1000)
        self.refuse([header(byte_len=8, data=b"\0" * 4)], text="truncated at 4 of 8")
        self.refuse([header(data=b"\0" * 8), pb.Frame(meta=b"x")], text="only in the first")
        self.refuse([header(data=b"\0" * 8), pb.Frame()], text="carries no chunk")
        self.refuse([header(data=b"\0" * 4), pb.Frame(chunk=pb.TensorChunk(data=b"\0" * 8))], text="more than its 8 bytes")
        self.refuse([header(data=b"\0" * 8), pb.Frame(chunk=pb.TensorChunk(data=b"\0"))], text="outside a tensor")
        self.refuse([header(data=b"\0" * 8), header(data=b"\0" * 8)], text="sent twice")
        self.refuse([header(data=b"\0" * 4), header(name="y", data=b"\0" * 8)], text="ended after 4 of 8")
        self.refuse([header(shape=(CHUNK_SIZE,), byte_len=4 * CHUNK_SIZE, data=b"\0" * (CHUNK_SIZE + 1))], text="exceeds")
        # The total of one message is held to 4 * limit.
        self.refuse([header(name=str(i), shape=(250,), byte_len=1000, data=b"\0" * 1000) for i in range(5)],
                    TooLarge, limit=1000, text="message exceeds")

    def test_claim_allocates_nothing(self):
        d = Decoder()
        d.add(header(shape=(1 << 27,), byte_len=1 << 29))  # 512 MiB claimed
        self.assertEqual(len(d.cur[5]), 0)


class TensorTest(unittest.TestCase):
    def test_expect_and_finite(self):
        t = Tensor.from_list([1, 2, float("nan"), 4], (2, 2))
        t.expect(FLOAT32, -1, 2)
        for bad in ((FLOAT64, -1, 2), (FLOAT32, 2), (FLOAT32, -1, 3)):
            with self.assertRaises(Exception) as cm:
                t.expect(*bad)
            self.assertIn("shape mismatch: want", str(cm.exception))
        with self.assertRaises(Exception) as cm:
            t.check_finite()
        self.assertIn("non-finite value: element 2", str(cm.exception))
        with self.assertRaises(Exception):
            Tensor(FLOAT32, (3,), b"\0" * 8)


if __name__ == "__main__":
    unittest.main()
