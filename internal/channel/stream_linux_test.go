package channel

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/ebmflow/ebmflow/internal/wire"
	"github.com/ebmflow/ebmflow/sdk"
)

// byteSink collects what a streamed answer delivers.
type byteSink struct {
	heads []wire.Header
	data  bytes.Buffer
}

func (s *byteSink) Begin(h wire.Header) error {
	h.Shape = append([]int64(nil), h.Shape...)
	s.heads = append(s.heads, h)
	return nil
}

func (s *byteSink) Write(p []byte) (int, error) { return s.data.Write(p) }

// streamer serves "load": reads tensor "a" whole into a new tensor,
// skips the others, and answers "a" back; "save": answers a 9 MiB ramp
// (more than one part of a streamed lane).
func streamer(t *testing.T) Handler {
	return func(ctx context.Context, req *Request) (uint32, []byte, []wire.Named) {
		switch req.Method {
		case "load":
			var got *sdk.Tensor
			for {
				h, err := req.Body.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Errorf("next: %v", err)
					return 13, nil, nil
				}
				if h.Name == "a" {
					got = sdk.NewTensor(h.DType, h.IntShape()...)
					if err := wire.ReadInto(req.Body, h, got); err != nil {
						t.Errorf("read: %v", err)
					}
				}
			}
			return 0, req.Meta, []wire.Named{{Name: "a", Tensor: got}}
		case "save":
			return 0, []byte("m"), []wire.Named{{Name: "r", Tensor: ramp(9 << 18)}}
		}
		return 12, nil, nil
	}
}

func TestStreamedCalls(t *testing.T) {
	_, c := pairWith(t, Options{Handler: streamer(t), Stream: func(m string) bool { return m == "load" }})
	a := ramp(3 << 20) // 12 MiB: a dozen parts of a streamed lane
	b := ramp(5)
	src := func(x *sdk.Tensor) *wire.Source {
		return &wire.Source{DType: x.DType, Shape: x.Shape, R: bytes.NewReader(wire.TensorBytes(x))}
	}
	for range 2 { // the lane serves again after a streamed call
		ans, err := c.Call(context.Background(), time.Time{}, "load", []byte("meta"), []wire.Named{{Name: "b", Source: src(b)}, {Name: "a", Source: src(a)}})
		if err != nil {
			t.Fatal(err)
		}
		if string(ans.Meta) != "meta" || !bytes.Equal(wire.TensorBytes(ans.Tensors["a"]), wire.TensorBytes(a)) {
			t.Fatal("the streamed request did not arrive intact")
		}
	}
	var sink byteSink
	ans, err := c.CallTo(context.Background(), time.Time{}, "save", nil, nil, &sink)
	if err != nil {
		t.Fatal(err)
	}
	want := ramp(9 << 18)
	if string(ans.Meta) != "m" || len(ans.Tensors) != 0 || len(sink.heads) != 1 || sink.heads[0].Name != "r" || !bytes.Equal(sink.data.Bytes(), wire.TensorBytes(want)) {
		t.Fatalf("the streamed answer did not arrive intact: %d headers, %d bytes", len(sink.heads), sink.data.Len())
	}
	// A source shorter than its shape fails the call, not the channel.
	short := &wire.Source{DType: sdk.Float32, Shape: []int{4}, R: bytes.NewReader(make([]byte, 8))}
	if _, err := c.Call(context.Background(), time.Time{}, "load", nil, []wire.Named{{Name: "a", Source: short}}); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("short source: %v", err)
	}
	if _, err := c.Call(context.Background(), time.Time{}, "load", nil, []wire.Named{{Name: "a", Source: src(b)}}); err != nil {
		t.Fatalf("after a failed call: %v", err)
	}
}

// BenchmarkStreamLoad sends 256 MiB from a reader into a handler that
// reads it into fresh memory, as a checkpoint's bank is loaded.
func BenchmarkStreamLoad(b *testing.B) {
	data := make([]byte, 256<<20)
	h := func(ctx context.Context, req *Request) (uint32, []byte, []wire.Named) {
		hd, _ := req.Body.Next()
		t := sdk.NewTensor(hd.DType, hd.IntShape()...)
		if err := wire.ReadInto(req.Body, hd, t); err != nil {
			b.Error(err)
		}
		return 0, nil, nil
	}
	_, c := pairWith(b, Options{Handler: h, Stream: func(string) bool { return true }})
	b.SetBytes(int64(len(data)))
	for range b.N {
		s := &wire.Source{DType: sdk.Float32, Shape: []int{len(data) / 4}, R: bytes.NewReader(data)}
		if _, err := c.Call(context.Background(), time.Time{}, "load", nil, []wire.Named{{Name: "x", Source: s}}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestStreamLaneSize: a lane has the areas it was made for, the first
// minArea and a streamed call's streamArea, whatever the state's size.
func TestStreamLaneSize(t *testing.T) {
	_, c := pairWith(t, Options{Handler: streamer(t)})
	sizes := func() (req, ans []int64) {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, l := range c.free {
			req, ans = append(req, l.reqLen()), append(ans, l.ansLen())
		}
		return req, ans
	}
	if req, ans := sizes(); len(req) != 1 || req[0] != minArea || ans[0] != minArea {
		t.Fatalf("first lane: request areas %v, answer areas %v; want one of %d", req, ans, minArea)
	}
	var sink byteSink
	if _, err := c.CallTo(context.Background(), time.Time{}, "save", nil, nil, &sink); err != nil {
		t.Fatal(err)
	}
	if sink.data.Len() != 9<<20 {
		t.Fatalf("%d bytes streamed, want %d", sink.data.Len(), 9<<20)
	}
	if _, ans := sizes(); len(ans) != 1 || ans[0] != streamArea {
		t.Fatalf("after a streamed call: answer areas %v, want one of %d", ans, streamArea)
	}
}
