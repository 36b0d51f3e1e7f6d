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
type outputs struct {
	ts   []*sdk.Tensor
	next int
}

// maxOutputs bounds the tensors a lane keeps for reuse.
const maxOutputs = 8

func (o *outputs) reset() { o.next = 0 }

func (o *outputs) tensor(dt sdk.DType, shape ...int) *sdk.Tensor {
	i := o.next
	o.next++
	if i < len(o.ts) {
		if t := o.ts[i]; t.DType == dt && slices.Equal(t.Shape, shape) {
			return t
		}
	}
	t := sdk.NewTensor(dt, shape...)
	switch {
	case i < len(o.ts):
		o.ts[i] = t
	case i < maxOutputs:
		o.ts = append(o.ts, t)
	}
	return t
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
