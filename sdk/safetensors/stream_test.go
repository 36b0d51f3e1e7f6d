package safetensors

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

// streamFile writes tensors (in the order of names) through a FileWriter
// in pieces of piece bytes and returns the file's path.
func streamFile(t *testing.T, names []string, ts map[string]*sdk.Tensor, piece int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.safetensors")
	w, err := Create(path, map[string]string{"stage": "x"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		x := ts[name]
		if err := w.Begin(name, x.DType, x.Shape); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := Write(&buf, map[string]*sdk.Tensor{"t": x}, nil); err != nil {
			t.Fatal(err)
		}
		data := buf.Bytes()[buf.Len()-x.Len()*x.DType.Size():]
		for len(data) > 0 {
			k := min(piece, len(data))
			if _, err := w.Write(data[:k]); err != nil {
				t.Fatal(err)
			}
			data = data[k:]
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	return path
}

func ramp32(n int) *sdk.Tensor {
	x := sdk.NewTensor(sdk.Float32, n)
	for i := range x.F32 {
		x.F32[i] = float32(i) * 0.5
	}
	return x
}

func sameTensors(t *testing.T, got, want map[string]*sdk.Tensor) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d tensors, want %d", len(got), len(want))
	}
	for name, w := range want {
		g := got[name]
		if g == nil || g.DType != w.DType || fmt.Sprint(g.Shape) != fmt.Sprint(w.Shape) || g.Len() != w.Len() {
			t.Fatalf("tensor %q differs in kind or shape", name)
		}
		for i := range w.Len() {
			if math.Float64bits(g.At(i)) != math.Float64bits(w.At(i)) {
				t.Fatalf("tensor %q differs at %d", name, i)
			}
		}
	}
}

// TestWriterSmallIsWrite: a state below holdMax, in the order of its
// names, is written byte for byte as Write writes it.
func TestWriterSmallIsWrite(t *testing.T) {
	ts := map[string]*sdk.Tensor{"a": ramp32(1000), "b": sdk.FromFloat64([]float64{1, -2, math.Pi}, 3), "empty": sdk.NewTensor(sdk.Float32, 0, 4)}
	path := streamFile(t, []string{"a", "b", "empty"}, ts, 333)
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := Write(&want, ts, map[string]string{"stage": "x"}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatal("the streamed file differs from Write's")
	}
}

// TestWriterLarge: a state above holdMax goes to the file as it comes, in
// any order of names; with a header larger than the room reserved for it
// the data is moved. Both read back whole, through ReadFile and Open.
func TestWriterLarge(t *testing.T) {
	for _, c := range []struct {
		name  string
		extra int // small tensors with long names, to outgrow the reserve
	}{{"reserve", 0}, {"moved", 400}} {
		t.Run(c.name, func(t *testing.T) {
			ts := map[string]*sdk.Tensor{"z-bank": ramp32(3 << 20), "a": ramp32(7)}
			names := []string{"z-bank", "a"}
			for i := range c.extra {
				n := fmt.Sprintf("%03d-%s", i, strings.Repeat("n", 200))
				ts[n] = sdk.FromFloat64([]float64{float64(i)}, 1)
				names = append(names, n)
			}
			path := streamFile(t, names, ts, 1<<20)
			got, meta, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			sameTensors(t, got, ts)
			if meta["stage"] != "x" {
				t.Errorf("metadata %v", meta)
			}
			f, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if len(f.Entries) != len(ts) || f.Entries[0].Name != "z-bank" {
				t.Fatalf("entries %d, first %q: want %d, the data's order", len(f.Entries), f.Entries[0].Name, len(ts))
			}
			b, err := io.ReadAll(f.Reader(f.Entries[1]))
			if err != nil || len(b) != 28 || math.Float32frombits(uint32(b[4])|uint32(b[5])<<8|uint32(b[6])<<16|uint32(b[7])<<24) != 0.5 {
				t.Fatalf("entry %q read back as % x (%v)", f.Entries[1].Name, b, err)
			}
		})
	}
}

// TestWriterHeldThenLarge: tensors held while the state is small are
// written first when a later one outgrows holdMax, in pieces larger and
// smaller than writeMax.
func TestWriterHeldThenLarge(t *testing.T) {
	ts := map[string]*sdk.Tensor{"a": ramp32(5000), "b": sdk.FromFloat64([]float64{1, -2, math.Pi}, 3), "c": ramp32(holdMax / 4), "z": ramp32(holdMax)}
	for _, piece := range []int{777, 3 * writeMax} {
		path := streamFile(t, []string{"a", "b", "c", "z"}, ts, piece)
		got, _, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		sameTensors(t, got, ts)
		if fi, err := os.Stat(path); err != nil || fi.Size() < 8+reserve {
			t.Fatalf("the file is not laid out behind the reserve: %v, %v", fi, err)
		}
	}
}

// TestOpenRefusesDamage: a truncated file or one with bytes after its
// data is refused by Open before any tensor is read.
func TestOpenRefusesDamage(t *testing.T) {
	path := streamFile(t, []string{"a"}, map[string]*sdk.Tensor{"a": ramp32(100)}, 64)
	b, _ := os.ReadFile(path)
	for name, data := range map[string][]byte{"truncated": b[:len(b)-1], "longer": append(b, 0), "header cut": b[:12]} {
		p := filepath.Join(t.TempDir(), "d.safetensors")
		os.WriteFile(p, data, 0o644)
		if _, err := Open(p); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v, want ErrFormat", name, err)
		}
	}
}

// TestWriterRefuses: bytes beyond the shapes, a short tensor, a name
// given twice; the temporary file is removed.
func TestWriterRefuses(t *testing.T) {
	dir := t.TempDir()
	w, _ := Create(filepath.Join(dir, "x.safetensors"), nil)
	w.Begin("a", sdk.Float32, []int{2})
	if _, err := w.Write(make([]byte, 12)); err == nil {
		t.Error("12 bytes for a [2] float32 tensor were accepted")
	}
	w.Abort()
	w, _ = Create(filepath.Join(dir, "x.safetensors"), nil)
	w.Begin("a", sdk.Float32, []int{2})
	w.Write(make([]byte, 4))
	if err := w.Commit(); err == nil {
		t.Error("a tensor 4 bytes short was committed")
	}
	w, _ = Create(filepath.Join(dir, "x.safetensors"), nil)
	w.Begin("a", sdk.Float32, []int{0})
	if err := w.Begin("a", sdk.Float32, []int{0}); err == nil {
		t.Error("a name given twice was accepted")
	}
	w.Abort()
	if es, _ := os.ReadDir(dir); len(es) != 0 {
		t.Errorf("left behind: %v", es)
	}
}
