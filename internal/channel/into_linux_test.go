//go:build linux

package channel

import (
	"context"
	"testing"
	"time"

	"github.com/ebmflow/ebmflow/internal/wire"
	"github.com/ebmflow/ebmflow/sdk"
)

// TestAnswerStorage checks both ends' reuse of answer storage: the callee's
// Request.Out gives the same tensor call after call while the shape stays
// (a new one when it changes), and CallInto reads an answer tensor into
// the caller's tensor when dtype and shape match, and into a new one when
// they do not, the values right in every case. Sizes include one that
// needs several parts.
func TestAnswerStorage(t *testing.T) {
	var outs []*sdk.Tensor
	handler := func(ctx context.Context, req *Request) (uint32, []byte, []wire.Named) {
		x := req.Tensors["x"]
		y := req.Out(x.DType, x.Shape...)
		for i, v := range x.F32 {
			y.F32[i] = 3 * v
		}
		outs = append(outs, y)
		return 0, nil, []wire.Named{{Name: "y", Tensor: y}}
	}
	_, c := pair(t, handler)
	for _, n := range []int{200, 200, 3 << 20, 3 << 20, 200} {
		x := ramp(n)
		mine := sdk.NewTensor(sdk.Float32, x.Shape...)
		other := sdk.NewTensor(sdk.Float32, 1, n) // same size, another shape
		for _, into := range []*sdk.Tensor{mine, other} {
			a, err := c.CallInto(context.Background(), time.Time{}, "triple", nil, []wire.Named{{Name: "x", Tensor: x}}, map[string]*sdk.Tensor{"y": into})
			if err != nil {
				t.Fatalf("n=%d: %v", n, err)
			}
			y := a.Tensors["y"]
			if (y == into) != (into == mine) {
				t.Fatalf("n=%d: answer read into the caller's tensor: %v, want %v", n, y == into, into == mine)
			}
			if len(y.F32) != n {
				t.Fatalf("n=%d: %d values", n, len(y.F32))
			}
			for i := range y.F32 {
				if y.F32[i] != 3*x.F32[i] {
					t.Fatalf("n=%d: y[%d] = %v, want %v", n, i, y.F32[i], 3*x.F32[i])
				}
			}
		}
	}
	// Storage is per lane. Calls 1-4 (n = 200) share a lane and so one
	// tensor; call 5 (3M) takes the same lane and needs a new one; the
	// caller then moves the method to a larger lane, where calls 7 and 8
	// reuse the tensor of call 6.
	for i, want := range map[int]int{1: 0, 2: 0, 3: 0, 6: 5, 7: 5} {
		if outs[i] != outs[want] {
			t.Errorf("call %d: a new answer tensor, want the one of call %d", i+1, want+1)
		}
	}
	if outs[4] == outs[0] {
		t.Error("an answer tensor of another shape reused")
	}
}
