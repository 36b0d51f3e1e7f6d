package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

// pythonA is what the Python safetensors library writes for
// save({"a": torch.tensor([1.0, 2.0], dtype=torch.float32)}), worked out by
// hand from the format: the 54-byte JSON header is padded with two spaces to
// 56 = 0x38 bytes, then 1.0f = 0x3f800000 and 2.0f = 0x40000000 little-endian.
var pythonA = []byte{
	0x38, 0, 0, 0, 0, 0, 0, 0,
	'{', '"', 'a', '"', ':', '{', '"', 'd', 't', 'y', 'p', 'e', '"', ':', '"', 'F', '3', '2', '"', ',',
	'"', 's', 'h', 'a', 'p', 'e', '"', ':', '[', '2', ']', ',',
	'"', 'd', 'a', 't', 'a', '_', 'o', 'f', 'f', 's', 'e', 't', 's', '"', ':', '[', '0', ',', '8', ']', '}', '}',
	' ', ' ',
	0x00, 0x00, 0x80, 0x3f,
	0x00, 0x00, 0x00, 0x40,
}

func TestPythonBytes(t *testing.T) {
	ts, meta, err := Read(bytes.NewReader(pythonA), int64(len(pythonA)))
	if err != nil {
		t.Fatal(err)
	}
	if meta != nil || len(ts) != 1 {
		t.Fatalf("got %d tensors, metadata %v", len(ts), meta)
	}
	a := ts["a"]
	if err := a.Expect(sdk.Float32, 2); err != nil {
		t.Fatal(err)
	}
	if a.F32[0] != 1 || a.F32[1] != 2 {
		t.Fatalf("a = %v, want [1 2]", a.F32)
	}
	var out bytes.Buffer
	if err := Write(&out, ts, nil); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), pythonA) {
		t.Fatalf("Write produced\n%q\nwant\n%q", out.Bytes(), pythonA)
	}
}

func TestRoundTrip(t *testing.T) {
	// NaNs with payloads, both signs, a signalling NaN (quiet bit clear),
	// infinities, signed zeros and subnormals must survive bit for bit.
	f32 := []float32{
		math.Float32frombits(0x7fc00001), math.Float32frombits(0xffc12345),
		math.Float32frombits(0x7f800001), float32(math.Inf(1)), float32(math.Inf(-1)),
		float32(math.Copysign(0, -1)), math.Float32frombits(1), 3.25,
	}
	f64 := []float64{
		math.Float64frombits(0x7ff8000000000abc), math.Float64frombits(0xfff0000000000001),
		math.Copysign(0, -1), math.SmallestNonzeroFloat64, -1.5, math.MaxFloat64,
	}
	in := map[string]*sdk.Tensor{
		"net.0.weight":  sdk.FromFloat32(f32, 2, 4),
		"net.0.bias":    sdk.FromFloat64(f64, 6),
		"scalar":        sdk.FromFloat32([]float32{7}),
		"empty32":       sdk.NewTensor(sdk.Float32, 0),
		"empty64":       sdk.NewTensor(sdk.Float64, 3, 0, 2),
		"naïve \"ü\"\n": sdk.FromFloat64([]float64{1}, 1, 1),
	}
	meta := map[string]string{"format": "pt", "iteration": "1200", "note": "ä\"\\\t"}
	for _, limit := range []int64{0, 1} {
		var buf bytes.Buffer
		if err := Write(&buf, in, meta); err != nil {
			t.Fatal(err)
		}
		if limit > 0 {
			limit = int64(buf.Len())
		}
		n := binary.LittleEndian.Uint64(buf.Bytes())
		if n%8 != 0 || buf.Bytes()[8] != '{' || !bytes.HasPrefix(buf.Bytes()[8:], []byte(`{"__metadata__":{"format":"pt"`)) {
			t.Fatalf("header %q: want metadata first, length a multiple of 8", buf.Bytes()[8:8+n])
		}
		out, gotMeta, err := Read(&buf, limit)
		if err != nil {
			t.Fatal(err)
		}
		checkEqual(t, in, out)
		if len(gotMeta) != len(meta) {
			t.Fatalf("metadata %v, want %v", gotMeta, meta)
		}
		for k, v := range meta {
			if gotMeta[k] != v {
				t.Fatalf("metadata %q = %q, want %q", k, gotMeta[k], v)
			}
		}
	}
}

func checkEqual(t *testing.T, want, got map[string]*sdk.Tensor) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d tensors, want %d", len(got), len(want))
	}
	for name, w := range want {
		g := got[name]
		if g == nil {
			t.Fatalf("tensor %q missing", name)
		}
		if err := g.Validate(); err != nil {
			t.Fatalf("tensor %q: %v", name, err)
		}
		if err := g.Expect(w.DType, w.Shape...); err != nil {
			t.Fatalf("tensor %q: %v", name, err)
		}
		for i := range w.F32 {
			if math.Float32bits(g.F32[i]) != math.Float32bits(w.F32[i]) {
				t.Fatalf("tensor %q[%d] = %#x, want %#x", name, i, math.Float32bits(g.F32[i]), math.Float32bits(w.F32[i]))
			}
		}
		for i := range w.F64 {
			if math.Float64bits(g.F64[i]) != math.Float64bits(w.F64[i]) {
				t.Fatalf("tensor %q[%d] = %#x, want %#x", name, i, math.Float64bits(g.F64[i]), math.Float64bits(w.F64[i]))
			}
		}
	}
}

func TestLayoutSortedByName(t *testing.T) {
	in := map[string]*sdk.Tensor{
		"b": sdk.FromFloat32([]float32{2}, 1),
		"a": sdk.FromFloat64([]float64{1}, 1),
		"c": sdk.FromFloat32([]float32{3, 4}, 2),
	}
	var buf bytes.Buffer
	if err := Write(&buf, in, nil); err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(buf.Bytes())
	header := strings.TrimRight(string(buf.Bytes()[8:8+n]), " ")
	want := `{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},` +
		`"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},` +
		`"c":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}}`
	if header != want {
		t.Fatalf("header\n%s\nwant\n%s", header, want)
	}
	if buf.Len() != 8+int(n)+20 {
		t.Fatalf("file is %d bytes, want %d", buf.Len(), 8+int(n)+20)
	}
}

func TestWriteFileReadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt.safetensors")
	in := map[string]*sdk.Tensor{"w": sdk.FromFloat32([]float32{1, -2, 3}, 3)}
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, in, map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	out, meta, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkEqual(t, in, out)
	if meta["k"] != "v" {
		t.Fatalf("metadata %v", meta)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 {
		t.Fatalf("folder holds %d entries after WriteFile, want 1 (no temporary left)", len(ents))
	}
	// A failed write leaves the old file and no temporary.
	bad := map[string]*sdk.Tensor{"x": {DType: sdk.Float32, Shape: []int{2}, F32: []float32{1}}}
	if err := WriteFile(path, bad, nil); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), `"x"`) {
		t.Fatalf("WriteFile of an invalid tensor: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("folder holds %d entries after a failed WriteFile, want 1", len(ents))
	}
	if _, _, err := ReadFile(path); err != nil {
		t.Fatalf("old file damaged by a failed write: %v", err)
	}
}

func TestWriteErrors(t *testing.T) {
	cases := map[string]map[string]*sdk.Tensor{
		"reserved":     {"__metadata__": sdk.FromFloat32([]float32{1}, 1)},
		"nil":          {"n": nil},
		"short":        {"s": {DType: sdk.Float64, Shape: []int{3}, F64: []float64{1}}},
		"bad utf8":     {"\xff": sdk.FromFloat32([]float32{1}, 1)},
		"negative dim": {"neg": {DType: sdk.Float32, Shape: []int{-1}}},
	}
	for name, ts := range cases {
		if err := Write(&bytes.Buffer{}, ts, nil); err == nil {
			t.Errorf("%s: Write succeeded", name)
		}
	}
}

// file builds a safetensors byte sequence from a header and a data section.
func file(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

func TestCorrupt(t *testing.T) {
	eight := make([]byte, 8)
	huge := binary.LittleEndian.AppendUint64(nil, 1<<62)
	cases := []struct {
		name string
		in   []byte
		want string // a piece of the error message
		dt   bool   // ErrDType rather than ErrFormat
	}{
		{"empty", nil, "too short", false},
		{"short length", []byte{1, 2, 3}, "too short", false},
		{"huge header length", huge, "exceeds the maximum", false},
		{"header beyond file", file(`{}`, nil)[:9], "exceeds the 1 bytes", false},
		{"not an object", file(`[1]     `, nil), "does not start with '{'", false},
		{"malformed json", file(`{"a":{"dtype":"F32",`, nil), `tensor "a": unexpected EOF`, false},
		{"malformed key", file(`{1:2}`, nil), "header: invalid character", false},
		{"trailing garbage", file(`{} x`, nil), "after the JSON object", false},
		{"bad utf8", file("{\"\xff\":1}", nil), "UTF-8", false},
		{"duplicate", file(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}`, nil), `"a" appears twice`, false},
		{"metadata not strings", file(`{"__metadata__":{"k":1}}`, nil), "__metadata__", false},
		{"f16", file(`{"h":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}`, eight[:2]), `tensor "h": dtype F16 is not supported`, true},
		{"bf16", file(`{"h":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}}`, eight[:2]), "BF16 is not supported", true},
		{"i64", file(`{"i":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}`, eight), "I64 is not supported", true},
		{"unknown dtype", file(`{"q":{"dtype":"Q7","shape":[1],"data_offsets":[0,8]}}`, eight), `tensor "q": unknown dtype "Q7"`, false},
		{"no dtype", file(`{"q":{"shape":[1],"data_offsets":[0,4]}}`, eight[:4]), `tensor "q": no dtype`, false},
		{"no shape", file(`{"q":{"dtype":"F32","data_offsets":[0,4]}}`, eight[:4]), `tensor "q": no shape`, false},
		{"no offsets", file(`{"q":{"dtype":"F32","shape":[1]}}`, eight[:4]), `tensor "q": no data_offsets`, false},
		{"tensor not object", file(`{"q":3}`, nil), `tensor "q"`, false},
		{"negative dim", file(`{"n":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, eight), `tensor "n": negative dimension -2`, false},
		{"fractional dim", file(`{"n":{"dtype":"F32","shape":[1.5],"data_offsets":[0,8]}}`, eight), `tensor "n"`, false},
		{"overflowing shape", file(`{"n":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}}`, eight), `tensor "n": shape [4294967296 4294967296] has too many elements`, false},
		{"three offsets", file(`{"n":{"dtype":"F32","shape":[2],"data_offsets":[0,4,8]}}`, eight), `tensor "n": data_offsets has 3 values`, false},
		{"reversed offsets", file(`{"n":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}}`, eight), `tensor "n": invalid data_offsets [8, 4]`, false},
		{"size mismatch", file(`{"n":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, eight), `tensor "n": data_offsets [0, 8] span 8 bytes, but F32 shape [3] needs 12`, false},
		{"out of range", file(`{"n":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}}`, eight), `tensor "n": data_offsets [0, 16] lie beyond the end`, false},
		{"huge offsets", file(`{"n":{"dtype":"F64","shape":[1000000000000],"data_offsets":[0,8000000000000]}}`, eight), `tensor "n": data_offsets [0, 8000000000000] lie beyond`, false},
		{"overlap", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, eight), `tensor "b": data_offsets [4, 8] overlap tensor "a"`, false},
		{"gap", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, eight), `tensor "a": data_offsets [4, 8] leave a gap`, false},
		{"trailing data", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, eight), "bytes follow the end of the last tensor", false},
	}
	for _, c := range cases {
		for _, limit := range []int64{int64(len(c.in)), 0} {
			ts, _, err := Read(bytes.NewReader(c.in), limit)
			if err == nil {
				t.Errorf("%s (limit %d): Read succeeded with %d tensors", c.name, limit, len(ts))
				continue
			}
			if limit == 0 && (c.name == "header beyond file" || strings.Contains(c.want, "lie beyond")) {
				// Without a limit the same input is caught as a truncation.
				if !strings.Contains(err.Error(), "truncated") {
					t.Errorf("%s (no limit): %v, want a truncation", c.name, err)
				}
				continue
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s (limit %d): error %q does not contain %q", c.name, limit, err, c.want)
			}
			want := ErrFormat
			if c.dt {
				want = ErrDType
			}
			if !errors.Is(err, want) {
				t.Errorf("%s: error %q is not %v", c.name, err, want)
			}
		}
	}
}

func TestReadFileNamesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.safetensors")
	in := file(`{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, make([]byte, 8))
	if err := os.WriteFile(path, in, 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := ReadFile(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), `tensor "w"`) {
		t.Fatalf("ReadFile: %v, want an error naming the file and the tensor", err)
	}
}

// TestTruncatedStream checks that a header promising more data than a stream
// holds is reported, not allocated: without a limit a 2^40-byte claim is
// read chunk by chunk until the input ends.
func TestTruncatedStream(t *testing.T) {
	in := file(`{"big":{"dtype":"F32","shape":[274877906944],"data_offsets":[0,1099511627776]}}`, make([]byte, 100))
	_, _, err := Read(bytes.NewReader(in), 0)
	if err == nil || !strings.Contains(err.Error(), `tensor "big": data truncated: the input ends at data offset 100`) {
		t.Fatalf("Read: %v", err)
	}
}

func FuzzRead(f *testing.F) {
	f.Add(pythonA)
	var buf bytes.Buffer
	_ = Write(&buf, map[string]*sdk.Tensor{
		"a": sdk.FromFloat64([]float64{1, 2, 3}, 3, 1),
		"b": sdk.NewTensor(sdk.Float32, 2, 0),
		"c": sdk.FromFloat32([]float32{4}),
	}, map[string]string{"k": "v"})
	f.Add(buf.Bytes())
	f.Add(file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, limit := range []int64{int64(len(data)), 0} {
			ts, meta, err := Read(bytes.NewReader(data), limit)
			if err != nil {
				if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrDType) {
					t.Fatalf("error %q wraps neither ErrFormat nor ErrDType", err)
				}
				continue
			}
			// Whatever Read accepts is valid and survives a round trip.
			var out bytes.Buffer
			if err := Write(&out, ts, meta); err != nil {
				t.Fatalf("Write of what Read accepted: %v", err)
			}
			again, _, err := Read(&out, int64(out.Len()))
			if err != nil {
				t.Fatalf("Read of what Write wrote: %v", err)
			}
			checkEqual(t, ts, again)
		}
	})
}
