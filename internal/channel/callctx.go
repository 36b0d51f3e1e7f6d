package channel

import (
	"context"
	"sync"
	"time"
)

// callCtx is the context a handler runs in: the listener's context with
// the request's deadline. Deadline and Err answer from the clock, with no
// timer; a timer (context.WithDeadline) is made only if a handler asks for
// Done. Arming a timer per call costs more than a small call itself: the
// runtime wakes its network poller to shorten its sleep, a second thread on
// a machine whose cores the two ends of the channel are using.
type callCtx struct {
	context.Context // the listener's: done when the peer is gone
	deadline        time.Time

	once   sync.Once
	done   <-chan struct{}
	cancel context.CancelFunc
}

func newCallCtx(parent context.Context, deadline time.Time) *callCtx {
	return &callCtx{Context: parent, deadline: deadline}
}

func (c *callCtx) Deadline() (time.Time, bool) { return c.deadline, true }

func (c *callCtx) Err() error {
	if err := c.Context.Err(); err != nil {
		return err
	}
	if !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

func (c *callCtx) Done() <-chan struct{} {
	c.once.Do(func() {
		var ctx context.Context
		ctx, c.cancel = context.WithDeadline(c.Context, c.deadline)
		c.done = ctx.Done()
	})
	return c.done
}

// release stops the timer Done may have made.
func (c *callCtx) release() {
	c.once.Do(func() {}) // no timer from now on
	if c.cancel != nil {
		c.cancel()
	}
}
