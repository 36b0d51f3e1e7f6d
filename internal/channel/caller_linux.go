//go:build linux

package channel

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ebmflow/ebmflow/internal/wire"
	"github.com/ebmflow/ebmflow/sdk"
	"golang.org/x/sys/unix"
)

// maxLanes bounds the concurrent calls of one caller; more wait for a lane.
const maxLanes = 8

// Caller makes calls over a channel. Safe for concurrent use: each call
// takes a lane of its own.
type Caller struct {
	conn  *net.UnixConn
	limit int64
	spin  time.Duration

	dead    atomic.Bool
	replies chan []byte

	mu      sync.Mutex
	cond    *sync.Cond
	free    []*lane
	live    map[*lane]bool
	count   int // lanes live or being made
	nextID  uint32
	closed  bool
	hints   map[string]int64
	setupMu sync.Mutex // one lane announcement at a time
}

// Dial connects to a callee's socket and checks that the process there is
// pid. limit is the largest tensor accepted in an answer.
func Dial(name string, pid int, limit int64) (*Caller, error) {
	if !Enabled() {
		return nil, ErrUnsupported
	}
	conn, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: name, Net: "unixpacket"})
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	got, err := peerPid(conn)
	if err == nil && got != pid {
		err = fmt.Errorf("the socket is served by pid %d, not the expected %d", got, pid)
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	c := &Caller{conn: conn, limit: limit, spin: spinFor(), replies: make(chan []byte, 1), hints: map[string]int64{}, live: map[*lane]bool{}}
	c.cond = sync.NewCond(&c.mu)
	go c.read()
	l, err := c.newLane(minArea, minArea)
	if err != nil {
		c.Close()
		return nil, err
	}
	c.mu.Lock()
	c.free, c.count = append(c.free, l), 1
	c.mu.Unlock()
	return c, nil
}

// read receives the callee's replies; when the socket ends the peer is
// gone, and every waiter is woken.
func (c *Caller) read() {
	for {
		b := make([]byte, 512)
		n, _, _, _, err := c.conn.ReadMsgUnix(b, nil)
		if err != nil || n == 0 {
			c.gone()
			return
		}
		select {
		case c.replies <- b[:n]:
		default: // a reply nobody asked for
		}
	}
}

func (c *Caller) gone() {
	c.dead.Store(true)
	c.mu.Lock()
	defer c.mu.Unlock()
	for l := range c.live {
		wake(l.ans.posted)
		wake(l.req.taken)
	}
	c.cond.Broadcast()
	close(c.replies)
}

// Dead reports whether the peer is gone.
func (c *Caller) Dead() bool { return c.dead.Load() }

// newLane makes a lane whose areas are req and ans bytes (sizes areaFor
// returned) and hands it to the callee.
func (c *Caller) newLane(req, ans int64) (*lane, error) {
	c.setupMu.Lock()
	defer c.setupMu.Unlock()
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	c.mu.Unlock()
	l, fd, err := createLane(id, req, ans)
	if err != nil {
		return nil, err
	}
	_, _, err = c.conn.WriteMsgUnix(ctlMsg(msgLane, id, ""), unix.UnixRights(fd), nil)
	unix.Close(fd) // from now on the memory is reachable only through the two mappings
	if err != nil {
		l.unmap()
		return nil, fmt.Errorf("announce lane: %w", err)
	}
	select {
	case r, ok := <-c.replies:
		if !ok {
			l.unmap()
			return nil, ErrPeerGone
		}
		if len(r) >= ctlSize && string(r[:4]) == msgOK {
			c.mu.Lock()
			c.live[l] = true
			c.mu.Unlock()
			return l, nil
		}
		l.unmap()
		if len(r) >= ctlSize && string(r[:4]) == msgError {
			return nil, fmt.Errorf("the peer refused the lane: %s", r[ctlSize:])
		}
		return nil, fmt.Errorf("%w: unexpected reply %q", ErrProtocol, r)
	case <-time.After(10 * time.Second):
		l.unmap()
		return nil, fmt.Errorf("the peer did not map the lane within 10 s")
	}
}

// take returns a free lane whose areas fit req and ans bytes (as far as
// maxArea allows), making or enlarging one as needed.
func (c *Caller) take(req, ans int64) (*lane, error) {
	wantReq, wantAns := areaFor(req), areaFor(ans)
	c.mu.Lock()
	for {
		switch {
		case c.closed:
			c.mu.Unlock()
			return nil, ErrClosed
		case c.dead.Load():
			c.mu.Unlock()
			return nil, ErrPeerGone
		}
		for i, l := range c.free {
			if l.reqLen() >= wantReq && l.ansLen() >= wantAns {
				c.free = append(c.free[:i], c.free[i+1:]...)
				c.mu.Unlock()
				return l, nil
			}
		}
		if n := len(c.free); n > 0 {
			// Too small: replace the largest free lane by a larger one.
			old := c.free[n-1]
			c.free = c.free[:n-1]
			c.mu.Unlock()
			c.abandon(old)
			wantReq, wantAns = max(wantReq, old.reqLen()), max(wantAns, old.ansLen())
			return c.make(wantReq, wantAns)
		}
		if c.count < maxLanes {
			c.count++
			c.mu.Unlock()
			return c.make(wantReq, wantAns)
		}
		c.cond.Wait()
	}
}

// make creates a lane in a slot already counted; on failure the slot is
// freed.
func (c *Caller) make(req, ans int64) (*lane, error) {
	l, err := c.newLane(req, ans)
	if err != nil {
		c.mu.Lock()
		c.count--
		c.cond.Signal()
		c.mu.Unlock()
		return nil, err
	}
	return l, nil
}

// put returns a lane after a call that ended cleanly.
func (c *Caller) put(l *lane) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		c.abandon(l)
		return
	}
	c.free = append(c.free, l)
	c.cond.Signal()
	c.mu.Unlock()
}

// drop gives up a lane whose call ended abnormally (the callee may still
// be using it).
func (c *Caller) drop(l *lane) {
	c.abandon(l)
	c.mu.Lock()
	c.count--
	c.cond.Signal()
	c.mu.Unlock()
}

// abandon tells the callee that the lane is closed and unmaps it here.
func (c *Caller) abandon(l *lane) {
	c.mu.Lock()
	delete(c.live, l)
	c.mu.Unlock()
	l.closed.Store(1)
	wake(l.req.posted)
	wake(l.ans.taken)
	l.unmap()
}

func (c *Caller) hint(method string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hints[method]
}

func (c *Caller) learn(method string, n int64) {
	c.mu.Lock()
	c.hints[method] = n
	c.mu.Unlock()
}

// Call sends a request and waits for its answer, at most until the earlier
// of deadline (zero: none) and ctx's deadline, which the callee also
// receives. An explicit deadline spares a derived context (and its timer)
// per call on a Langevin step's path. It returns ErrPeerGone when
// the callee's process ended during the call, the context's error when the
// deadline passed or ctx was cancelled, and ErrProtocol for a malformed
// answer; any of these abandons the lane.
func (c *Caller) Call(ctx context.Context, deadline time.Time, method string, meta []byte, ts []wire.Named) (*Answer, error) {
	return c.call(ctx, deadline, method, meta, ts, nil, nil)
}

// CallInto is Call reading the answer's tensors into the caller's storage
// in into, by name, where their dtype and shape match (the answer then
// holds those very tensors); other tensors are allocated as in Call.
func (c *Caller) CallInto(ctx context.Context, deadline time.Time, method string, meta []byte, ts []wire.Named, into map[string]*sdk.Tensor) (*Answer, error) {
	return c.call(ctx, deadline, method, meta, ts, nil, into)
}

// streamArea is the size of both areas of a lane made for a streamed call
// (CallTo, or a request with a Source): neither process maps a
// stage-sized buffer, and a new lane's pages, each faulted in by both
// processes, are few. Parts of 1 MiB or of 4 MiB moved a 234 MB state
// equally fast (docs/performance.md, issue 22).
const streamArea = 1 << 20

// CallTo is Call for an answer whose tensors go to sink as they arrive
// (the Answer then holds none); a lane with areas of 1 MiB carries it.
func (c *Caller) CallTo(ctx context.Context, deadline time.Time, method string, meta []byte, ts []wire.Named, sink wire.Sink) (*Answer, error) {
	return c.call(ctx, deadline, method, meta, ts, sink, nil)
}

func (c *Caller) call(ctx context.Context, deadline time.Time, method string, meta []byte, ts []wire.Named, sink wire.Sink, into map[string]*sdk.Tensor) (*Answer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	reqSize, ansSize := recordSize(method, meta, ts), c.hint(method)
	streamed := sink != nil
	for _, t := range ts {
		streamed = streamed || (t.Tensor == nil && t.Source != nil)
	}
	if streamed {
		reqSize, ansSize = min(reqSize, streamArea-partHeader), streamArea-partHeader
	}
	l, err := c.take(reqSize, ansSize)
	if err != nil {
		return nil, err
	}
	if d, ok := ctx.Deadline(); ok && (deadline.IsZero() || d.Before(deadline)) {
		deadline = d
	}
	wt := waiter{spin: c.spin, deadline: deadline, dead: &c.dead, ctx: ctx}
	l.call++
	w := &l.w
	wt.pace = &l.writePace
	w.reset(&l.req, l.call, wt)
	err = w.begin()
	if err == nil {
		err = encodeRequest(w, method, deadline, meta, ts)
	}
	if err == nil {
		err = w.finish()
	}
	var a *Answer
	if err == nil {
		r := &l.r
		wt.pace = &l.readPace
		r.reset(&l.ans, wt, l.call, false, 4*c.limit+2*maxMeta)
		if sink != nil {
			a, err = decodeAnswerTo(r, c.limit, sink)
		} else {
			a, err = decodeAnswer(r, c.limit, &l.names, into)
		}
		if err == nil {
			err = r.done()
		}
		if !streamed {
			c.learn(method, r.got)
		}
	}
	if err != nil {
		c.drop(l)
		if errors.Is(err, errDeadline) {
			err = context.DeadlineExceeded
		}
		if c.dead.Load() && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			err = ErrPeerGone
		}
		return nil, err
	}
	c.put(l)
	return a, nil
}

// Close abandons every lane and closes the socket; the callee then ends
// its side.
func (c *Caller) Close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	free := c.free
	c.free = nil
	c.cond.Broadcast()
	c.mu.Unlock()
	for _, l := range free {
		c.abandon(l)
	}
	c.conn.Close()
}
