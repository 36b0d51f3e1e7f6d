package channel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ebmflow/ebmflow/internal/wire"
	"github.com/ebmflow/ebmflow/sdk"
)

// Records (docs/channel.md): a request is
//
//	u32 method length, method, i64 deadline (Unix ns, 0 none),
//	u32 meta length, meta, u32 tensor count, tensors
//
// and an answer is
//
//	u32 status code (gRPC numbering, 0 OK), u32 meta length, meta,
//	u32 tensor count, tensors
//
// where meta is the call's protobuf message (for an error, a
// google.rpc.Status) and each tensor is
//
//	u32 name length, name, u32 dtype (1 float32, 2 float64), u32 ndim,
//	i64 dims[ndim], u64 byte length, data (little-endian)
//
// or, with flagAligned in dtype, u32 pad and pad zero bytes between the
// byte length and the data, which then starts 64-byte aligned in the area.

// ErrTooLarge reports a record above the receiver's limits.
var ErrTooLarge = wire.ErrTooLarge

// Request is a decoded request record.
type Request struct {
	Method   string
	Deadline time.Time // zero: none
	Meta     []byte
	Tensors  map[string]*sdk.Tensor
	// Out, when set, gives storage for the answer's tensors that the lane
	// reuses from call to call: valid until the answer has been sent.
	Out func(dt sdk.DType, shape ...int) *sdk.Tensor
	// Body, for a method that Options.Stream names, reads the tensors as
	// they arrive (Tensors is then nil); only during the handler.
	Body wire.TensorReader
}

// Answer is a decoded answer record.
type Answer struct {
	Code    uint32
	Meta    []byte
	Tensors map[string]*sdk.Tensor
}

// encoder writes record fields to w.
type encoder struct {
	w       io.Writer
	scratch [8]byte
}

func (e *encoder) u32(v uint32) error {
	binary.LittleEndian.PutUint32(e.scratch[:4], v)
	_, err := e.w.Write(e.scratch[:4])
	return err
}

func (e *encoder) i64(v int64) error {
	binary.LittleEndian.PutUint64(e.scratch[:], uint64(v))
	_, err := e.w.Write(e.scratch[:])
	return err
}

func (e *encoder) bytes(b []byte) error {
	if err := e.u32(uint32(len(b))); err != nil {
		return err
	}
	_, err := e.w.Write(b)
	return err
}

// str writes a length-prefixed string without converting it to bytes.
func (e *encoder) str(s string) error {
	if err := e.u32(uint32(len(s))); err != nil {
		return err
	}
	_, err := io.WriteString(e.w, s)
	return err
}

func (e *encoder) tensors(ts []wire.Named) error {
	var n uint32
	for _, t := range ts {
		if t.Tensor != nil || t.Source != nil {
			n++
		}
	}
	if err := e.u32(n); err != nil {
		return err
	}
	for _, nt := range ts {
		t := nt.Tensor
		if t == nil {
			if nt.Source != nil {
				if err := e.source(nt.Name, nt.Source); err != nil {
					return err
				}
			}
			continue
		}
		if err := t.Validate(); err != nil {
			return fmt.Errorf("tensor %q: %w", nt.Name, err)
		}
		data := wire.TensorBytes(t)
		pad, there, err := e.alignment(nt.Name, len(t.Shape), data)
		if err != nil {
			return fmt.Errorf("tensor %q: %w", nt.Name, err)
		}
		dt := uint32(t.DType)
		if pad >= 0 {
			dt |= flagAligned
		}
		if err := e.str(nt.Name); err != nil {
			return err
		}
		if err := e.u32(dt); err != nil {
			return err
		}
		if err := e.u32(uint32(len(t.Shape))); err != nil {
			return err
		}
		for _, d := range t.Shape {
			if err := e.i64(int64(d)); err != nil {
				return err
			}
		}
		if err := e.i64(int64(len(data))); err != nil {
			return err
		}
		if pad >= 0 {
			if err := e.u32(uint32(pad)); err != nil {
				return err
			}
		}
		if there {
			// The data already lies where the record needs it.
			pw := e.w.(placer)
			pw.skip(pad)
			pw.skip(len(data))
			continue
		}
		if pad > 0 {
			var zeros [63]byte
			if _, err := e.w.Write(zeros[:pad]); err != nil {
				return err
			}
		}
		if _, err := e.w.Write(data); err != nil {
			return err
		}
	}
	return nil
}

// source writes a tensor whose bytes come from a reader: straight into
// the pipe's area when w is one, else through a buffer.
func (e *encoder) source(name string, s *wire.Source) error {
	if err := s.Check(); err != nil {
		return fmt.Errorf("tensor %q: %w", name, err)
	}
	if err := e.str(name); err != nil {
		return err
	}
	if err := e.u32(uint32(s.DType)); err != nil {
		return err
	}
	if err := e.u32(uint32(len(s.Shape))); err != nil {
		return err
	}
	for _, d := range s.Shape {
		if err := e.i64(int64(d)); err != nil {
			return err
		}
	}
	n := s.ByteLen()
	if err := e.i64(n); err != nil {
		return err
	}
	var k int64
	var err error
	if f, ok := e.w.(interface {
		fill(r io.Reader, n int64) (int64, error)
	}); ok {
		k, err = f.fill(s.R, n)
	} else {
		k, err = io.CopyN(e.w, s.R, n)
	}
	if err == io.EOF || (err == nil && k < n) {
		return fmt.Errorf("tensor %q: source ends after %d of %d bytes: %w", name, k, n, io.ErrUnexpectedEOF)
	}
	if err != nil {
		return fmt.Errorf("tensor %q: %w", name, err)
	}
	return nil
}

func checkOut(method string, meta []byte, ts []wire.Named) error {
	if len(method) > maxMethod {
		return fmt.Errorf("method name of %d bytes", len(method))
	}
	if len(meta) > maxMeta {
		return fmt.Errorf("message of %d bytes exceeds %d", len(meta), maxMeta)
	}
	if len(ts) > maxTensors {
		return fmt.Errorf("%d tensors exceed %d", len(ts), maxTensors)
	}
	for _, t := range ts {
		if len(t.Name) > maxName {
			return fmt.Errorf("tensor name of %d bytes", len(t.Name))
		}
		if t.Tensor != nil && len(t.Tensor.Shape) > maxDims {
			return fmt.Errorf("tensor %q has %d dimensions, at most %d", t.Name, len(t.Tensor.Shape), maxDims)
		}
		if t.Tensor == nil && t.Source != nil && len(t.Source.Shape) > maxDims {
			return fmt.Errorf("tensor %q has %d dimensions, at most %d", t.Name, len(t.Source.Shape), maxDims)
		}
	}
	return nil
}

func encodeRequest(w io.Writer, method string, deadline time.Time, meta []byte, ts []wire.Named) error {
	if err := checkOut(method, meta, ts); err != nil {
		return err
	}
	e := encoder{w: w}
	if err := e.str(method); err != nil {
		return err
	}
	var dl int64
	if !deadline.IsZero() {
		dl = deadline.UnixNano()
	}
	if err := e.i64(dl); err != nil {
		return err
	}
	if err := e.bytes(meta); err != nil {
		return err
	}
	return e.tensors(ts)
}

func encodeAnswer(w io.Writer, code uint32, meta []byte, ts []wire.Named) error {
	if err := checkOut("", meta, ts); err != nil {
		return err
	}
	return writeAnswer(w, code, meta, ts)
}

// writeAnswer is encodeAnswer without the checks.
func writeAnswer(w io.Writer, code uint32, meta []byte, ts []wire.Named) error {
	e := encoder{w: w}
	if err := e.u32(code); err != nil {
		return err
	}
	if err := e.bytes(meta); err != nil {
		return err
	}
	return e.tensors(ts)
}

// recordSize is the encoded size of a record's variable part: meta and
// tensors with their headers (plus a little for the fixed fields).
func recordSize(method string, meta []byte, ts []wire.Named) int64 {
	n := int64(32 + len(method) + len(meta))
	for _, t := range ts {
		if t.Tensor != nil {
			n += int64(24+len(t.Name)+8*len(t.Tensor.Shape)) + int64(t.Tensor.Len()*t.Tensor.DType.Size())
		} else if t.Source != nil {
			n += int64(24+len(t.Name)+8*len(t.Source.Shape)) + t.Source.ByteLen()
		}
	}
	return n
}

// source is where a decoder reads: the unread bytes of the current part,
// and a way to mark them read.
type source interface {
	available() ([]byte, error)
	consume(n int)
	// final returns the next n unread bytes as they lie (not consumed)
	// when the current part is the message's last and holds them all, so
	// that nothing overwrites them before the answer; else nil.
	final(n int64) []byte
}

// decoder reads record fields, checking every length against its limit
// before it allocates, and allocating only as bytes arrive.
type decoder struct {
	src   source
	limit int64  // largest tensor in bytes
	total int64  // tensor bytes so far
	arena *arena // if set, tensor data goes there when it fits
	names *names // if set, method and tensor names are interned there
	// into holds storage the caller offers for answer tensors, by name:
	// a tensor whose dtype and shape match is read straight into it.
	into map[string]*sdk.Tensor
}

// name reads a length-prefixed name of at most max (<= 256) bytes.
func (d *decoder) name(max int, what string) (string, error) {
	n, err := d.u32()
	if err != nil {
		return "", err
	}
	if int64(n) > int64(max) {
		return "", fmt.Errorf("%w: %s of %d bytes exceeds %d", ErrTooLarge, what, n, max)
	}
	var buf [256]byte
	b := buf[:n]
	if err := d.read(b); err != nil {
		return "", err
	}
	if d.names != nil {
		return d.names.get(b), nil
	}
	return string(b), nil
}

func (d *decoder) read(p []byte) error {
	for len(p) > 0 {
		b, err := d.src.available()
		if err != nil {
			return err
		}
		k := copy(p, b)
		d.src.consume(k)
		p = p[k:]
	}
	return nil
}

// skip passes over n bytes (a pad: of any value, never stored).
func (d *decoder) skip(n int64) error {
	for n > 0 {
		b, err := d.src.available()
		if err != nil {
			return err
		}
		k := int(min(int64(len(b)), n))
		d.src.consume(k)
		n -= int64(k)
	}
	return nil
}

func (d *decoder) u32() (uint32, error) {
	var b [4]byte
	err := d.read(b[:])
	return binary.LittleEndian.Uint32(b[:]), err
}

func (d *decoder) i64() (int64, error) {
	var b [8]byte
	err := d.read(b[:])
	return int64(binary.LittleEndian.Uint64(b[:])), err
}

// grow reads n bytes into storage that grows as they arrive: a claimed
// length allocates nothing ahead of its data.
func (d *decoder) grow(n int64) ([]byte, error) {
	var buf []byte
	var got int64
	for got < n {
		b, err := d.src.available()
		if err != nil {
			return nil, err
		}
		k := min(int64(len(b)), n-got)
		if int64(len(buf)) < got+k {
			nb := wire.AlignedBytes(min(n, max(2*int64(len(buf)), got+k)))
			copy(nb, buf[:got])
			buf = nb
		}
		copy(buf[got:got+k], b[:k])
		d.src.consume(int(k))
		got += k
	}
	return buf, nil
}

func (d *decoder) field(max int64, what string) ([]byte, error) {
	n, err := d.u32()
	if err != nil {
		return nil, err
	}
	if int64(n) > max {
		return nil, fmt.Errorf("%w: %s of %d bytes exceeds %d", ErrTooLarge, what, n, max)
	}
	return d.grow(int64(n))
}

func (d *decoder) tensors() (map[string]*sdk.Tensor, error) {
	count, err := d.u32()
	if err != nil {
		return nil, err
	}
	if count > maxTensors {
		return nil, fmt.Errorf("%w: %d tensors, at most %d", ErrProtocol, count, maxTensors)
	}
	if count == 0 {
		return nil, nil
	}
	out := make(map[string]*sdk.Tensor, count)
	var dims [maxDims]int64
	for range count {
		h, err := d.header(dims[:], func(name string) bool { _, dup := out[name]; return dup })
		if err != nil {
			return nil, err
		}
		name, shape, n, byteLen, dt := h.Name, h.Shape, h.N, h.ByteLen, h.DType
		if t := d.into[name]; t != nil && fits(t, dt, shape) {
			if err := d.read(wire.TensorBytes(t)); err != nil {
				return nil, err
			}
			out[name] = t
			continue
		}
		var data []byte
		if d.arena != nil {
			data = inPlace(d.src, byteLen)
		}
		if data == nil && d.arena != nil {
			if data = d.arena.take(byteLen); data != nil {
				err = d.read(data)
			}
		}
		if data == nil {
			if data, err = d.grow(byteLen); err == nil && d.arena != nil {
				d.arena.miss += byteLen + 63 // room for next time
			}
		}
		if err != nil {
			return nil, err
		}
		out[name] = wire.TensorOver(dt, shape, n, data)
	}
	return out, nil
}

// header reads and checks a tensor's header; dup says whether a name was
// already in the record. The shape is stored in dims.
func (d *decoder) header(dims []int64, dup func(string) bool) (wire.Header, error) {
	name, err := d.name(maxName, "tensor name")
	if err != nil {
		return wire.Header{}, err
	}
	if dup(name) {
		return wire.Header{}, fmt.Errorf("%w: tensor %q sent twice", ErrProtocol, name)
	}
	dt, err := d.u32()
	if err != nil {
		return wire.Header{}, err
	}
	nd, err := d.u32()
	if err != nil {
		return wire.Header{}, err
	}
	if nd > maxDims {
		return wire.Header{}, fmt.Errorf("%w: tensor %q has %d dimensions, at most %d", ErrProtocol, name, nd, maxDims)
	}
	shape := dims[:nd]
	for i := range shape {
		if shape[i], err = d.i64(); err != nil {
			return wire.Header{}, err
		}
	}
	byteLen, err := d.i64()
	if err != nil {
		return wire.Header{}, err
	}
	aligned := dt&flagAligned != 0
	dt &^= flagAligned
	if aligned {
		pad, err := d.u32()
		if err != nil {
			return wire.Header{}, err
		}
		if err := d.skip(int64(pad)); err != nil {
			return wire.Header{}, err
		}
	}
	n, err := wire.CheckHeader(sdk.DType(dt), shape, byteLen, d.limit)
	if err != nil {
		return wire.Header{}, fmt.Errorf("tensor %q: %w", name, err)
	}
	if d.total+byteLen > 4*d.limit {
		return wire.Header{}, fmt.Errorf("%w: record exceeds %d bytes of tensors", ErrTooLarge, 4*d.limit)
	}
	d.total += byteLen
	return wire.Header{Name: name, DType: sdk.DType(dt), Shape: shape, N: n, ByteLen: byteLen}, nil
}

// decodeRequest decodes a request; if borrow says so for its method, its
// tensors go into a (the lane's arena).
func decodeRequest(src source, limit int64, a *arena, borrow func(method string) bool) (*Request, error) {
	return decodeRequestNames(src, limit, a, borrow, nil)
}

// decodeRequestNames is decodeRequest interning names in nm.
func decodeRequestNames(src source, limit int64, a *arena, borrow func(method string) bool, nm *names) (*Request, error) {
	r, _, err := decodeRequestHead(src, limit, a, borrow, nil, nm)
	return r, err
}

// decodeRequestHead decodes a request; for a method that stream names,
// only up to its tensors, which the returned body then reads.
func decodeRequestHead(src source, limit int64, a *arena, borrow, stream func(method string) bool, nm *names) (*Request, *body, error) {
	d := &decoder{src: src, limit: limit, names: nm}
	m, err := d.name(maxMethod, "method name")
	if err != nil {
		return nil, nil, err
	}
	if a != nil && borrow != nil && borrow(m) {
		a.reset()
		d.arena = a
	}
	dl, err := d.i64()
	if err != nil {
		return nil, nil, err
	}
	meta, err := d.field(maxMeta, "message")
	if err != nil {
		return nil, nil, err
	}
	r := &Request{Method: m, Meta: meta}
	if dl != 0 {
		r.Deadline = time.Unix(0, dl)
	}
	if stream != nil && stream(m) {
		b := &body{d: d, seen: map[string]bool{}}
		r.Body = b
		return r, b, nil
	}
	if r.Tensors, err = d.tensors(); err != nil {
		return nil, nil, err
	}
	return r, nil, nil
}

// decodeAnswer decodes an answer; its tensors go into the caller's storage
// in into where they fit (nil: none).
func decodeAnswer(src source, limit int64, nm *names, into map[string]*sdk.Tensor) (*Answer, error) {
	d := decoder{src: src, limit: limit, names: nm, into: into}
	code, meta, err := d.answerHead()
	if err != nil {
		return nil, err
	}
	ts, err := d.tensors()
	if err != nil {
		return nil, err
	}
	return &Answer{Code: code, Meta: meta, Tensors: ts}, nil
}

// answerHead reads an answer's status code and message.
func (d *decoder) answerHead() (uint32, []byte, error) {
	code, err := d.u32()
	if err != nil {
		return 0, nil, err
	}
	if code > 16 {
		return 0, nil, fmt.Errorf("%w: status code %d", ErrProtocol, code)
	}
	meta, err := d.field(maxMeta, "message")
	if err != nil {
		return 0, nil, err
	}
	return code, meta, nil
}

// memSource is a source over bytes cut into parts of at most part bytes
// (tests and the fuzz target).
type memSource struct {
	b    []byte
	part int
	cur  []byte
}

var errEnd = errors.New("record ends early")

func (m *memSource) available() ([]byte, error) {
	if len(m.cur) == 0 {
		if len(m.b) == 0 {
			return nil, fmt.Errorf("%w: %w", ErrProtocol, errEnd)
		}
		k := min(len(m.b), max(m.part, 1))
		m.cur, m.b = m.b[:k], m.b[k:]
	}
	return m.cur, nil
}

func (m *memSource) consume(n int) { m.cur = m.cur[n:] }

func (m *memSource) final(n int64) []byte {
	if len(m.b) != 0 || int64(len(m.cur)) < n {
		return nil
	}
	return m.cur[:n:n]
}

func (m *memSource) rest() int { return len(m.cur) + len(m.b) }
