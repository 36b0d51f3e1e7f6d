package channel

import (
	"fmt"
	"io"

	"github.com/ebmflow/ebmflow/internal/wire"
)

// Streaming records: a stage's state passes between a plugin's memory and
// a checkpoint's files through a lane one part at a time, the bytes being
// those of any other record (docs/channel.md §5).

// sinkTensors reads a record's tensors into sink as their bytes arrive.
func (d *decoder) sinkTensors(sink wire.Sink) error {
	count, err := d.u32()
	if err != nil {
		return err
	}
	if count > maxTensors {
		return fmt.Errorf("%w: %d tensors, at most %d", ErrProtocol, count, maxTensors)
	}
	seen := map[string]bool{}
	var dims [maxDims]int64
	for range count {
		h, err := d.header(dims[:], func(name string) bool { return seen[name] })
		if err != nil {
			return err
		}
		seen[h.Name] = true
		if err := sink.Begin(h); err != nil {
			return err
		}
		for left := h.ByteLen; left > 0; {
			b, err := d.src.available()
			if err != nil {
				return err
			}
			k := int(min(int64(len(b)), left))
			if _, err := sink.Write(b[:k]); err != nil {
				return err
			}
			d.src.consume(k)
			left -= int64(k)
		}
	}
	return nil
}

// decodeAnswerTo decodes an answer whose tensors go to sink; the Answer
// has none.
func decodeAnswerTo(src source, limit int64, sink wire.Sink) (*Answer, error) {
	d := decoder{src: src, limit: limit}
	code, meta, err := d.answerHead()
	if err != nil {
		return nil, err
	}
	if code == 0 {
		err = d.sinkTensors(sink)
	} else {
		_, err = d.tensors()
	}
	if err != nil {
		return nil, err
	}
	return &Answer{Code: code, Meta: meta}, nil
}

// body reads a streamed request's tensors as the handler asks for them
// (wire.TensorReader).
type body struct {
	d     *decoder
	count uint32 // tensors not yet begun
	began bool   // the count has been read
	seen  map[string]bool
	dims  [maxDims]int64
	cur   wire.Header
	left  int64
	err   error
}

// Next skips what is left of the current tensor and reads the next one's
// header; io.EOF after the last.
func (b *body) Next() (wire.Header, error) {
	if b.err != nil {
		return wire.Header{}, b.err
	}
	if err := b.skip(); err != nil {
		return wire.Header{}, err
	}
	if !b.began {
		b.began = true
		n, err := b.d.u32()
		if err != nil {
			b.err = err
			return wire.Header{}, err
		}
		if n > maxTensors {
			b.err = fmt.Errorf("%w: %d tensors, at most %d", ErrProtocol, n, maxTensors)
			return wire.Header{}, b.err
		}
		b.count = n
	}
	if b.count == 0 {
		return wire.Header{}, io.EOF
	}
	h, err := b.d.header(b.dims[:], func(name string) bool { return b.seen[name] })
	if err != nil {
		b.err = err
		return wire.Header{}, err
	}
	b.seen[h.Name] = true
	h.Shape = append([]int64(nil), h.Shape...)
	b.count--
	b.cur, b.left = h, h.ByteLen
	return h, nil
}

// Read copies the current tensor's bytes into p; io.EOF at its end.
func (b *body) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.left == 0 {
		return 0, io.EOF
	}
	src, err := b.d.src.available()
	if err != nil {
		b.err = err
		return 0, err
	}
	k := copy(p, src[:min(int64(len(src)), b.left)])
	b.d.src.consume(k)
	b.left -= int64(k)
	return k, nil
}

// skip discards the rest of the current tensor.
func (b *body) skip() error {
	for b.left > 0 {
		src, err := b.d.src.available()
		if err != nil {
			b.err = err
			return err
		}
		k := int(min(int64(len(src)), b.left))
		b.d.src.consume(k)
		b.left -= int64(k)
	}
	return nil
}

// finish reads whatever the handler left of the record.
func (b *body) finish() error {
	for {
		_, err := b.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
