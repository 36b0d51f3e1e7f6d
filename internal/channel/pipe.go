//go:build linux

package channel

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"sync/atomic"
	"time"
	"unsafe"
)

// pipe is one direction of a lane: an area the writer fills with one part
// at a time, and the four control words of docs/channel.md.
type pipe struct {
	posted, taken, readerWaits, writerWaits *atomic.Uint32
	area                                    []byte
}

func word(mem []byte, off int) *atomic.Uint32 {
	return (*atomic.Uint32)(unsafe.Pointer(&mem[off]))
}

func newPipe(mem []byte, ctl int, area []byte) pipe {
	return pipe{
		posted: word(mem, ctl+pipePosted), taken: word(mem, ctl+pipeTaken),
		readerWaits: word(mem, ctl+pipeReaderWaits), writerWaits: word(mem, ctl+pipeWriterWaits),
		area: area,
	}
}

// waiter says how long a side may wait and when to give up: it is checked
// after every sleep (at most tick long) and on every wake-up.
type waiter struct {
	spin     time.Duration // the longest spin before sleeping
	pace     *pace         // this side's waits on this lane (nil: spin the whole spin)
	deadline time.Time     // zero: none
	// When waiting must end: the peer is gone (dead), the lane is closed
	// (closed, if set: the callee's side), or ctx (if set) is done.
	// Fields rather than a closure: a Langevin step allocates nothing here.
	dead   *atomic.Bool
	closed *atomic.Uint32
	ctx    context.Context
}

// stop returns a non-nil error when waiting must end.
func (wt *waiter) stop() error {
	switch {
	case wt.dead.Load():
		return ErrPeerGone
	case wt.closed != nil && wt.closed.Load() != 0:
		return ErrClosed
	case wt.ctx != nil:
		return wt.ctx.Err()
	}
	return nil
}

// tick bounds one futex sleep, so that a lost wake-up or a stop condition
// that wakes no one costs at most this long.
const tick = 100 * time.Millisecond

var errDeadline = fmt.Errorf("deadline passed")

// until waits until cond() is true: a spin as long as the pace suggests
// (at most wt.spin), then futex sleeps on w (whose value the peer changes
// when cond may have become true), flagging the sleep in flag so that the
// peer knows to wake us.
//
// The spin's first part makes no system call: on this machine's virtual
// CPUs a sched_yield costs microseconds, and a toy step's wait made of
// them cost more than the step. It lasts about as long as this side's
// waits usually do (at most busyCap); the rest of the spin yields the core
// at every turn, for a peer that may be waiting for it.
func (wt waiter) until(w, flag *atomic.Uint32, cond func() bool) error {
	if cond() {
		wt.pace.saw(0, wt.spin)
		return nil
	}
	start := time.Now()
	if busy, spin := wt.pace.window(wt.spin); spin > 0 {
		for i := 1; ; i++ {
			if cond() {
				wt.pace.saw(time.Since(start), wt.spin)
				return nil
			}
			// No PAUSE instruction here: an assembly function is no place
			// for the runtime to stop a goroutine, and a spin that spent
			// most of its time in one held up a garbage collection's
			// stop-the-world for tens of ms. This loop can be stopped
			// anywhere.
			if i&15 != 0 {
				continue
			}
			d := time.Since(start)
			if d > spin {
				break
			}
			if d > busy {
				yield()
			}
		}
	}
	for {
		v := w.Load()
		flag.Store(1) // a full barrier on amd64 (XCHG): the peer's next check sees it
		if cond() {
			flag.Store(0)
			wt.pace.saw(time.Since(start), wt.spin)
			return nil
		}
		d := tick
		if !wt.deadline.IsZero() {
			left := time.Until(wt.deadline)
			if left <= 0 {
				flag.Store(0)
				return errDeadline
			}
			d = min(d, left)
		}
		wait(w, v, d)
		flag.Store(0)
		if cond() {
			wt.pace.saw(time.Since(start), wt.spin)
			return nil
		}
		if err := wt.stop(); err != nil {
			return err
		}
	}
}

// partWriter writes one message into a pipe as parts: it fills the area
// after the part header, posts a part when the area is full (and waits for
// the reader to take it), and posts the last part on finish.
type partWriter struct {
	p    *pipe
	call uint32
	wt   waiter
	n    int  // payload bytes in the current part
	more bool // a part of this message has been posted
	err  error
}

func (w *partWriter) reset(p *pipe, call uint32, wt waiter) {
	*w = partWriter{p: p, call: call, wt: wt}
}

// begin waits until the reader has taken every earlier part: the area is
// ours.
func (w *partWriter) begin() error {
	p := w.p
	w.err = w.wt.until(p.taken, p.writerWaits, func() bool { return p.taken.Load() == p.posted.Load() })
	return w.err
}

func (w *partWriter) place() ([]byte, int, bool) { return w.p.area, partHeader + w.n, !w.more }

// skip passes over n bytes of the current part, which must hold them.
func (w *partWriter) skip(n int) { w.n += n }

// WriteString is Write without converting s to bytes.
func (w *partWriter) WriteString(s string) (int, error) { return writeParts(w, s) }

func (w *partWriter) Write(b []byte) (int, error) { return writeParts(w, b) }

// writeParts copies b into the area, posting a part (and waiting for the
// reader to take it) each time the area is full.
func writeParts[T string | []byte](w *partWriter, b T) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	done := 0
	for len(b) > 0 {
		if _, err := w.room(); err != nil {
			return done, err
		}
		k := copy(w.p.area[partHeader+w.n:], b)
		w.n += k
		done += k
		b = b[k:]
	}
	return done, nil
}

// room returns the free bytes of the current part, posting the part and
// beginning the next (waiting for the reader to take it) when it is full.
func (w *partWriter) room() (int, error) {
	if room := len(w.p.area) - partHeader - w.n; room > 0 {
		return room, nil
	}
	if w.err = w.post(false); w.err != nil {
		return 0, w.err
	}
	if w.err = w.begin(); w.err != nil {
		return 0, w.err
	}
	return len(w.p.area) - partHeader - w.n, nil
}

// post publishes the current part.
func (w *partWriter) post(last bool) error {
	var flags uint32
	if last {
		flags = flagLast
	}
	a := w.p.area
	binary.LittleEndian.PutUint32(a[0:], w.call)
	binary.LittleEndian.PutUint32(a[4:], flags)
	binary.LittleEndian.PutUint64(a[8:], uint64(w.n))
	w.n = 0
	w.more = true
	w.p.posted.Add(1) // LOCK XADD: the part's bytes are visible before the count
	if w.p.readerWaits.Load() != 0 {
		wake(w.p.posted)
	}
	return nil
}

// finish posts the last part.
func (w *partWriter) finish() error {
	if w.err != nil {
		return w.err
	}
	return w.post(true)
}

// partReader reads one message from a pipe part by part. It checks each
// part header against the area and the expected call id before using it.
type partReader struct {
	p    *pipe
	wt   waiter
	call uint32 // expected call id; set from the first part when anyCall
	any  bool
	buf  []byte // unread payload of the current part (a view of the area)
	last bool
	held bool // a part is held: taken not yet advanced
	err  error
	max  int64 // total payload bytes allowed
	got  int64
}

func (r *partReader) reset(p *pipe, wt waiter, call uint32, anyCall bool, max int64) {
	*r = partReader{p: p, wt: wt, call: call, any: anyCall, max: max}
}

// next releases the current part and waits for the next one.
func (r *partReader) next() error {
	p := r.p
	if r.held {
		r.release()
	}
	if r.last {
		return fmt.Errorf("%w: message ends here", ErrProtocol)
	}
	seen := p.taken.Load()
	if err := r.wt.until(p.posted, p.readerWaits, func() bool { return p.posted.Load() != seen }); err != nil {
		return err
	}
	if got := p.posted.Load(); got != seen+1 {
		return fmt.Errorf("%w: %d parts posted, %d taken", ErrProtocol, got, seen)
	}
	a := p.area
	call := binary.LittleEndian.Uint32(a[0:])
	flags := binary.LittleEndian.Uint32(a[4:])
	n := binary.LittleEndian.Uint64(a[8:])
	if n > uint64(len(a)-partHeader) {
		return fmt.Errorf("%w: part of %d bytes in an area of %d", ErrProtocol, n, len(a)-partHeader)
	}
	if r.any && r.got == 0 && !r.held && r.buf == nil {
		r.call, r.any = call, false
	}
	if call != r.call {
		return fmt.Errorf("%w: part of call %d during call %d", ErrProtocol, call, r.call)
	}
	if flags&^flagLast != 0 {
		return fmt.Errorf("%w: unknown part flags %#x", ErrProtocol, flags)
	}
	r.got += int64(n)
	if r.got > r.max {
		return fmt.Errorf("%w: message larger than %d bytes", ErrTooLarge, r.max)
	}
	r.buf, r.last, r.held = a[partHeader:partHeader+int(n)], flags&flagLast != 0, true
	return nil
}

// release hands the current part back to the writer.
func (r *partReader) release() {
	r.held = false
	r.buf = nil
	r.p.taken.Add(1)
	if r.p.writerWaits.Load() != 0 {
		wake(r.p.taken)
	}
}

// available returns the unread bytes of the current part, fetching the
// next part when the current one is used up.
func (r *partReader) available() ([]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	for len(r.buf) == 0 {
		if r.err = r.next(); r.err != nil {
			return nil, r.err
		}
	}
	return r.buf, nil
}

// final returns the next n unread bytes of the current part (not consumed)
// when it is the message's last part and holds them; else nil.
func (r *partReader) final(n int64) []byte {
	if r.err != nil || !r.held || !r.last || int64(len(r.buf)) < n {
		return nil
	}
	return r.buf[:n:n]
}

// consume marks n bytes of available() read.
func (r *partReader) consume(n int) { r.buf = r.buf[n:] }

// done checks that the message ended exactly here and releases the last
// part.
func (r *partReader) done() error {
	if r.err != nil {
		return r.err
	}
	for {
		if len(r.buf) != 0 {
			return fmt.Errorf("%w: %d bytes after the message", ErrProtocol, len(r.buf))
		}
		if r.last {
			break
		}
		if r.err = r.next(); r.err != nil {
			return r.err
		}
	}
	if r.held {
		r.release()
	}
	return nil
}

// fill copies n bytes from r straight into the area, posting parts as it
// fills up; it returns the bytes copied.
func (w *partWriter) fill(r io.Reader, n int64) (int64, error) {
	var done int64
	for done < n {
		if w.err != nil {
			return done, w.err
		}
		room, err := w.room()
		if err != nil {
			return done, err
		}
		k := int(min(int64(room), n-done))
		got, err := io.ReadFull(r, w.p.area[partHeader+w.n:partHeader+w.n+k])
		w.n += got
		done += int64(got)
		if err != nil {
			return done, err
		}
	}
	return done, nil
}
