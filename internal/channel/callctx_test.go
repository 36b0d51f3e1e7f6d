package channel

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestCallCtx: the handler's context reports the request's deadline, turns
// to DeadlineExceeded when it passes (with or without Done), closes Done
// at the deadline, and ends with the listener's context.
func TestCallCtx(t *testing.T) {
	parent, stop := context.WithCancel(context.Background())
	dl := time.Now().Add(30 * time.Millisecond)
	c := newCallCtx(parent, dl)
	if got, ok := c.Deadline(); !ok || !got.Equal(dl) {
		t.Fatalf("deadline %v %v", got, ok)
	}
	if c.Err() != nil {
		t.Fatalf("err before the deadline: %v", c.Err())
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done did not close at the deadline")
	}
	if !errors.Is(c.Err(), context.DeadlineExceeded) {
		t.Fatalf("err after the deadline: %v", c.Err())
	}
	c.release()

	// Without Done: Err from the clock alone; no timer to stop.
	c = newCallCtx(parent, time.Now().Add(time.Millisecond))
	time.Sleep(2 * time.Millisecond)
	if !errors.Is(c.Err(), context.DeadlineExceeded) {
		t.Fatalf("err after the deadline, no Done: %v", c.Err())
	}
	c.release()

	// The listener ending cancels the call, Done or not.
	c = newCallCtx(parent, time.Now().Add(time.Hour))
	done := c.Done()
	stop()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Done did not close when the parent ended")
	}
	if !errors.Is(c.Err(), context.Canceled) {
		t.Fatalf("err after the parent ended: %v", c.Err())
	}
	c.release()
	// A derived context sees the deadline too.
	d, cancel := context.WithTimeout(newCallCtx(context.Background(), time.Now().Add(10*time.Millisecond)), time.Hour)
	defer cancel()
	select {
	case <-d.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a derived context missed the call's deadline")
	}
}
