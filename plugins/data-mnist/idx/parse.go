package idx

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// Magic numbers of the MNIST files: unsigned bytes, three dimensions for
// images (count, rows, columns), one for labels (count).
const (
	MagicImages uint32 = 0x00000803
	MagicLabels uint32 = 0x00000801
)

// DefaultLimit caps the decompressed size of one file (256 MiB; the MNIST
// training images take 47,040,016 bytes).
const DefaultLimit int64 = 256 << 20

// maxDeflateRatio is the largest expansion deflate can achieve (RFC 1951: a
// 258-byte match costs at least two bits, about 1032:1).
const maxDeflateRatio = 1032

const typeUbyte = 0x08

// Array is a parsed IDX file of unsigned bytes.
type Array struct {
	// File is the name the array was parsed under (for error messages).
	File string
	// Dims are the dimension sizes from the header.
	Dims []int
	// Data holds prod(Dims) elements. For a raw (not gzipped) input it aliases
	// the input slice.
	Data []byte
}

// Magic returns the array's magic number, 0x0000080d for d dimensions.
func (a *Array) Magic() uint32 { return uint32(typeUbyte)<<8 | uint32(len(a.Dims)) }

// HeaderLen returns the length of the header, 4 + 4*len(Dims) bytes.
func (a *Array) HeaderLen() int64 { return 4 + 4*int64(len(a.Dims)) }

// ReadFile reads and parses the IDX file at path (see Parse).
func ReadFile(path string, wantDims int, limit int64) (*Array, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("idx: %w", err)
	}
	if fi.Size() > limit {
		return nil, errorf(path, limit, ErrSize, "file of %d bytes exceeds the limit of %d", fi.Size(), limit)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("idx: %w", err)
	}
	return Parse(path, b, wantDims, limit)
}

// Parse parses an IDX file held in b, gzipped (detected by the gzip magic
// 1f 8b) or raw. The name is used in error messages only. When wantDims > 0
// the magic number must be 0x0000080d with d = wantDims. The decompressed size
// may not exceed limit (DefaultLimit when limit <= 0).
func Parse(name string, b []byte, wantDims int, limit int64) (*Array, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	if len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b {
		return parseGzip(name, b, wantDims, limit)
	}
	if int64(len(b)) > limit {
		return nil, errorf(name, limit, ErrSize, "file of %d bytes exceeds the limit of %d", len(b), limit)
	}
	r := &counter{r: bytes.NewReader(b)}
	// The data aliases b, so the header may claim up to limit; a claim
	// beyond the file's length is reported as truncation below.
	a, err := parseHeader(name, r, wantDims, limit, "the size limit allows")
	if err != nil {
		return nil, err
	}
	n := prod(a.Dims)
	h := a.HeaderLen()
	if have := int64(len(b)) - h; have < n {
		return nil, errorf(name, int64(len(b)), ErrTruncated, "header declares %d data bytes after byte %d, file holds %d", n, h, have)
	} else if have > n {
		return nil, errorf(name, h+n, ErrSize, "%d bytes after the %d data bytes the header declares", have-n, n)
	}
	a.Data = b[h : h+n]
	return a, nil
}

func parseGzip(name string, b []byte, wantDims int, limit int64) (*Array, error) {
	br := bytes.NewReader(b)
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, gzipError(name, b, br, err)
	}
	maxLen := min(limit, int64(len(b))*maxDeflateRatio)
	r := &counter{r: zr}
	a, err := parseHeader(name, r, wantDims, maxLen, "the compressed file can hold")
	if err != nil {
		if e := (*Error)(nil); errors.As(err, &e) {
			return nil, err
		}
		return nil, gzipError(name, b, br, err)
	}
	n := prod(a.Dims)
	a.Data = make([]byte, n) // n <= maxLen, checked by parseHeader
	got, err := io.ReadFull(r, a.Data)
	if err != nil {
		if isEOF(err) {
			h := a.HeaderLen()
			return nil, errorf(name, h+int64(got), ErrTruncated, "header declares %d data bytes after byte %d, stream holds %d", n, h, got)
		}
		return nil, gzipError(name, b, br, err)
	}
	// Read past the end: this verifies the gzip checksum and finds trailing data.
	var one [1]byte
	k, err := io.ReadFull(r, one[:])
	if k > 0 {
		return nil, errorf(name, r.n-1, ErrSize, "data continues after the %d bytes the header declares", n)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, gzipError(name, b, br, err)
	}
	return a, nil
}

// parseHeader reads the magic number and dimensions from r and checks that
// their product fits in maxLen bytes.
func parseHeader(name string, r *counter, wantDims int, maxLen int64, what string) (*Array, error) {
	var m [4]byte
	if _, err := io.ReadFull(r, m[:]); err != nil {
		return nil, headerError(name, r, err, "file too short for the 4-byte magic number")
	}
	magic := binary.BigEndian.Uint32(m[:])
	if m[0] != 0 || m[1] != 0 || m[2] != typeUbyte {
		return nil, errorf(name, 0, ErrMagic, "0x%08x is not an unsigned-byte IDX magic number (0x000008dd)", magic)
	}
	d := int(m[3])
	if wantDims > 0 && d != wantDims {
		return nil, errorf(name, 0, ErrMagic, "0x%08x, want 0x%08x", magic, uint32(typeUbyte)<<8|uint32(wantDims))
	}
	a := &Array{File: name, Dims: make([]int, d)}
	n := int64(1)
	for i := range d {
		var v [4]byte
		if _, err := io.ReadFull(r, v[:]); err != nil {
			return nil, headerError(name, r, err, "file too short for the %d dimension sizes", d)
		}
		dim := int64(binary.BigEndian.Uint32(v[:]))
		a.Dims[i] = int(dim)
		n *= dim // n <= maxLen < 2^41 and dim < 2^32: no overflow
		if avail := maxLen - a.HeaderLen(); n > avail {
			return nil, errorf(name, 4+4*int64(i), ErrSize, "dimensions %v claim at least %d data bytes, %s at most %d", a.Dims[:i+1], n, what, max(avail, 0))
		}
	}
	return a, nil
}

func headerError(name string, r *counter, err error, format string, args ...any) error {
	if isEOF(err) {
		return errorf(name, r.n, ErrTruncated, format, args...)
	}
	return err // a gzip error; the caller adds the compressed offset
}

// gzipError reports an error of the gzip reader at the compressed offset; a
// stream that ends early is truncated, anything else is corruption.
func gzipError(name string, b []byte, br *bytes.Reader, err error) *Error {
	e := &Error{File: name, Offset: int64(len(b)) - int64(br.Len()), Compressed: true, Err: ErrGzip, Detail: err.Error()}
	if isEOF(err) {
		e.Err, e.Detail = ErrTruncated, "gzip stream ends early"
	}
	return e
}

func isEOF(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

func prod(dims []int) int64 {
	n := int64(1)
	for _, d := range dims {
		n *= int64(d)
	}
	return n
}

// counter counts the bytes read through it.
type counter struct {
	r io.Reader
	n int64
}

func (c *counter) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n += int64(k)
	return k, err
}
