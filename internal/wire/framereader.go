package wire

import (
	"fmt"
	"io"

	"github.com/ebmflow/ebmflow/internal/pb"
)

// FrameReader reads a message's tensors from frames one at a time, as the
// reader asks for them: Meta after the first frame, then Next and Read.
type FrameReader struct {
	r     Receiver
	limit int64
	meta  []byte
	first *pb.Frame // received, not yet used
	seen  map[string]bool
	total int64
	cur   Header
	left  int64
	data  []byte // unread bytes of the current chunk
	eof   bool
}

// NewFrameReader receives the first frame and returns a reader of the
// message.
func NewFrameReader(r Receiver, limit int64) (*FrameReader, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	fr := &FrameReader{r: r, limit: limit, seen: map[string]bool{}}
	f, err := r.Recv()
	if err == io.EOF {
		fr.eof = true
		return fr, nil
	}
	if err != nil {
		return nil, err
	}
	fr.meta = f.GetMeta()
	if f.GetChunk() != nil {
		fr.first = f
	}
	return fr, nil
}

// Meta returns the message's meta bytes.
func (fr *FrameReader) Meta() []byte { return fr.meta }

// recv returns the next frame's chunk, or io.EOF at the end of the stream.
func (fr *FrameReader) recv() (*pb.TensorChunk, error) {
	if fr.first != nil {
		f := fr.first
		fr.first = nil
		return f.Chunk, nil
	}
	if fr.eof {
		return nil, io.EOF
	}
	f, err := fr.r.Recv()
	if err == io.EOF {
		fr.eof = true
		return nil, io.EOF
	}
	if err != nil {
		return nil, err
	}
	if len(f.GetMeta()) > 0 {
		return nil, fmt.Errorf("%w: message bytes after the first frame", ErrMalformed)
	}
	c := f.GetChunk()
	if c == nil {
		return nil, fmt.Errorf("%w: a frame carries no chunk", ErrMalformed)
	}
	if len(c.Data) > ChunkSize {
		return nil, fmt.Errorf("%w: chunk of %d bytes exceeds %d", ErrMalformed, len(c.Data), ChunkSize)
	}
	return c, nil
}

// Next skips what is left of the current tensor and returns the next
// one's header, or io.EOF after the last.
func (fr *FrameReader) Next() (Header, error) {
	for fr.left > 0 {
		if _, err := fr.Read(nil); err != nil {
			return Header{}, err
		}
	}
	c, err := fr.recv()
	if err != nil {
		return Header{}, err
	}
	if !c.Start {
		return Header{}, fmt.Errorf("%w: data chunk of %d bytes outside a tensor", ErrMalformed, len(c.Data))
	}
	dt, ok := fromPBDType(c.Dtype)
	if !ok {
		return Header{}, fmt.Errorf("%w: tensor %q has unknown dtype %v", ErrMalformed, c.Name, c.Dtype)
	}
	if fr.seen[c.Name] {
		return Header{}, fmt.Errorf("%w: tensor %q sent twice", ErrMalformed, c.Name)
	}
	fr.seen[c.Name] = true
	n, err := CheckHeader(dt, c.Shape, c.ByteLen, fr.limit)
	if err != nil {
		return Header{}, fmt.Errorf("tensor %q: %w", c.Name, err)
	}
	if fr.total+c.ByteLen > 4*fr.limit {
		return Header{}, fmt.Errorf("%w: message exceeds %d bytes of tensors", ErrTooLarge, 4*fr.limit)
	}
	fr.total += c.ByteLen
	if int64(len(c.Data)) > c.ByteLen {
		return Header{}, fmt.Errorf("%w: tensor %q receives more than its %d bytes", ErrMalformed, c.Name, c.ByteLen)
	}
	fr.cur = Header{Name: c.Name, DType: dt, Shape: c.Shape, N: n, ByteLen: c.ByteLen}
	fr.left, fr.data = c.ByteLen, c.Data
	return fr.cur, nil
}

// Read reads the current tensor's bytes; io.EOF at its end. With an empty
// p it discards the next piece.
func (fr *FrameReader) Read(p []byte) (int, error) {
	if fr.left == 0 {
		return 0, io.EOF
	}
	if len(fr.data) == 0 {
		c, err := fr.recv()
		if err == io.EOF {
			return 0, fmt.Errorf("%w: tensor %q truncated with %d bytes left", ErrMalformed, fr.cur.Name, fr.left)
		}
		if err != nil {
			return 0, err
		}
		if c.Start {
			return 0, fmt.Errorf("%w: tensor %q ended with %d bytes left", ErrMalformed, fr.cur.Name, fr.left)
		}
		if int64(len(c.Data)) > fr.left {
			return 0, fmt.Errorf("%w: tensor %q receives more than its %d bytes", ErrMalformed, fr.cur.Name, fr.cur.ByteLen)
		}
		fr.data = c.Data
	}
	k := len(fr.data)
	if len(p) > 0 {
		k = copy(p, fr.data)
	}
	fr.data = fr.data[k:]
	fr.left -= int64(k)
	return k, nil
}
