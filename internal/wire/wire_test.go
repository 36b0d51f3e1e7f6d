package wire

import (
	"errors"
	"io"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/ebmflow/ebmflow/internal/pb"
	"github.com/ebmflow/ebmflow/sdk"
	"google.golang.org/protobuf/proto"
)

// pipe is an in-memory frame stream.
type pipe struct {
	frames []*pb.Frame
	i      int
}

func (p *pipe) Send(f *pb.Frame) error {
	// Copy the data: Send may be handed a view of the tensor's memory.
	p.frames = append(p.frames, proto.Clone(f).(*pb.Frame))
	return nil
}

func (p *pipe) Recv() (*pb.Frame, error) {
	if p.i >= len(p.frames) {
		return nil, io.EOF
	}
	p.i++
	return p.frames[p.i-1], nil
}

func TestRoundTrip(t *testing.T) {
	big := sdk.NewTensor(sdk.Float32, 3, 1, 300, 300) // 1,080,000 bytes: two chunks
	for i := range big.F32 {
		big.F32[i] = float32(i) * 0.5
	}
	f64 := sdk.FromFloat64([]float64{math.Pi, -0, math.MaxFloat64, math.SmallestNonzeroFloat64}, 2, 2)
	empty := sdk.NewTensor(sdk.Float32, 0, 2)
	var p pipe
	if err := Send(&p, &pb.UpdateRequest{Lr: 0.25, T: 7}, Named{Name: "big", Tensor: big}, Named{Name: "f64", Tensor: f64}, Named{Name: "none"}, Named{Name: "empty", Tensor: empty}); err != nil {
		t.Fatal(err)
	}
	for _, f := range p.frames {
		if f.Chunk != nil && len(f.Chunk.Data) > ChunkSize {
			t.Fatalf("chunk of %d bytes", len(f.Chunk.Data))
		}
	}
	if len(p.frames) != 4 { // big: 2 frames (the first carries the meta), f64: 1, empty: 1
		t.Fatalf("%d frames, want 4", len(p.frames))
	}
	msg, err := Recv(&p, 0)
	if err != nil {
		t.Fatal(err)
	}
	var req pb.UpdateRequest
	if err := msg.Unmarshal(&req); err != nil || req.Lr != 0.25 || req.T != 7 {
		t.Fatalf("meta = %+v, %v", &req, err)
	}
	got, err := msg.Tensor("big")
	if err != nil {
		t.Fatal(err)
	}
	if err := got.Expect(sdk.Float32, 3, 1, 300, 300); err != nil {
		t.Fatal(err)
	}
	for i := range big.F32 {
		if got.F32[i] != big.F32[i] {
			t.Fatalf("big[%d] = %v, want %v", i, got.F32[i], big.F32[i])
		}
	}
	g64 := msg.Tensors["f64"]
	for i := range f64.F64 {
		if math.Float64bits(g64.F64[i]) != math.Float64bits(f64.F64[i]) {
			t.Fatalf("f64[%d] = %v, want %v", i, g64.F64[i], f64.F64[i])
		}
	}
	if e := msg.Tensors["empty"]; e == nil || e.Len() != 0 || len(e.Shape) != 2 {
		t.Fatalf("empty tensor = %+v", e)
	}
	if _, ok := msg.Tensors["none"]; ok {
		t.Fatal("nil tensor was sent")
	}
}

func header(name string, dt pb.DType, shape []int64, n int64, data []byte) *pb.Frame {
	return &pb.Frame{Chunk: &pb.TensorChunk{Start: true, Name: name, Dtype: dt, Shape: shape, ByteLen: n, Data: data}}
}

func TestDecoderRefuses(t *testing.T) {
	f32 := pb.DType_FLOAT32
	cases := []struct {
		name   string
		frames []*pb.Frame
		limit  int64
		want   string
	}{
		{"unknown dtype", []*pb.Frame{header("x", pb.DType_DTYPE_UNSPECIFIED, []int64{1}, 4, make([]byte, 4))}, 0, "unknown dtype"},
		{"negative dim", []*pb.Frame{header("x", f32, []int64{-1, 4}, 4, nil)}, 0, "negative dimension"},
		{"length disagrees", []*pb.Frame{header("x", f32, []int64{2, 2}, 12, nil)}, 0, "claims 12 bytes, its shape needs 16"},
		{"over limit", []*pb.Frame{header("x", f32, []int64{1000, 1000}, 4e6, nil)}, 1 << 20, "exceeds the limit"},
		{"overflow", []*pb.Frame{header("x", f32, []int64{1 << 40, 1 << 40}, 0, nil)}, 0, "overflows"},
		{"truncated", []*pb.Frame{header("x", f32, []int64{4}, 16, make([]byte, 8))}, 0, "truncated at 8 of 16"},
		{"too much data", []*pb.Frame{header("x", f32, []int64{1}, 4, make([]byte, 8))}, 0, "more than its 4 bytes"},
		{"stray chunk", []*pb.Frame{{}, {Chunk: &pb.TensorChunk{Data: []byte{1}}}}, 0, "outside a tensor"},
		{"header inside tensor", []*pb.Frame{header("x", f32, []int64{2}, 8, make([]byte, 4)), header("y", f32, []int64{1}, 4, nil)}, 0, "ended after 4 of 8"},
		{"duplicate", []*pb.Frame{header("x", f32, []int64{1}, 4, make([]byte, 4)), header("x", f32, []int64{1}, 4, make([]byte, 4))}, 0, "sent twice"},
		{"late meta", []*pb.Frame{{}, {Meta: []byte{1}}}, 0, "expected only in the first"},
		{"oversized chunk", []*pb.Frame{header("x", pb.DType_FLOAT64, []int64{1 << 18}, 1<<21, make([]byte, ChunkSize+8))}, 0, "exceeds"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := &pipe{frames: c.frames}
			_, err := Recv(p, c.limit)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) && !strings.Contains(err.Error(), "dimension") && !strings.Contains(err.Error(), "overflows") {
				t.Fatalf("err = %v is neither ErrMalformed nor ErrTooLarge", err)
			}
		})
	}
}

func TestSendRefusesInvalidTensor(t *testing.T) {
	bad := &sdk.Tensor{DType: sdk.Float32, Shape: []int{2, 2}, F32: make([]float32, 3)}
	if err := Send(&pipe{}, nil, Named{Name: "x", Tensor: bad}); err == nil || !errors.Is(err, sdk.ErrShape) {
		t.Fatalf("err = %v", err)
	}
}

// TestHeaderAllocatesNothingAhead: a header claiming 1 GiB followed by a
// few bytes costs what arrived, not what was claimed.
func TestHeaderAllocatesNothingAhead(t *testing.T) {
	frames := []*pb.Frame{header("x", pb.DType_FLOAT32, []int64{1 << 28}, 1<<30, make([]byte, 1024))}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Recv(&pipe{frames: frames}, 1<<31)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("err = %v", err)
	}
	if d := after.TotalAlloc - before.TotalAlloc; d > 1<<20 {
		t.Fatalf("allocated %d bytes for 1 KiB of data", d)
	}
}
