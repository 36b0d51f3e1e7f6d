package channel

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"
	"time"
	"unsafe"

	"github.com/ebmflow/ebmflow/internal/wire"
	"github.com/ebmflow/ebmflow/sdk"
)

func encoded(t testing.TB, method string, meta []byte, ts ...wire.Named) []byte {
	var b bytes.Buffer
	if err := encodeRequest(&b, method, time.Unix(0, 42), meta, ts); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// FuzzRecords feeds malformed request and answer records, cut into parts
// of any size, to the decoders: they must return an error or a record
// whose tensors match their shapes, never panic, and never allocate ahead
// of the bytes present.
func FuzzRecords(f *testing.F) {
	x := sdk.NewTensor(sdk.Float32, 3, 2)
	for i := range x.F32 {
		x.F32[i] = float32(i)
	}
	f.Add(encoded(f, "/ebmflow.v1.Energy/Grad", []byte{1, 2}, wire.Named{Name: "x", Tensor: x}), 7)
	f.Add(encoded(f, "m", nil), 1)
	f.Add([]byte{0xff, 0xff, 0xff, 0x7f}, 3)
	var ans bytes.Buffer
	encodeAnswer(&ans, 0, []byte("ok"), []wire.Named{{Name: "f", Tensor: x}})
	f.Add(ans.Bytes(), 64)
	f.Add(alignedRecord(5), 9)
	f.Fuzz(func(t *testing.T, b []byte, part int) {
		if part <= 0 || part > 1<<16 {
			part = 1 + part&0xff
		}
		const limit = 1 << 20
		check := func(ts map[string]*sdk.Tensor) {
			var total int
			for name, t1 := range ts {
				if err := t1.Validate(); err != nil {
					t.Fatalf("tensor %q: %v", name, err)
				}
				total += t1.Len() * t1.DType.Size()
			}
			if total > len(b) {
				t.Fatalf("%d tensor bytes from a %d-byte record", total, len(b))
			}
		}
		if r, err := decodeRequest(&memSource{b: b, part: part}, limit, nil, nil); err == nil {
			check(r.Tensors)
			if len(r.Method) > maxMethod || len(r.Meta) > len(b) {
				t.Fatalf("method %d bytes, meta %d bytes", len(r.Method), len(r.Meta))
			}
			// Borrowed: the same tensors from a lane's arena, the first
			// time (too small) and the second (grown to fit).
			var a arena
			for range 2 {
				rb, err := decodeRequest(&memSource{b: b, part: part}, limit, &a, func(string) bool { return true })
				if err != nil {
					t.Fatalf("borrowed decode failed where the plain one did not: %v", err)
				}
				sameTensors(t, r.Tensors, rb.Tensors)
			}
		}
		if a, err := decodeAnswer(&memSource{b: b, part: part}, limit, &names{}, map[string]*sdk.Tensor{"f": sdk.NewTensor(sdk.Float32, 2), "dfdx": sdk.NewTensor(sdk.Float32, 2, 2)}); err == nil {
			check(a.Tensors)
			_ = a.Err()
		}
	})
}

func TestRecordRoundTrip(t *testing.T) {
	x := sdk.NewTensor(sdk.Float64, 2, 3, 1)
	for i := range x.F64 {
		x.F64[i] = float64(i) - 2.5
	}
	e := sdk.NewTensor(sdk.Float32, 0)
	b := encoded(t, "grad", []byte("meta"), wire.Named{Name: "x", Tensor: x}, wire.Named{Name: "empty", Tensor: e}, wire.Named{Name: "nil"})
	for _, part := range []int{1, 5, 64, len(b)} {
		src := &memSource{b: b, part: part}
		r, err := decodeRequest(src, 1<<20, nil, nil)
		if err != nil {
			t.Fatalf("part %d: %v", part, err)
		}
		if src.rest() != 0 {
			t.Errorf("part %d: %d bytes left", part, src.rest())
		}
		if r.Method != "grad" || string(r.Meta) != "meta" || r.Deadline.UnixNano() != 42 || len(r.Tensors) != 2 {
			t.Fatalf("part %d: %+v", part, r)
		}
		got := r.Tensors["x"]
		if got.DType != sdk.Float64 || len(got.Shape) != 3 || got.Shape[1] != 3 {
			t.Fatalf("shape %v", got.Shape)
		}
		for i := range x.F64 {
			if got.F64[i] != x.F64[i] {
				t.Fatalf("x[%d] = %v", i, got.F64[i])
			}
		}
		if r.Tensors["empty"].Len() != 0 {
			t.Error("empty tensor")
		}
	}
}

// claimingRecord is a request for method whose one float32 tensor "x"
// claims n elements, followed by data bytes (fewer, in the tests).
func claimingRecord(method string, n int64, data int) []byte {
	var b bytes.Buffer
	e := encoder{w: &b}
	e.bytes([]byte(method))
	e.i64(0)
	e.bytes(nil)
	e.u32(1)
	e.bytes([]byte("x"))
	e.u32(uint32(sdk.Float32))
	e.u32(1)
	e.i64(n)
	e.i64(4 * n)
	b.Write(make([]byte, data))
	return b.Bytes()
}

// TestClaimedSizeAllocatesNothing: a header claiming a 1 GiB tensor with
// no data behind it fails without allocating the gigabyte.
func TestClaimedSizeAllocatesNothing(t *testing.T) {
	b := bytes.NewBuffer(claimingRecord("m", 1<<28, 100))
	var ms1, ms2 runtimeMem
	ms1.read()
	decodeRequest(&memSource{b: b.Bytes(), part: 1 << 16}, 1<<31, nil, nil)
	// Borrowed, twice: the arena grows only for bytes that arrived.
	var a arena
	for range 2 {
		decodeRequest(&memSource{b: b.Bytes(), part: 1 << 16}, 1<<31, &a, func(string) bool { return true })
	}
	ms2.read()
	if d := ms2.total - ms1.total; d > 1<<20 {
		t.Errorf("allocated %d bytes for a record of %d", d, b.Len())
	}
}

// sameTensors fails unless a and b hold the same tensors, bit for bit.
func sameTensors(t *testing.T, a, b map[string]*sdk.Tensor) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%d tensors against %d", len(a), len(b))
	}
	for name, x := range a {
		y := b[name]
		if y == nil || x.DType != y.DType || sdk.FormatShape(x.Shape) != sdk.FormatShape(y.Shape) {
			t.Fatalf("tensor %q differs: %v against %v", name, x, y)
		}
		if !bytes.Equal(wire.TensorBytes(x), wire.TensorBytes(y)) {
			t.Fatalf("tensor %q: data differs", name)
		}
	}
}

// TestArenaReuse: borrowed tensors of a second request reuse the storage
// of the first, and hold the second request's values.
func TestArenaReuse(t *testing.T) {
	var a arena
	borrow := func(m string) bool { return m == "grad" }
	var first *sdk.Tensor
	for i, v := range []float32{1.5, -2, 3} {
		x := sdk.NewTensor(sdk.Float32, 100, 2)
		for j := range x.F32 {
			x.F32[j] = v * float32(j)
		}
		b := encoded(t, "grad", nil, wire.Named{Name: "x", Tensor: x})
		r, err := decodeRequest(&memSource{b: b, part: 100}, 1<<20, &a, borrow)
		if err != nil {
			t.Fatal(err)
		}
		got := r.Tensors["x"]
		sameTensors(t, map[string]*sdk.Tensor{"x": x}, r.Tensors)
		switch i {
		case 0:
			first = got
		case 1:
			if &got.F32[0] == &first.F32[0] {
				t.Error("the first request's tensor was in an arena that had no room yet")
			}
			first = got
		case 2:
			if &got.F32[0] != &first.F32[0] {
				t.Error("the third request did not reuse the arena")
			}
		}
	}
	// A method that does not borrow gets storage of its own.
	x := sdk.NewTensor(sdk.Float32, 100, 2)
	r, err := decodeRequest(&memSource{b: encoded(t, "update", nil, wire.Named{Name: "x", Tensor: x}), part: 100}, 1<<20, &a, borrow)
	if err != nil {
		t.Fatal(err)
	}
	if unsafe.Pointer(&r.Tensors["x"].F32[0]) == unsafe.Pointer(&a.buf[0]) {
		t.Error("a method that does not borrow was decoded into the arena")
	}
}

// TestAlignedRecordDecodes checks a record with an aligned tensor written
// by hand as docs/channel.md describes it (pads of any length are skipped),
// and that a pad that claims more bytes than the record has is refused.
func TestAlignedRecordDecodes(t *testing.T) {
	for _, pad := range []uint32{0, 5, 63, 5000} {
		b := alignedRecord(pad)
		r, err := decodeRequest(&memSource{b: b, part: 7}, 1<<20, nil, nil)
		if err != nil {
			t.Fatalf("pad %d: %v", pad, err)
		}
		x := r.Tensors["x"]
		if x == nil || x.DType != sdk.Float32 || len(x.F32) != 2 || x.F32[0] != 1.5 || x.F32[1] != -2 {
			t.Fatalf("pad %d: got %+v", pad, x)
		}
	}
	b := alignedRecord(5)
	binary.LittleEndian.PutUint32(b[len(b)-8-5-4:], 1<<30) // the pad field
	if _, err := decodeRequest(&memSource{b: b, part: 7}, 1<<20, nil, nil); err == nil {
		t.Error("a pad of 1 GiB in a record of 70 bytes accepted")
	}
}

// alignedRecord is a Grad request whose tensor x (float32, [2]) has the
// aligned flag and pad bytes before its data.
func alignedRecord(pad uint32) []byte {
	var e encBuf
	e.str("/ebmflow.v1.Energy/Grad")
	e.u64(0) // deadline
	e.u32(0) // meta
	e.u32(1) // tensors
	e.str("x")
	e.u32(uint32(sdk.Float32) | flagAligned)
	e.u32(1)
	e.u64(2)
	e.u64(8)
	e.u32(pad)
	e.b = append(e.b, make([]byte, pad)...)
	e.f32(1.5)
	e.f32(-2)
	return e.b
}

// encBuf builds a record by hand, little-endian.
type encBuf struct{ b []byte }

func (e *encBuf) u32(v uint32)  { e.b = binary.LittleEndian.AppendUint32(e.b, v) }
func (e *encBuf) u64(v uint64)  { e.b = binary.LittleEndian.AppendUint64(e.b, v) }
func (e *encBuf) f32(v float32) { e.u32(math.Float32bits(v)) }
func (e *encBuf) str(s string)  { e.u32(uint32(len(s))); e.b = append(e.b, s...) }
