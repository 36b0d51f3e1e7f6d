package wire

import (
	"errors"
	"fmt"
	"io"

	"github.com/ebmflow/ebmflow/internal/pb"
	"github.com/ebmflow/ebmflow/sdk"
)

// Streaming a message's tensors without holding them: a stage's state on
// its way between a plugin and the checkpoint's files. The bytes are those
// of Send and Recv (frames) or of a channel record; only who holds them
// changes.

// Header describes a tensor before its data.
type Header struct {
	Name    string
	DType   sdk.DType
	Shape   []int64
	N       int64 // elements
	ByteLen int64
}

// IntShape returns the shape as ints.
func (h Header) IntShape() []int {
	s := make([]int, len(h.Shape))
	for i, d := range h.Shape {
		s[i] = int(d)
	}
	return s
}

// Sink receives a message's tensors one at a time: Begin with each
// tensor's header, then Write with its bytes (little-endian) in pieces
// until ByteLen have come. A piece is valid only during the call.
type Sink interface {
	Begin(h Header) error
	Write(p []byte) (int, error)
}

// Source is a tensor to send whose bytes come from R (little-endian,
// exactly the shape's length), rather than from memory.
type Source struct {
	DType sdk.DType
	Shape []int
	R     io.Reader
}

// ByteLen is the number of bytes R must yield.
func (s *Source) ByteLen() int64 {
	return int64(sdk.NumElements(s.Shape)) * int64(s.DType.Size())
}

// Check refuses a source whose dtype or shape cannot be sent.
func (s *Source) Check() error {
	shape := make([]int64, len(s.Shape))
	for i, d := range s.Shape {
		shape[i] = int64(d)
	}
	_, err := CheckHeader(s.DType, shape, s.ByteLen(), 1<<62)
	return err
}

// readFull reads exactly len(p) bytes of a source, naming a short one.
func readFull(name string, r io.Reader, p []byte) error {
	if _, err := io.ReadFull(r, p); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("tensor %q: source ends early: %w", name, io.ErrUnexpectedEOF)
		}
		return fmt.Errorf("tensor %q: %w", name, err)
	}
	return nil
}

// sendSource sends a Source's tensor in chunks read into one buffer.
func sendSource(name string, s *Source, emit func(*pb.TensorChunk) error) error {
	if err := s.Check(); err != nil {
		return fmt.Errorf("tensor %q: %w", name, err)
	}
	n := s.ByteLen()
	shape := make([]int64, len(s.Shape))
	for i, d := range s.Shape {
		shape[i] = int64(d)
	}
	buf := make([]byte, min(n, ChunkSize))
	for off := int64(0); off == 0 || off < n; {
		k := min(n-off, ChunkSize)
		if err := readFull(name, s.R, buf[:k]); err != nil {
			return err
		}
		c := &pb.TensorChunk{Data: buf[:k]}
		if off == 0 {
			c.Start, c.Name, c.Dtype, c.Shape, c.ByteLen = true, name, toPBDType(s.DType), shape, n
		}
		if err := emit(c); err != nil {
			return err
		}
		off += k
		if n == 0 {
			break
		}
	}
	return nil
}

// RecvTo reads frames until io.EOF, handing each tensor to sink as it
// arrives, and returns the message's meta bytes. It checks the frames as
// Recv does.
func RecvTo(r Receiver, limit int64, sink Sink) ([]byte, error) {
	d := Decoder{Limit: limit, Sink: sink}
	for {
		f, err := r.Recv()
		if err == io.EOF {
			m, err := d.Finish()
			if err != nil {
				return nil, err
			}
			return m.Meta, nil
		}
		if err != nil {
			return nil, err
		}
		if err := d.Add(f); err != nil {
			return nil, err
		}
	}
}

// TensorReader is what FrameReader and a channel's streamed request offer:
// a message's tensors one at a time.
type TensorReader interface {
	Next() (Header, error)
	Read(p []byte) (int, error)
}

// ReadInto fills t, which must have h's dtype and shape, from r (the
// current tensor's bytes).
func ReadInto(r TensorReader, h Header, t *sdk.Tensor) error {
	if err := t.Expect(h.DType, h.IntShape()...); err != nil {
		return fmt.Errorf("state tensor %q: %w", h.Name, err)
	}
	if h.ByteLen == 0 {
		return nil
	}
	if hostLittleEndian {
		dst := tensorBytes(t)
		if err := readFull(h.Name, r, dst); err != nil {
			return err
		}
		return nil
	}
	buf := make([]byte, min(h.ByteLen, ChunkSize))
	for off := int64(0); off < h.ByteLen; {
		k := min(h.ByteLen-off, int64(len(buf)))
		if err := readFull(h.Name, r, buf[:k]); err != nil {
			return err
		}
		part := TensorOver(h.DType, []int64{k / int64(h.DType.Size())}, k/int64(h.DType.Size()), AlignedCopy(buf[:k]))
		i := off / int64(h.DType.Size())
		copy(t.F32[min(i, int64(len(t.F32))):], part.F32)
		copy(t.F64[min(i, int64(len(t.F64))):], part.F64)
		off += k
	}
	return nil
}

// AlignedCopy returns b copied into 8-byte aligned storage.
func AlignedCopy(b []byte) []byte {
	out := AlignedBytes(int64(len(b)))
	copy(out, b)
	return out
}
