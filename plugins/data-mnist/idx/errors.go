package idx

import (
	"errors"
	"fmt"
)

// Sentinel errors wrapped by *Error; test with errors.Is.
var (
	// ErrTruncated: the file ends before the header or the data it declares.
	ErrTruncated = errors.New("truncated")
	// ErrMagic: the magic number is not the one expected.
	ErrMagic = errors.New("wrong magic number")
	// ErrSize: the header's dimensions disagree with the file size, or the
	// claimed size exceeds what the file can justify.
	ErrSize = errors.New("size disagrees with header")
	// ErrGzip: the gzip stream is corrupt.
	ErrGzip = errors.New("corrupt gzip stream")
	// ErrRange: a value is out of range (a label above 9).
	ErrRange = errors.New("value out of range")
	// ErrMismatch: image and label files disagree.
	ErrMismatch = errors.New("image and label files disagree")
)

// Error is a problem in one file at one byte offset. Offset counts bytes of
// the decompressed IDX stream when Compressed is false and bytes of the gzip
// file itself when it is true (a corrupt gzip stream).
type Error struct {
	File       string
	Offset     int64
	Compressed bool
	Err        error
	Detail     string
}

func (e *Error) Error() string {
	where := "byte"
	if e.Compressed {
		where = "gzip byte"
	}
	s := fmt.Sprintf("idx: %s: %s %d: %v", e.File, where, e.Offset, e.Err)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

func errorf(file string, off int64, err error, format string, args ...any) *Error {
	return &Error{File: file, Offset: off, Err: err, Detail: fmt.Sprintf(format, args...)}
}
