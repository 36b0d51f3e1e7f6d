package channel

import (
	"errors"
	"io"
	"unsafe"

	"github.com/ebmflow/ebmflow/internal/wire"
)

// Aligned tensors (docs/channel.md): where a record's large tensors lie in
// a pipe's area, so that a callee reads a request's batch where the caller
// wrote it and sends an answer tensor from where it computed it.

// placer is a writer into a pipe's area that knows where its next byte
// goes, and can pass over bytes already in place.
type placer interface {
	io.Writer
	// place returns the area, the offset in it of the next byte, and
	// whether that byte is in the message's first part (nothing of the
	// message has been posted, so nothing in the area was overwritten).
	place() (area []byte, at int, first bool)
	// skip passes over n bytes of the current part without writing them.
	skip(n int)
}

// errUnplaced: an answer tensor that lies in the area cannot be sent from
// where it lies (encodeAnswerFrom then copies it out first).
var errUnplaced = errors.New("an answer tensor in the area is not where the record needs it")

// flagAligned, in a tensor's dtype field, says that u32 pad and pad bytes
// come between its byte length and its data, so that the data starts at a
// 64-byte boundary of the area: a callee can then use it where it lies,
// without copying it (Options.Borrow), and a callee's answer tensor that it
// computed straight into the area (Request.Out) is sent without a copy.
const flagAligned = 0x100

// alignMin is the smallest tensor whose data the encoder aligns: below it,
// a copy costs less than the reader's checks.
const alignMin = 4096

// alignment returns the pad that puts a tensor's data (n bytes, after a
// header for name and ndim dimensions) at a 64-byte boundary of the area,
// or -1 when the encoder does not align it: not a pipe, a small tensor, or
// one that would not lie whole in the current part. there says that the
// data already lies in the area at that place: the pad reaches it.
func (e *encoder) alignment(name string, ndim int, data []byte) (pad int, there bool, err error) {
	w, ok := e.w.(placer)
	if !ok || len(data) < alignMin {
		return -1, false, nil
	}
	area, at, first := w.place()
	at += 4 + len(name) + 4 + 4 + 8*ndim + 8 + 4
	if o, in := offsetIn(area, data); in {
		if !first || o < at {
			return -1, false, errUnplaced
		}
		return o - at, true, nil
	}
	pad = -at & 63
	if at+pad+len(data) > len(area) {
		return -1, false, nil
	}
	return pad, false, nil
}

// offsetIn returns b's offset in area, and whether b lies wholly in it.
func offsetIn(area, b []byte) (int, bool) {
	if len(area) == 0 || len(b) == 0 {
		return 0, false
	}
	lo, p := uintptr(unsafe.Pointer(&area[0])), uintptr(unsafe.Pointer(&b[0]))
	if p < lo || p-lo+uintptr(len(b)) > uintptr(len(area)) {
		return 0, false
	}
	return int(p - lo), true
}

// encodeAnswerFrom is encodeAnswer into a pipe whose area may hold some of
// the answer's tensors (Request.Out put them there): a dry run over the
// record's layout checks that each can be sent from where it lies, and
// copies out, before anything is written, those that cannot. lw is the
// lane's, reused from answer to answer.
func encodeAnswerFrom(w *partWriter, lw *layout, code uint32, meta []byte, ts []wire.Named) error {
	if err := checkOut("", meta, ts); err != nil {
		return err
	}
	inArea := false
	for _, nt := range ts {
		if nt.Tensor != nil {
			_, in := offsetIn(w.p.area, wire.TensorBytes(nt.Tensor))
			inArea = inArea || in
		}
	}
	if !inArea {
		return writeAnswer(w, code, meta, ts)
	}
	*lw = layout{area: w.p.area}
	if err := writeAnswer(lw, code, meta, ts); errors.Is(err, errUnplaced) {
		for i, nt := range ts {
			if nt.Tensor != nil {
				if _, in := offsetIn(w.p.area, wire.TensorBytes(nt.Tensor)); in {
					ts[i].Tensor = nt.Tensor.Clone()
				}
			}
		}
	}
	return writeAnswer(w, code, meta, ts)
}

// layout is a placer that writes nothing: it follows where a record's bytes
// would go in an area of one part.
type layout struct {
	area []byte
	n    int  // payload bytes so far
	over bool // past the first part
}

func (l *layout) Write(b []byte) (int, error) { l.skip(len(b)); return len(b), nil }

func (l *layout) place() ([]byte, int, bool) { return l.area, partHeader + l.n, !l.over }

func (l *layout) skip(n int) {
	l.n += n
	if partHeader+l.n > len(l.area) {
		l.over = true
	}
}

// inPlace returns the next n bytes of src where they lie, when they are the
// last part's and 64-byte aligned (flagAligned put them there), else nil.
func inPlace(src source, n int64) []byte {
	b := src.final(n)
	if b == nil || n == 0 || uintptr(unsafe.Pointer(&b[0]))&63 != 0 {
		return nil
	}
	src.consume(int(n))
	return b
}
