//go:build linux

package channel

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ebmflow/ebmflow/internal/wire"
	"github.com/ebmflow/ebmflow/sdk"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// echo answers "double": the request tensor "x" times two as "y", the
// meta reversed; "sleep": answers after 3 s; anything else: an error status.
func echo(ctx context.Context, req *Request) (uint32, []byte, []wire.Named) {
	switch req.Method {
	case "double":
		x := req.Tensors["x"]
		y := sdk.NewTensor(x.DType, x.Shape...)
		for i, v := range x.F32 {
			y.F32[i] = 2 * v
		}
		meta := make([]byte, len(req.Meta))
		for i, b := range req.Meta {
			meta[len(meta)-1-i] = b
		}
		return 0, meta, []wire.Named{{Name: "y", Tensor: y}}
	case "sleep": // longer than any caller waits, whatever its deadline
		time.Sleep(3 * time.Second)
		return 0, nil, nil
	}
	return ErrorAnswer(status.Errorf(codes.InvalidArgument, "no method %q", req.Method))
}

// pair is a listener and a caller in this process (the peer pid is ours).
func pair(t *testing.T, h Handler) (*Listener, *Caller) { return pairB(t, h) }

func pairB(t testing.TB, h Handler) (*Listener, *Caller) {
	t.Helper()
	return pairWith(t, Options{Handler: h})
}

// pairWith is pair with more options; Peer and Limit are set here.
func pairWith(t testing.TB, opts Options) (*Listener, *Caller) {
	t.Helper()
	opts.Peer, opts.Limit = os.Getpid(), 1<<30
	ln, err := Listen(opts)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Dial(ln.Name, os.Getpid(), 1<<30)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); ln.Close() })
	return ln, c
}

func ramp(n int) *sdk.Tensor {
	x := sdk.NewTensor(sdk.Float32, n/2, 2)
	for i := range x.F32 {
		x.F32[i] = float32(i) * 0.5
	}
	return x
}

func TestCallRoundTrip(t *testing.T) {
	_, c := pair(t, echo)
	// 200 floats fit one part; 3 M floats (12 MB) need many parts of the
	// first lane, then a larger lane next time.
	for _, n := range []int{200, 3 << 20, 3 << 20, 200} {
		x := ramp(n)
		a, err := c.Call(context.Background(), time.Time{}, "double", []byte("abc"), []wire.Named{{Name: "x", Tensor: x}})
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if err := a.Err(); err != nil {
			t.Fatal(err)
		}
		if string(a.Meta) != "cba" {
			t.Errorf("meta %q", a.Meta)
		}
		y := a.Tensors["y"]
		if y == nil || len(y.F32) != n {
			t.Fatalf("n=%d: answer %v", n, y)
		}
		for i := range y.F32 {
			if y.F32[i] != 2*x.F32[i] {
				t.Fatalf("n=%d: y[%d] = %v, want %v", n, i, y.F32[i], 2*x.F32[i])
			}
		}
	}
}

func TestCallErrorStatus(t *testing.T) {
	_, c := pair(t, echo)
	a, err := c.Call(context.Background(), time.Time{}, "nope", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st := status.Convert(a.Err()); st.Code() != codes.InvalidArgument || st.Message() != `no method "nope"` {
		t.Errorf("got %v", a.Err())
	}
}

func TestConcurrentCalls(t *testing.T) {
	_, c := pair(t, echo)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				x := ramp(2 * (1 + (g*50+i)%300))
				a, err := c.Call(context.Background(), time.Time{}, "double", nil, []wire.Named{{Name: "x", Tensor: x}})
				if err == nil {
					err = a.Err()
				}
				if err == nil && a.Tensors["y"].F32[len(x.F32)-1] != 2*x.F32[len(x.F32)-1] {
					err = errors.New("wrong answer")
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestDeadline(t *testing.T) {
	_, c := pair(t, echo)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Call(ctx, time.Time{}, "sleep", nil, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the deadline", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s", d)
	}
	// The lane was abandoned; the next call gets another and works.
	if _, err := c.Call(context.Background(), time.Time{}, "double", nil, []wire.Named{{Name: "x", Tensor: ramp(4)}}); err != nil {
		t.Fatal(err)
	}
}

func TestPeerGoneWakesCaller(t *testing.T) {
	block := make(chan struct{})
	ln, c := pair(t, func(ctx context.Context, req *Request) (uint32, []byte, []wire.Named) {
		<-block
		return 0, nil, nil
	})
	defer close(block)
	done := make(chan error, 1)
	go func() {
		_, err := c.Call(context.Background(), time.Time{}, "x", nil, nil)
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	ln.Close() // as when the callee's process ends: its socket closes
	select {
	case err := <-done:
		if !errors.Is(err, ErrPeerGone) {
			t.Fatalf("got %v, want ErrPeerGone", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the caller did not notice the peer going away")
	}
	if _, err := c.Call(context.Background(), time.Time{}, "x", nil, nil); !errors.Is(err, ErrPeerGone) {
		t.Errorf("after: %v", err)
	}
}

func TestWrongPeerRefused(t *testing.T) {
	ln, err := Listen(Options{Peer: os.Getpid() + 1, Limit: 1 << 20, Handler: echo, AcceptTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := Dial(ln.Name, os.Getpid(), 1<<20)
	if err == nil {
		// Connected, but the listener closed the connection: no lane.
		c.Close()
		t.Fatal("a connection from the wrong pid was served")
	}
	// A caller checks the callee's pid too.
	ln2, err := Listen(Options{Peer: os.Getpid(), Limit: 1 << 20, Handler: echo, AcceptTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer ln2.Close()
	if c, err := Dial(ln2.Name, os.Getpid()+1, 1<<20); err == nil {
		c.Close()
		t.Error("dialled a socket served by another pid")
	}
}

// TestMalformedPartDropsLane: a caller that posts a part whose length
// points past its area gets the lane dropped by the callee, which keeps
// serving the channel's other lanes.
func TestMalformedPartDropsLane(t *testing.T) {
	var logged []string
	var mu sync.Mutex
	ln, err := Listen(Options{Peer: os.Getpid(), Limit: 1 << 20, Handler: echo,
		Log: func(msg string, err error) { mu.Lock(); logged = append(logged, msg+": "+err.Error()); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := Dial(ln.Name, os.Getpid(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, bad := range []struct {
		name  string
		write func(l *lane)
	}{
		{"length past the area", func(l *lane) {
			a := l.req.area
			binary.LittleEndian.PutUint32(a[0:], 1)
			binary.LittleEndian.PutUint32(a[4:], flagLast)
			binary.LittleEndian.PutUint64(a[8:], uint64(len(a)))
			l.req.posted.Add(1)
		}},
		{"two parts posted at once", func(l *lane) { l.req.posted.Add(2) }},
		{"tensor longer than the record", func(l *lane) {
			rec := claimingRecord("double", 1000, 0)
			a := l.req.area
			binary.LittleEndian.PutUint32(a[0:], 1)
			binary.LittleEndian.PutUint32(a[4:], flagLast)
			binary.LittleEndian.PutUint64(a[8:], uint64(len(rec)))
			copy(a[partHeader:], rec)
			l.req.posted.Add(1)
		}},
	} {
		t.Run(bad.name, func(t *testing.T) {
			l, err := c.take(0, 0)
			if err != nil {
				t.Fatal(err)
			}
			ln.mu.Lock()
			before := len(ln.live)
			ln.mu.Unlock()
			bad.write(l)
			wake(l.req.posted)
			deadline := time.Now().Add(3 * time.Second)
			for {
				ln.mu.Lock()
				n := len(ln.live)
				ln.mu.Unlock()
				if n == before-1 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the callee still serves the lane (%d lanes, %d before)", n, before)
				}
				time.Sleep(5 * time.Millisecond)
			}
			c.drop(l)
			// The channel goes on with a new lane.
			a, err := c.Call(context.Background(), time.Time{}, "double", nil, []wire.Named{{Name: "x", Tensor: ramp(8)}})
			if err != nil || a.Err() != nil {
				t.Fatalf("after the bad lane: %v %v", err, a)
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if len(logged) != 3 {
		t.Errorf("logged %q", logged)
	}
}
