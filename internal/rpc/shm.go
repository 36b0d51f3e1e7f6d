package rpc

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ebmflow/ebmflow/internal/wire"
	"github.com/ebmflow/ebmflow/sdk"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Shared-memory tensors across the boundary (internal/wire/shm.go). A
// client offers every call an answer region in its own memory; a server
// that maps it answers its large tensors there and says so (shm_ok), after
// which the client sends its large tensors by handle too. Either side falls
// back to inline frames, for the rest of the link's life, as soon as
// anything about shared memory fails, with one debug log line.

// shmState is a client's view of its peer.
type shmState struct {
	// peer: 0 not known yet (offer only), 1 maps our memory (send handles),
	// -1 shared memory off for this link.
	peer   atomic.Int32
	logged atomic.Bool

	mu   sync.Mutex
	hint map[string]int64 // method: answer bytes by handle last time
}

func (st *shmState) replyHint(method string) int64 {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.hint[method]
}

func (st *shmState) learn(method string, n int64) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.hint == nil {
		st.hint = map[string]int64{}
	}
	st.hint[method] = n
}

// ShmActive reports whether this client sends tensors to its peer by
// handle.
func (c *Client) ShmActive() bool { return c.shm.peer.Load() == 1 }

// shmOff turns shared memory off for this link, saying why once.
func (c *Client) shmOff(why error) {
	c.shm.peer.Store(-1)
	if c.shm.logged.CompareAndSwap(false, true) {
		log := c.Log
		if log == nil {
			log = sdk.Logger()
		}
		log.Debug().Str("stage", c.Stage).Err(why).Msg("shared-memory tensors not used on this link; tensors go inline")
	}
}

// isShmRefusal reports a callee's refusal of a handle: it failed before
// running the call, which may be repeated inline.
func isShmRefusal(err error) bool {
	st, ok := status.FromError(err)
	return ok && st.Code() == codes.FailedPrecondition && strings.Contains(st.Message(), wire.ErrShm.Error())
}

// callShm makes the call with a shared-memory lease. done is false when the
// call was not made (or was refused before it ran) and must go inline.
func (c *Client) callShm(ctx context.Context, method string, open func(context.Context) (bidi, error), meta proto.Message, tensors []wire.Named) (_ *wire.Message, _ error, done bool) {
	if !wire.ShmEnabled() || c.shm.peer.Load() < 0 {
		return nil, nil, false
	}
	pool, err := wire.DefaultPool()
	if err != nil {
		c.shmOff(err)
		return nil, nil, false
	}
	threshold := wire.ShmThreshold()
	send := c.shm.peer.Load() == 1
	var req int64
	if send {
		req = wire.ShmBytes(threshold, tensors...)
	}
	hint := c.shm.replyHint(method)
	if send && req == 0 && hint == 0 {
		// Nothing to share this time (small tensors only): a plain call,
		// whose answer call() still measures for the next one.
		return nil, nil, false
	}
	lease, err := pool.Lease(req, hint)
	if err != nil {
		c.shmOff(err)
		return nil, nil, false
	}
	s, err := open(ctx)
	if err != nil {
		lease.Release()
		return nil, c.fail(method, err), true
	}
	o := wire.SendOptions{Reply: lease.Reply(), Threshold: threshold}
	if send {
		o.Placer = shmPlacer(lease)
	}
	msg, err := exchange(s, o, lease, c.Limit, meta, tensors)
	if err == nil {
		lease.Release()
		if msg.ShmOK {
			c.shm.peer.CompareAndSwap(0, 1)
			c.shm.learn(method, wire.ShmBytesOf(threshold, msg.Tensors))
		} else {
			c.shmOff(errors.New("the peer did not map the offered memory (older plugin, another host, EBMFLOW_SHM=0 there, or /proc restricted)"))
		}
		return msg, nil, true
	}
	if isShmRefusal(err) {
		lease.Release()
		c.shmOff(errors.New(status.Convert(err).Message()))
		return nil, nil, false
	}
	// The callee's handler has returned if it answered with its own
	// status; otherwise (cancelled, deadline, crash, a broken answer) it
	// may still write into the answer room, which is then never reused.
	if st, ok := status.FromError(err); ok && (st.Code() == codes.Unknown || st.Code() == codes.Unimplemented || st.Code() == codes.PermissionDenied || st.Code() == codes.FailedPrecondition) {
		lease.Release()
	} else {
		lease.Drop()
	}
	return nil, c.fail(method, err), true
}

// shmPlacer places request tensors; tests replace it to send bad handles.
var shmPlacer = func(l *wire.Lease) wire.Placer { return l }

// answer is a server call's view of the caller's offered region: area is
// nil unless it was mapped.
type answer struct {
	area *wire.Area
}

func (a *answer) close() {
	if a != nil && a.area != nil {
		a.area.Close()
	}
}

// shmRefusal remembers callers whose memory this server could not map, so
// that it tries once per caller process.
type shmRefusal struct {
	mu   sync.Mutex
	pids map[int32]bool
}

// recv reads a request, resolving handles, and maps the offered answer
// region if there is one and this server uses shared memory.
func (s *baseServer) recv(r wire.Receiver) (*wire.Message, *answer, error) {
	var res wire.Resolver
	if s.shm {
		res = wire.DefaultMapper()
	}
	msg, err := wire.RecvWith(r, s.limit, res)
	if err != nil {
		return nil, nil, err
	}
	a := &answer{}
	if !s.shm || msg.Reply == nil || msg.Reply.Segment == nil {
		return msg, a, nil
	}
	pid := msg.Reply.Segment.Pid
	s.refused.mu.Lock()
	refused := s.refused.pids[pid]
	s.refused.mu.Unlock()
	if refused {
		return msg, a, nil
	}
	area, err := wire.DefaultMapper().Area(msg.Reply)
	if err != nil {
		s.refused.mu.Lock()
		if s.refused.pids == nil {
			s.refused.pids = map[int32]bool{}
		}
		s.refused.pids[pid] = true
		s.refused.mu.Unlock()
		sdk.Logger().Debug().Int32("caller_pid", pid).Err(err).Msg("cannot map the caller's shared memory; answering inline")
		return msg, a, nil
	}
	a.area = area
	return msg, a, nil
}

// send answers, through the caller's region when it was mapped.
func (s *baseServer) send(w wire.Sender, a *answer, meta proto.Message, tensors ...wire.Named) error {
	var o wire.SendOptions
	if a != nil && a.area != nil {
		o.Placer, o.ShmOK = a.area, true
	}
	return wire.SendWith(w, o, meta, tensors...)
}
