//go:build linux

package channel

import (
	"context"
	"testing"
	"time"
	"unsafe"

	"github.com/ebmflow/ebmflow/internal/wire"
	"github.com/ebmflow/ebmflow/sdk"
)

// TestAlignedInPlace checks both ends of a call that copies nothing in the
// callee: a borrowing callee gets a large request tensor where it lies in
// the lane's request area (the caller aligned it there: flagAligned), and
// the storage Request.Out gives for a large answer tensor lies in the
// answer area, where it is sent from. A small tensor, or one spread over
// several parts, is copied. The values are right every time, also when
// an answer's message is too long for its tensor to be sent from where it
// lies (it is then copied out first).
func TestAlignedInPlace(t *testing.T) {
	var ln *Listener // the handler looks at its lanes
	var where, outWhere []bool
	inArea := func(x *sdk.Tensor, ans bool) bool {
		p := uintptr(unsafe.Pointer(&x.F32[0]))
		ln.mu.Lock()
		defer ln.mu.Unlock()
		for l := range ln.live {
			a := l.req.area
			if ans {
				a = l.ans.area
			}
			lo := uintptr(unsafe.Pointer(&a[0]))
			if p >= lo && p < lo+uintptr(len(a)) {
				if p&63 != 0 {
					t.Errorf("tensor in the area at %#x, not 64-byte aligned", p)
				}
				return true
			}
		}
		return false
	}
	handler := func(ctx context.Context, req *Request) (uint32, []byte, []wire.Named) {
		x := req.Tensors["x"]
		where = append(where, inArea(x, false))
		y := req.Out(x.DType, x.Shape...)
		outWhere = append(outWhere, inArea(y, true))
		for i, v := range x.F32 {
			y.F32[i] = v + 1
		}
		var meta []byte
		if req.Method == "long" {
			meta = make([]byte, 3*headRoom) // pushes y past where it lies
		}
		return 0, meta, []wire.Named{{Name: "y", Tensor: y}}
	}
	var c *Caller
	ln, c = pairWith(t, Options{Handler: handler, Borrow: func(string) bool { return true }})

	// The last is larger than the largest area (maxArea): its parts
	// overwrite one another, so it must be copied.
	// Each size twice: the first call of a size teaches the caller the
	// answer's size, and the second finds a lane whose areas hold it.
	sizes := []int{200, 200, 102400, 102400, 3 << 20, 3 << 20, 17 << 20, 102400, 102400}
	for i, n := range sizes {
		x := ramp(n)
		method := "inc"
		if i >= len(sizes)-2 {
			method = "long"
		}
		a, err := c.Call(context.Background(), time.Time{}, method, nil, []wire.Named{{Name: "x", Tensor: x}})
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		y := a.Tensors["y"]
		for i := range y.F32 {
			if y.F32[i] != x.F32[i]+1 {
				t.Fatalf("n=%d: y[%d] = %v, want %v", n, i, y.F32[i], x.F32[i]+1)
			}
		}
	}
	want := []bool{false, false, true, true, true, true, false, true, true}
	wantOut := []bool{false, false, false, true, false, true, false, true, true}
	for i := range want {
		if where[i] != want[i] {
			t.Errorf("call %d (n=%d): request tensor used in the area: %v, want %v", i+1, sizes[i], where[i], want[i])
		}
		if outWhere[i] != wantOut[i] {
			t.Errorf("call %d (n=%d): answer tensor in the area: %v, want %v", i+1, sizes[i], outWhere[i], wantOut[i])
		}
	}
}
