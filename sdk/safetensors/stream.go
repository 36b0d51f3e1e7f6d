package safetensors

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"unicode/utf8"

	"github.com/ebmflow/ebmflow/sdk"
)

// Streaming. A checkpoint's tensors come from a plugin one chunk at a time
// and must reach the file without being gathered: Writer lays out the data
// section as the bytes arrive and writes the header (which lists every
// tensor) at the end. File reads a file's header and hands out each
// tensor's bytes as a reader, for sending them on the same way.

// holdMax is how many data bytes a Writer holds in memory before it
// starts writing them to the file: a state smaller than that is written
// exactly as Write writes it. Holding costs fresh memory, whose pages
// each fault once (dear on the VM of docs/performance.md: energy-convnet's
// 2.7 MB state took ~30 ms of the host's time to hold at 4 MiB), so the
// bound is small: a larger state gets a header padded to reserve.
const holdMax = 1 << 20

// reserve is the room a Writer leaves for the header when a state
// outgrows holdMax; the header is padded with spaces to fill it (JSON
// allows trailing whitespace, and Read and the reference implementation
// accept it). A larger header moves the data section, in chunks.
const reserve = 64 << 10

// Writer writes one safetensors file whose tensors arrive in order, each
// as Begin and then Writes of its bytes (little-endian), to f (at offset 0,
// a new file). Close writes the header.
type Writer struct {
	f       *os.File
	meta    map[string]string
	entries []entry
	seen    map[string]bool
	pos     int64 // data bytes so far
	left    int64 // bytes still due for the last begun tensor
	hold    []byte
	spilled bool
	written int64 // bytes in the file's data section
	kicked  int64 // of those, the ones whose writeback was started
	err     error
}

// writeMax bounds one write to the file (see put).
const writeMax = 1 << 20

// kick is how many bytes a Writer lets gather in the page cache before it
// starts their writeback (startWriteback).
const kick = 16 << 20

// NewWriter returns a Writer of a safetensors file into f with the string
// metadata meta.
func NewWriter(f *os.File, meta map[string]string) *Writer {
	return &Writer{f: f, meta: meta, seen: map[string]bool{}}
}

func (w *Writer) fail(err error) error {
	if w.err == nil {
		w.err = err
	}
	return w.err
}

// Begin starts the next tensor.
func (w *Writer) Begin(name string, dt sdk.DType, shape []int) error {
	if w.err != nil {
		return w.err
	}
	switch {
	case w.left != 0:
		return w.fail(fmt.Errorf("tensor %q begins with %d bytes of tensor %q missing", name, w.left, w.entries[len(w.entries)-1].name))
	case name == metadataKey:
		return w.fail(fmt.Errorf("tensor name %q is reserved", name))
	case !utf8.ValidString(name):
		return w.fail(fmt.Errorf("tensor name %q is not valid UTF-8", name))
	case w.seen[name]:
		return w.fail(fmt.Errorf("tensor %q given twice", name))
	case dt != sdk.Float32 && dt != sdk.Float64:
		return w.fail(fmt.Errorf("tensor %q: %w: dtype %v", name, ErrDType, dt))
	}
	n := 1
	for _, d := range shape {
		if d < 0 {
			return w.fail(fmt.Errorf("tensor %q: negative dimension in shape %v", name, shape))
		}
		n *= d
	}
	size := int64(n) * int64(dt.Size())
	w.seen[name] = true
	w.entries = append(w.entries, entry{name: name, dtype: dt, shape: append([]int(nil), shape...), numel: n, begin: w.pos, end: w.pos + size})
	w.pos += size
	w.left = size
	if !w.spilled && w.pos > holdMax {
		// The state outgrows holdMax: write from here on, without
		// holding the bytes of this tensor first.
		if err := w.spill(); err != nil {
			return w.fail(err)
		}
	}
	return nil
}

// Write adds bytes of the current tensor.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if int64(len(p)) > w.left {
		return 0, w.fail(fmt.Errorf("more bytes than the tensors' shapes hold"))
	}
	w.left -= int64(len(p))
	if !w.spilled {
		w.keep(p)
		return len(p), nil
	}
	if err := w.put(p); err != nil {
		return 0, w.fail(err)
	}
	return len(p), nil
}

// keep holds p, growing the held bytes by doubling (from 64 KiB up to
// holdMax): a state of many small tensors is not copied again and again
// into fresh memory, whose every page costs a fault.
func (w *Writer) keep(p []byte) {
	if need := len(w.hold) + len(p); need > cap(w.hold) {
		h := make([]byte, len(w.hold), min(max(2*cap(w.hold), need, 64<<10), holdMax))
		copy(h, w.hold)
		w.hold = h
	}
	w.hold = append(w.hold, p...)
}

// spill starts writing the data section to the file, from what is held:
// the state has outgrown holdMax.
func (w *Writer) spill() error {
	w.spilled = true
	if _, err := w.f.Seek(8+reserve, io.SeekStart); err != nil {
		return err
	}
	hold := w.hold
	w.hold = nil
	return w.put(hold)
}

// put writes p to the file at the end of the data section, at most
// writeMax bytes a write, and starts the writeback of every kick bytes.
// Measured on the 2-vCPU VM (docs/performance.md, issue 22): one write of
// 16 MiB into the page cache went at 400-450 MB/s, 1 MiB writes of the
// same bytes at 3-4 GB/s.
func (w *Writer) put(p []byte) error {
	for len(p) > 0 {
		k := min(len(p), writeMax)
		if _, err := w.f.Write(p[:k]); err != nil {
			return err
		}
		p = p[k:]
		w.written += int64(k)
	}
	if w.written-w.kicked >= kick {
		startWriteback(w.f, 8+reserve+w.kicked, w.written-w.kicked)
		w.kicked = w.written
	}
	return nil
}

// Close writes the header (and, for a small state, the data); it does not
// close f.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	if w.left != 0 {
		return w.fail(fmt.Errorf("tensor %q ends %d bytes short", w.entries[len(w.entries)-1].name, w.left))
	}
	h, err := headerOf(w.entries, w.meta)
	if err != nil {
		return w.fail(err)
	}
	if !w.spilled {
		h = pad(h, (len(h)+7)/8*8)
		if err := writeAt(w.f, 0, lengthPrefix(len(h)), h, w.hold); err != nil {
			return w.fail(err)
		}
		return nil
	}
	room := int64(reserve)
	if int64(len(h)) > room {
		grown := (int64(len(h)) + 7) / 8 * 8
		if err := shift(w.f, 8+room, w.pos, grown-room); err != nil {
			return w.fail(err)
		}
		room = grown
	}
	h = pad(h, int(room))
	if err := writeAt(w.f, 0, lengthPrefix(len(h)), h); err != nil {
		return w.fail(err)
	}
	return nil
}

func pad(h []byte, n int) []byte {
	for len(h) < n {
		h = append(h, ' ')
	}
	return h
}

func lengthPrefix(n int) []byte {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(n))
	return b[:]
}

func writeAt(f *os.File, off int64, parts ...[]byte) error {
	for _, p := range parts {
		if _, err := f.WriteAt(p, off); err != nil {
			return err
		}
		off += int64(len(p))
	}
	return nil
}

// shift moves the n bytes at off in f forward by d, last chunk first.
func shift(f *os.File, off, n, d int64) error {
	buf := make([]byte, min(n, chunk*16))
	for end := n; end > 0; {
		k := min(end, int64(len(buf)))
		if _, err := f.ReadAt(buf[:k], off+end-k); err != nil {
			return fmt.Errorf("move data: %w", err)
		}
		if _, err := f.WriteAt(buf[:k], off+end-k+d); err != nil {
			return fmt.Errorf("move data: %w", err)
		}
		end -= k
	}
	return nil
}

// FileWriter is a Writer of an atomically written file: the bytes go to a
// temporary file beside path, which Commit syncs and renames.
type FileWriter struct {
	*Writer
	path string
	tmp  *os.File
}

// Create starts writing the safetensors file path.
func Create(path string, meta map[string]string) (*FileWriter, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("safetensors: write %s: %w", path, err)
	}
	return &FileWriter{Writer: NewWriter(f, meta), path: path, tmp: f}, nil
}

// Commit writes the header, syncs the file and renames it to its path;
// the folder is synced. On error the temporary file is removed.
func (w *FileWriter) Commit() (err error) {
	defer func() {
		if err != nil {
			w.Abort()
			err = fmt.Errorf("safetensors: write %s: %w", w.path, err)
		}
	}()
	if err := w.Writer.Close(); err != nil {
		return err
	}
	if err := w.tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := w.tmp.Sync(); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	if err := w.tmp.Close(); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	if err := os.Rename(w.tmp.Name(), w.path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(w.path))
}

// Abort removes the temporary file.
func (w *FileWriter) Abort() {
	w.tmp.Close()
	os.Remove(w.tmp.Name())
}
