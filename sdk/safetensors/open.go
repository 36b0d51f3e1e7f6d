package safetensors

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/ebmflow/ebmflow/sdk"
)

// Entry is a tensor of an opened file.
type Entry struct {
	Name  string
	DType sdk.DType
	Shape []int
	// Offset and Size locate its bytes in the file.
	Offset, Size int64
}

// File is a safetensors file whose header has been read and checked.
type File struct {
	f       *os.File
	Meta    map[string]string
	Entries []Entry // in the order of their data
}

// Open reads and checks the header of the safetensors file at path: every
// check of Read, and the file's length equal to what the header lays out,
// so that a truncated file is refused before any tensor is read.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	sf, err := open(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("safetensors: read %s: %w", path, err)
	}
	return sf, nil
}

func open(f *os.File) (*File, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	var nb [8]byte
	if k, err := io.ReadFull(f, nb[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: %d bytes, too short for the 8-byte header length", ErrFormat, k)
		}
		return nil, err
	}
	n := binary.LittleEndian.Uint64(nb[:])
	if n > MaxHeaderSize || int64(n) > size-8 {
		return nil, fmt.Errorf("%w: header length %d exceeds the %d bytes that follow the length (or %d)", ErrFormat, n, size-8, MaxHeaderSize)
	}
	header := make([]byte, n)
	if _, err := io.ReadFull(f, header); err != nil {
		return nil, err
	}
	entries, meta, err := parseHeader(header)
	if err != nil {
		return nil, err
	}
	end, err := layout(entries, size, int64(n))
	if err != nil {
		return nil, err
	}
	start := 8 + int64(n)
	if start+end != size {
		return nil, fmt.Errorf("%w: the tensors end at data offset %d but the data section has %d bytes", ErrFormat, end, size-start)
	}
	out := &File{f: f, Meta: meta}
	for _, e := range entries {
		out.Entries = append(out.Entries, Entry{Name: e.name, DType: e.dtype, Shape: e.shape, Offset: start + e.begin, Size: e.end - e.begin})
	}
	return out, nil
}

// Reader returns a reader of e's bytes.
func (f *File) Reader(e Entry) io.Reader { return io.NewSectionReader(f.f, e.Offset, e.Size) }

// Close closes the file.
func (f *File) Close() error { return f.f.Close() }
