//go:build linux

package channel

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ebmflow/ebmflow/internal/wire"
	"golang.org/x/sys/unix"
)

// Listener is the callee's end of one channel.
type Listener struct {
	// Name is the socket's abstract name, for the peer to Dial.
	Name string

	opts Options
	ln   *net.UnixListener
	spin time.Duration
	ctx  context.Context
	stop context.CancelFunc

	dead atomic.Bool
	mu   sync.Mutex
	conn *net.UnixConn
	live map[*lane]bool
}

// Listen opens a socket that accepts one connection, from opts.Peer, and
// then serves its lanes until the peer goes away or Close is called.
func Listen(opts Options) (*Listener, error) {
	if !Enabled() {
		return nil, ErrUnsupported
	}
	if opts.AcceptTimeout == 0 {
		opts.AcceptTimeout = 2 * time.Minute
	}
	name := socketName()
	ln, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: name, Net: "unixpacket"})
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	l := &Listener{Name: name, opts: opts, ln: ln, spin: spinFor(), ctx: ctx, stop: stop, live: map[*lane]bool{}}
	go l.accept()
	return l, nil
}

func (l *Listener) logf(msg string, err error) {
	if l.opts.Log != nil {
		l.opts.Log(msg, err)
	}
}

// accept takes connections until one comes from the expected peer; others
// are closed at once.
func (l *Listener) accept() {
	defer l.ln.Close()
	l.ln.SetDeadline(time.Now().Add(l.opts.AcceptTimeout))
	for {
		c, err := l.ln.AcceptUnix()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				l.logf("channel: no peer connected", err)
			}
			return
		}
		pid, err := peerPid(c)
		if err != nil || pid != l.opts.Peer {
			c.Close()
			l.logf(fmt.Sprintf("channel: refused a connection from pid %d (expecting pid %d)", pid, l.opts.Peer), err)
			continue
		}
		// The one peer is here: stop listening at once, so that the name
		// refuses every later connection instead of queueing it.
		l.ln.Close()
		l.mu.Lock()
		l.conn = c
		l.mu.Unlock()
		l.serve(c)
		return
	}
}

// serve maps each lane the peer announces and serves it; it returns when
// the peer's end closes, and then every lane ends.
func (l *Listener) serve(c *net.UnixConn) {
	defer l.gone()
	buf := make([]byte, 64)
	oob := make([]byte, unix.CmsgSpace(4*4))
	for {
		n, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
		fds := fdsOf(oob[:oobn])
		if err != nil || n == 0 {
			closeAll(fds)
			return
		}
		if n != ctlSize || string(buf[:4]) != msgLane || len(fds) != 1 {
			closeAll(fds)
			l.logf("channel: malformed lane announcement", ErrProtocol)
			return
		}
		id := binary.LittleEndian.Uint32(buf[4:])
		ln, err := mapLane(fds[0], id)
		unix.Close(fds[0])
		if err != nil {
			l.logf("channel: refused a lane", err)
			if _, _, err := c.WriteMsgUnix(ctlMsg(msgError, id, err.Error()), nil, nil); err != nil {
				return
			}
			continue
		}
		l.mu.Lock()
		l.live[ln] = true
		l.mu.Unlock()
		go l.serveLane(ln)
		if _, _, err := c.WriteMsgUnix(ctlMsg(msgOK, id, ""), nil, nil); err != nil {
			return
		}
	}
}

func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// gone ends every lane: the peer closed the channel or its process ended.
func (l *Listener) gone() {
	l.dead.Store(true)
	l.stop()
	l.mu.Lock()
	defer l.mu.Unlock()
	for ln := range l.live {
		wake(ln.req.posted)
		wake(ln.ans.taken)
	}
}

// serveLane answers the lane's requests one after another until the lane
// is closed, the peer is gone or it breaks the protocol.
func (l *Listener) serveLane(ln *lane) {
	defer func() {
		l.mu.Lock()
		delete(l.live, ln)
		l.mu.Unlock()
		ln.unmap()
	}()
	wt := waiter{spin: l.spin, dead: &l.dead, closed: ln.closed}
	stop := wt.stop
	maxReq := 4*l.opts.Limit + 2*maxMeta
	ln.out.area = ln.ans.area
	out := ln.out.tensor
	for {
		r := &ln.r
		wt.pace = &ln.readPace
		r.reset(&ln.req, wt, 0, true, maxReq)
		req, bd, err := decodeRequestHead(r, l.opts.Limit, &ln.arena, l.opts.Borrow, l.opts.Stream, &ln.names)
		if err == nil && bd == nil {
			err = r.done()
		}
		if err != nil {
			if stop() == nil {
				l.logf("channel: dropped a lane", err)
			}
			return
		}
		ln.out.reset()
		req.Out = out
		code, meta, ts := l.handle(req)
		if bd != nil {
			// What the handler left of a streamed request is read
			// before the answer: the pipe must be free.
			if err = bd.finish(); err == nil {
				err = r.done()
			}
			if err != nil {
				if stop() == nil {
					l.logf("channel: dropped a lane", err)
				}
				return
			}
		}
		w := &ln.w
		wt.pace = &ln.writePace
		w.reset(&ln.ans, r.call, wt)
		err = w.begin()
		if err == nil {
			err = encodeAnswerFrom(w, &ln.lay, code, meta, ts)
		}
		if err == nil {
			err = w.finish()
		}
		if err != nil {
			if stop() == nil {
				l.logf("channel: could not answer", err)
			}
			return
		}
	}
}

// handle runs the handler with the request's deadline, refusing answers
// that cannot be encoded before any byte of them is written.
func (l *Listener) handle(req *Request) (uint32, []byte, []wire.Named) {
	ctx := l.ctx
	if !req.Deadline.IsZero() {
		c := newCallCtx(ctx, req.Deadline)
		defer c.release()
		ctx = c
	}
	code, meta, ts := l.opts.Handler(ctx, req)
	if err := checkOut("", meta, ts); err != nil {
		return internalError(fmt.Errorf("answer: %w", err))
	}
	for _, t := range ts {
		if t.Tensor != nil {
			if err := t.Tensor.Validate(); err != nil {
				return internalError(fmt.Errorf("answer tensor %q: %w", t.Name, err))
			}
		}
	}
	return code, meta, ts
}

// Close stops accepting, ends the connection and every lane.
func (l *Listener) Close() {
	l.ln.Close()
	l.mu.Lock()
	c := l.conn
	l.mu.Unlock()
	if c != nil {
		c.Close()
	}
	l.gone()
}
