//go:build linux

package channel

import (
	"context"
	"os"
	"testing"
	"time"
	"unsafe"

	"github.com/ebmflow/ebmflow/internal/wire"
)

// TestAlignedRequestInPlace checks that a borrowing callee gets a large
// request tensor where it lies in the lane's request area (the caller
// aligned it there: flagAligned), a small one or one spread over several
// parts copied, and the right values every time.
func TestAlignedRequestInPlace(t *testing.T) {
	var ln *Listener
	var where []bool
	handler := func(ctx context.Context, req *Request) (uint32, []byte, []wire.Named) {
		x := req.Tensors["x"]
		p := uintptr(unsafe.Pointer(&x.F32[0]))
		inArea := false
		ln.mu.Lock()
		for l := range ln.live {
			a := l.req.area
			lo := uintptr(unsafe.Pointer(&a[0]))
			if p >= lo && p < lo+uintptr(len(a)) {
				inArea = true
				if p&63 != 0 {
					t.Errorf("tensor in the area at %#x, not 64-byte aligned", p)
				}
			}
		}
		ln.mu.Unlock()
		where = append(where, inArea)
		y := req.Out(x.DType, x.Shape...)
		for i, v := range x.F32 {
			y.F32[i] = v + 1
		}
		return 0, nil, []wire.Named{{Name: "y", Tensor: y}}
	}
	var err error
	ln, err = Listen(Options{Peer: os.Getpid(), Limit: 1 << 30, Handler: handler, Borrow: func(string) bool { return true }})
	if err != nil {
		t.Fatal(err)
	}
	c, err := Dial(ln.Name, os.Getpid(), 1<<30)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); ln.Close() })

	// The last is larger than the largest area (maxArea): its parts
	// overwrite one another, so it must be copied.
	sizes := []int{200, 102400, 102400, 3 << 20, 17 << 20}
	for _, n := range sizes {
		x := ramp(n)
		a, err := c.Call(context.Background(), time.Time{}, "inc", nil, []wire.Named{{Name: "x", Tensor: x}})
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
	want := []bool{false, true, true, true, false}
	for i := range want {
		if where[i] != want[i] {
			t.Errorf("n=%d: used in the area: %v, want %v", sizes[i], where[i], want[i])
		}
	}
}
