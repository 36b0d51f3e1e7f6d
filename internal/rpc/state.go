package rpc

import (
	"context"
	"fmt"
	"io"

	"github.com/ebmflow/ebmflow/internal/pb"
	"github.com/ebmflow/ebmflow/internal/wire"
	"github.com/ebmflow/ebmflow/sdk"
	"google.golang.org/protobuf/proto"
)

// Large state on the plugin's side: an sdk.StateSaver's tensors are sent
// from the plugin's own memory (the encoders read them in chunks after
// SaveStateTo returns), and an sdk.StateLoader reads its tensors from the
// request as they arrive, through a channel or a frame stream.

// viewWriter collects a StateSaver's blob and tensors by reference.
type viewWriter struct {
	meta  []byte
	ts    []wire.Named
	names map[string]bool
}

func (w *viewWriter) SetMeta(b []byte) { w.meta = b }

func (w *viewWriter) Tensor(name string, t *sdk.Tensor) error {
	if w.names[name] {
		return fmt.Errorf("state tensor %q given twice", name)
	}
	if t == nil {
		return fmt.Errorf("state tensor %q is nil", name)
	}
	if err := t.Validate(); err != nil {
		return fmt.Errorf("state tensor %q: %w", name, err)
	}
	w.names[name] = true
	w.ts = append(w.ts, wire.Named{Name: name, Tensor: t})
	return nil
}

func saveStateTo(ctx context.Context, s sdk.StateSaver) (proto.Message, []wire.Named, error) {
	w := &viewWriter{names: map[string]bool{}}
	if err := s.SaveStateTo(ctx, w); err != nil {
		return nil, nil, err
	}
	return &pb.StateMeta{Meta: w.meta}, w.ts, nil
}

// bodyReader is the sdk.StateReader over a request's tensor stream.
type bodyReader struct {
	meta []byte
	body wire.TensorReader
	cur  wire.Header
	ok   bool
}

func (r *bodyReader) Meta() []byte { return r.meta }

func (r *bodyReader) Next() (sdk.TensorInfo, error) {
	h, err := r.body.Next()
	if err != nil {
		r.ok = false
		if err == io.EOF {
			return sdk.TensorInfo{}, io.EOF
		}
		return sdk.TensorInfo{}, fmt.Errorf("read state: %w", err)
	}
	r.cur, r.ok = h, true
	return sdk.TensorInfo{Name: h.Name, DType: h.DType, Shape: h.IntShape()}, nil
}

func (r *bodyReader) ReadInto(t *sdk.Tensor) error {
	if !r.ok {
		return fmt.Errorf("read state: no current tensor (call Next)")
	}
	r.ok = false
	return wire.ReadInto(r.body, r.cur, t)
}

func loadStateFrom(ctx context.Context, l sdk.StateLoader, metaBytes []byte, body wire.TensorReader) error {
	var meta pb.StateMeta
	if err := proto.Unmarshal(metaBytes, &meta); err != nil {
		return fmt.Errorf("%w: %v", wire.ErrMalformed, err)
	}
	return l.LoadStateFrom(ctx, &bodyReader{meta: meta.Meta, body: body})
}

// SaveStateTo fetches the stage's state with its tensors going to sink as
// they arrive, a chunk at a time, and returns the state's blob. Nothing
// but one chunk of a tensor is held at once.
func (c *Client) SaveStateTo(ctx context.Context, sink wire.Sink) ([]byte, error) {
	const method = "save state"
	var mb []byte
	if c.ch != nil {
		a, err := c.callChannelTo(ctx, method, pb.Plugin_SaveState_FullMethodName, sink)
		if err != nil {
			return nil, err
		}
		mb = a
	} else {
		s, err := c.plugin.SaveState(ctx)
		if err != nil {
			return nil, c.fail(method, err)
		}
		if err := wire.Send(s, nil); err != nil {
			if _, rerr := s.Recv(); rerr != nil {
				return nil, c.fail(method, rerr)
			}
			return nil, c.fail(method, err)
		}
		if err := s.CloseSend(); err != nil {
			return nil, c.fail(method, err)
		}
		if mb, err = wire.RecvTo(s, c.Limit, sink); err != nil {
			return nil, c.fail(method, err)
		}
	}
	var meta pb.StateMeta
	if err := proto.Unmarshal(mb, &meta); err != nil {
		return nil, c.fail(method, fmt.Errorf("%w: %v", wire.ErrMalformed, err))
	}
	return meta.Meta, nil
}

// LoadStateFrom restores a state whose tensors are read from their
// sources (wire.Named.Source) as they are sent.
func (c *Client) LoadStateFrom(ctx context.Context, meta []byte, tensors []wire.Named) error {
	_, err := c.call(ctx, "load state", pb.Plugin_LoadState_FullMethodName, func(ctx context.Context) (bidi, error) { return c.plugin.LoadState(ctx) }, &pb.StateMeta{Meta: meta}, tensors...)
	return err
}
