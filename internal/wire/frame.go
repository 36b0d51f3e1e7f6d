package wire

import (
	"errors"
	"fmt"
	"io"

	"github.com/ebmflow/ebmflow/internal/pb"
	"github.com/ebmflow/ebmflow/sdk"
	"google.golang.org/protobuf/proto"
)

// ChunkSize is the largest data payload of one frame: 1 MiB.
const ChunkSize = 1 << 20

// MaxMessageSize is the gRPC message limit both ends set: one chunk plus room
// for headers and the request message.
const MaxMessageSize = ChunkSize + 1<<20

// DefaultLimit is the largest tensor a decoder accepts unless told otherwise:
// 1 GiB.
const DefaultLimit = 1 << 30

// ErrTooLarge reports a tensor whose claimed size exceeds the decoder's limit.
var ErrTooLarge = errors.New("tensor too large")

// ErrMalformed reports a frame stream that breaks the protocol.
var ErrMalformed = errors.New("malformed tensor stream")

// Named is a tensor with its name on the wire: its values in Tensor, or,
// when Tensor is nil, read from Source as they are sent.
type Named struct {
	Name   string
	Tensor *sdk.Tensor
	Source *Source
}

// Sender is the sending half of a frame stream.
type Sender interface{ Send(*pb.Frame) error }

// Receiver is the receiving half of a frame stream.
type Receiver interface{ Recv() (*pb.Frame, error) }

// Send writes one message: meta (may be nil) then each non-nil tensor in
// chunks of at most ChunkSize bytes.
func Send(s Sender, meta proto.Message, tensors ...Named) error {
	var mb []byte
	if meta != nil {
		var err error
		if mb, err = proto.Marshal(meta); err != nil {
			return fmt.Errorf("encode message: %w", err)
		}
	}
	pending := &pb.Frame{Meta: mb}
	// emit sends a chunk, in the first frame (with the meta) if that is
	// still pending.
	emit := func(c *pb.TensorChunk) error {
		if pending != nil {
			f := pending
			pending = nil
			f.Chunk = c
			return s.Send(f)
		}
		return s.Send(&pb.Frame{Chunk: c})
	}
	for _, nt := range tensors {
		if nt.Tensor == nil {
			if nt.Source != nil {
				if err := sendSource(nt.Name, nt.Source, emit); err != nil {
					return err
				}
			}
			continue
		}
		if err := nt.Tensor.Validate(); err != nil {
			return fmt.Errorf("tensor %q: %w", nt.Name, err)
		}
		data := tensorBytes(nt.Tensor)
		shape := make([]int64, len(nt.Tensor.Shape))
		for i, d := range nt.Tensor.Shape {
			shape[i] = int64(d)
		}
		for off := 0; off == 0 || off < len(data); off += ChunkSize {
			end := min(off+ChunkSize, len(data))
			c := &pb.TensorChunk{Data: data[off:end]}
			if off == 0 {
				c.Start, c.Name, c.Dtype, c.Shape, c.ByteLen = true, nt.Name, toPBDType(nt.Tensor.DType), shape, int64(len(data))
			}
			if err := emit(c); err != nil {
				return err
			}
			if len(data) == 0 {
				break
			}
		}
	}
	if pending != nil {
		return s.Send(pending)
	}
	return nil
}

// Message is a decoded message: its meta bytes and its tensors by name.
type Message struct {
	Meta    []byte
	Tensors map[string]*sdk.Tensor
	// Out, when set, gives reusable storage for the answer's tensors,
	// valid until the answer has been sent (a channel lane's); nil:
	// answers are allocated.
	Out func(dt sdk.DType, shape ...int) *sdk.Tensor
}

// Tensor returns the named tensor or an error naming what is missing.
func (m *Message) Tensor(name string) (*sdk.Tensor, error) {
	t, ok := m.Tensors[name]
	if !ok {
		return nil, fmt.Errorf("%w: tensor %q missing", ErrMalformed, name)
	}
	return t, nil
}

// Unmarshal decodes the meta bytes into msg.
func (m *Message) Unmarshal(msg proto.Message) error {
	if err := proto.Unmarshal(m.Meta, msg); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return nil
}

// Decoder assembles a Message from frames, checking each as it arrives.
type Decoder struct {
	// Limit is the largest tensor accepted, in bytes; DefaultLimit if zero.
	// The total of all tensors of one message is held to 4 * Limit.
	Limit int64
	// Sink, if set, receives the tensors as they arrive instead of the
	// message.
	Sink Sink

	msg    Message
	frames int
	// The tensor being received: its header, and storage that grows as
	// its chunks arrive (a header alone allocates nothing).
	cur   bool
	dt    sdk.DType
	shape []int64
	n     int64
	buf   []byte
	seen  map[string]bool
	name  string
	want  int64
	got   int64
	total int64
}

// Add consumes one frame.
func (d *Decoder) Add(f *pb.Frame) error {
	limit := d.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	d.frames++
	if len(f.GetMeta()) > 0 {
		if d.frames != 1 {
			return fmt.Errorf("%w: message bytes in frame %d, expected only in the first", ErrMalformed, d.frames)
		}
		d.msg.Meta = f.Meta
	}
	c := f.GetChunk()
	if c == nil {
		if d.frames != 1 {
			return fmt.Errorf("%w: frame %d carries no chunk", ErrMalformed, d.frames)
		}
		return nil
	}
	if len(c.Data) > ChunkSize {
		return fmt.Errorf("%w: chunk of %d bytes exceeds %d", ErrMalformed, len(c.Data), ChunkSize)
	}
	if c.Start {
		if d.cur {
			return fmt.Errorf("%w: tensor %q ended after %d of %d bytes", ErrMalformed, d.name, d.got, d.want)
		}
		dt, ok := fromPBDType(c.Dtype)
		if !ok {
			return fmt.Errorf("%w: tensor %q has unknown dtype %v", ErrMalformed, c.Name, c.Dtype)
		}
		if _, dup := d.msg.Tensors[c.Name]; dup {
			return fmt.Errorf("%w: tensor %q sent twice", ErrMalformed, c.Name)
		}
		n, err := shapeBytes(dt, c.Shape, limit)
		if err != nil {
			return fmt.Errorf("tensor %q: %w", c.Name, err)
		}
		if c.ByteLen != n*int64(dt.Size()) {
			return fmt.Errorf("%w: tensor %q of shape %v (%s) claims %d bytes, its shape needs %d", ErrMalformed, c.Name, c.Shape, dt, c.ByteLen, n*int64(dt.Size()))
		}
		if d.total+c.ByteLen > 4*limit {
			return fmt.Errorf("%w: message exceeds %d bytes of tensors", ErrTooLarge, 4*limit)
		}
		d.total += c.ByteLen
		d.cur, d.dt, d.shape, d.n, d.buf = true, dt, c.Shape, n, nil
		d.name, d.want, d.got = c.Name, c.ByteLen, 0
		if d.seen == nil {
			d.seen = map[string]bool{}
		}
		if d.seen[c.Name] {
			return fmt.Errorf("%w: tensor %q sent twice", ErrMalformed, c.Name)
		}
		d.seen[c.Name] = true
		if d.Sink != nil {
			if err := d.Sink.Begin(Header{Name: c.Name, DType: dt, Shape: c.Shape, N: n, ByteLen: c.ByteLen}); err != nil {
				return err
			}
		}
	} else if !d.cur {
		return fmt.Errorf("%w: data chunk of %d bytes outside a tensor", ErrMalformed, len(c.Data))
	}
	k := int64(len(c.Data))
	if d.got+k > d.want {
		return fmt.Errorf("%w: tensor %q receives more than its %d bytes", ErrMalformed, d.name, d.want)
	}
	if d.Sink != nil {
		if k > 0 {
			if _, err := d.Sink.Write(c.Data); err != nil {
				return err
			}
		}
		d.got += k
		if d.got == d.want {
			d.cur = false
		}
		return nil
	}
	d.buf = grow(d.buf, d.got, d.got+k, d.want)
	copy(d.buf[d.got:], c.Data)
	d.got += k
	if d.got == d.want {
		if d.msg.Tensors == nil {
			d.msg.Tensors = map[string]*sdk.Tensor{}
		}
		d.msg.Tensors[d.name] = TensorOver(d.dt, d.shape, d.n, d.buf)
		d.cur, d.buf = false, nil
	}
	return nil
}

// Finish returns the message, or an error if a tensor is incomplete.
func (d *Decoder) Finish() (*Message, error) {
	if d.cur {
		return nil, fmt.Errorf("%w: tensor %q truncated at %d of %d bytes", ErrMalformed, d.name, d.got, d.want)
	}
	m := d.msg
	return &m, nil
}

// Recv reads frames until io.EOF and returns the message.
func Recv(r Receiver, limit int64) (*Message, error) {
	d := Decoder{Limit: limit}
	for {
		f, err := r.Recv()
		if err == io.EOF {
			return d.Finish()
		}
		if err != nil {
			return nil, err
		}
		if err := d.Add(f); err != nil {
			return nil, err
		}
	}
}
