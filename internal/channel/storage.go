package channel

import (
	"slices"

	"github.com/ebmflow/ebmflow/internal/wire"
	"github.com/ebmflow/ebmflow/sdk"
)

// Storage a lane keeps from call to call: the callee's arena for borrowed
// request tensors and its answer tensors, the names of its records, and
// the test of whether a caller's storage fits an answer tensor.

// outputs is the storage a lane reuses for answer tensors (Request.Out):
// the i-th tensor asked for in a request is the i-th of the last request
// when its dtype and shape are the same, else a new one kept for next time.
//
// A large tensor (alignMin or more) goes into the lane's answer area when
// it fits there, after room for the answer's head: the callee computes it
// where the answer needs it, and it is sent without a copy
// (encodeAnswerFrom). The area is free while the handler runs: the caller
// sends a request only after it has taken the whole previous answer.
type outputs struct {
	ts   []*sdk.Tensor
	next int
	area []byte // the answer area (nil: outputs on the heap only)
	used int    // the area's bytes taken by this answer's outputs
}

// maxOutputs bounds the tensors a lane keeps for reuse.
const maxOutputs = 8

// headRoom is the room left at the start of the answer area for what the
// answer has before its first large tensor (status, message, small
// tensors, headers); an answer that needs more is still right, its
// tensors then copied out of the area first.
const headRoom = 4096

func (o *outputs) reset() { o.next, o.used = 0, headRoom }

func (o *outputs) tensor(dt sdk.DType, shape ...int) *sdk.Tensor {
	i := o.next
	o.next++
	off := (o.used + 63) &^ 63
	if i < len(o.ts) {
		if t := o.ts[i]; t.DType == dt && slices.Equal(t.Shape, shape) {
			data := wire.TensorBytes(t)
			at, in := offsetIn(o.area, data)
			if !in {
				return t
			}
			if at == off {
				o.used = off + len(data)
				return t
			}
		}
	}
	t := o.fresh(off, dt, shape)
	switch {
	case i < len(o.ts):
		o.ts[i] = t
	case i < maxOutputs:
		o.ts = append(o.ts, t)
	}
	return t
}

// fresh is a new output tensor: in the area at off when it is large and
// fits there, else on the heap.
func (o *outputs) fresh(off int, dt sdk.DType, shape []int) *sdk.Tensor {
	n := dt.Size()
	for _, d := range shape {
		n *= d
	}
	if n < alignMin || o.area == nil || off+n > len(o.area) {
		return sdk.NewTensor(dt, shape...)
	}
	o.used = off + n
	dims := make([]int64, len(shape))
	for i, d := range shape {
		dims[i] = int64(d)
	}
	return wire.TensorOver(dt, dims, int64(n/dt.Size()), o.area[off:off+n:off+n])
}

// names interns the method and tensor names of a lane's records, which
// repeat from call to call, sparing two allocations per name.
type names struct{ m map[string]string }

// maxInterned bounds the names kept; later ones are allocated each time.
const maxInterned = 64

func (n *names) get(b []byte) string {
	if s, ok := n.m[string(b)]; ok {
		return s
	}
	s := string(b)
	if n.m == nil {
		n.m = map[string]string{}
	}
	if len(n.m) < maxInterned {
		n.m[s] = s
	}
	return s
}

// arena is storage a lane reuses from request to request for the tensors
// of methods that borrow them (Options.Borrow): the handler sees them only
// until it returns. A tensor that does not fit is read as usual (storage
// growing as its bytes arrive), and the arena grows to fit before the next
// request, so that nothing is allocated ahead of bytes that have not come.
type arena struct {
	buf  []byte
	off  int64
	miss int64 // bytes that did not fit this time, and arrived
}

// take returns n bytes of the arena, 64-byte aligned, or nil when they do
// not fit.
func (a *arena) take(n int64) []byte {
	off := (a.off + 63) &^ 63
	if off+n > int64(len(a.buf)) {
		return nil
	}
	a.off = off + n
	return a.buf[off : off+n : off+n]
}

// reset makes the whole arena free for the next request, enlarged first
// if the last one did not fit.
func (a *arena) reset() {
	if a.miss > 0 {
		a.buf = wire.AlignedBytes(a.off + a.miss)
	}
	a.off, a.miss = 0, 0
}

// fits reports whether t has dtype dt and the given shape, so that a
// tensor's bytes can be read into it.
func fits(t *sdk.Tensor, dt sdk.DType, shape []int64) bool {
	if t.DType != dt || len(t.Shape) != len(shape) || t.Validate() != nil {
		return false
	}
	for i, d := range shape {
		if int64(t.Shape[i]) != d {
			return false
		}
	}
	return true
}
