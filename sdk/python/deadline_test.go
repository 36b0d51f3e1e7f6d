package python_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ebmflow/ebmflow/core/host"
	"github.com/ebmflow/ebmflow/internal/channel"
	"github.com/ebmflow/ebmflow/internal/rpc"
	"github.com/ebmflow/ebmflow/internal/wire"
	"github.com/ebmflow/ebmflow/sdk"
	"github.com/rs/zerolog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// slowSteps is how many 20 ms steps one Grad call of the slow plugin
// takes when nothing stops it: 10 s.
const slowSteps = 500

// slowPlugin is an energy whose Grad works in 20 ms steps, checking its
// caller's deadline before each, and whose Energy reports what Grad did:
// F = [Grad calls begun, steps run in all] (after checking x's shape and
// values). It is not concurrent: its calls
// wait for one another on the plugin's thread.
const slowPlugin = `#!/usr/bin/python3
import sys, time
sys.path.insert(0, SDK)
from ebmflow_plugin import *

class Slow(Energy):
    name = "pyslow"
    version = "0.1.0"
    schema = [Attribute("steps", INT, "20 ms steps per grad call", required=True)]

    def configure(self, cfg, diags):
        self.steps, self.begun, self.ran = cfg.int("steps"), 0, 0
        return {"input": [1]}

    def grad(self, x):
        self.begun += 1
        logger().info("grad begun")
        for _ in range(self.steps):
            check_deadline()
            time.sleep(0.02)
            self.ran += 1
        return Tensor.from_list([0.0] * x.batch()), x

    def energy(self, x):
        x.expect(FLOAT32, -1, 1)
        x.check_finite()
        return Tensor.from_list([self.begun, self.ran] + [0.0] * (x.batch() - 2))

serve(Slow())
`

// startSlow starts the slow plugin through a host that sets no deadline of
// its own (and so kills nothing), with its log in buf.
func startSlow(t *testing.T, buf *syncBuffer) *host.Process {
	t.Helper()
	dir := t.TempDir()
	sdkDir, _ := filepath.Abs(".")
	exe := filepath.Join(dir, "ebmflow-plugin-pyslow")
	if err := os.WriteFile(exe, []byte(strings.Replace(slowPlugin, "SDK", fmt.Sprintf("%q", sdkDir), 1)), 0o755); err != nil {
		t.Fatal(err)
	}
	h := host.New(host.Options{Logger: zerolog.New(buf).Level(zerolog.DebugLevel)})
	t.Cleanup(h.Close)
	ctx := context.Background()
	p, err := h.Start(ctx, "energy", host.Binary{Name: "pyslow", Path: exe})
	if err != nil {
		t.Fatal(err)
	}
	_, diags, err := p.Configure(ctx, rpc.ConfigureArgs{Stage: "energy", Seed: 1, Values: map[string]json.RawMessage{"steps": json.RawMessage(fmt.Sprint(slowSteps))}})
	if err != nil || diags.HasErrors() {
		t.Fatal(err, diags)
	}
	return p
}

// slowCounts asks the slow plugin what its Grad calls did.
func slowCounts(t *testing.T, p *host.Process) (begun, ran int) {
	t.Helper()
	f, err := p.Energy(context.Background(), sdk.FromFloat32([]float32{0, 0}, 2, 1))
	if err != nil {
		t.Fatal(err)
	}
	return int(f.At(0)), int(f.At(1))
}

func isDeadline(err error) bool { return status.Code(err) == codes.DeadlineExceeded }

// TestDeadlineHonoured: the Python SDK honours its caller's deadline, on the
// shared-memory channel and on gRPC frames. A Grad call whose deadline
// passes while it runs stops at its next check_deadline() (the plugin is
// free for the next call, long before the call would have ended), and a
// call that waited behind it on the plugin's thread until its own deadline
// had passed is refused without running.
func TestDeadlineHonoured(t *testing.T) {
	needPython(t)
	for _, shm := range []string{"1", "0"} {
		t.Run("EBMFLOW_SHM="+shm, func(t *testing.T) {
			t.Setenv("EBMFLOW_SHM", shm)
			var buf syncBuffer
			p := startSlow(t, &buf)
			if p.Channel() != (shm == "1") {
				t.Fatalf("calls through a channel: %v, want %v", p.Channel(), shm == "1")
			}
			x := sdk.FromFloat32([]float32{1}, 1, 1)
			var wg sync.WaitGroup
			var errA error
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
				defer cancel()
				_, _, errA = p.Grad(ctx, x)
			}()
			for end := time.Now().Add(time.Minute); !strings.Contains(buf.String(), `"grad begun"`); { // A holds the plugin's thread
				if time.Now().After(end) {
					t.Fatalf("the first Grad call did not begin within a minute; host log:\n%s", buf.String())
				}
				time.Sleep(5 * time.Millisecond)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			_, _, errB := p.Grad(ctx, x) // waits behind A, past its deadline
			cancel()
			wg.Wait()
			if !isDeadline(errA) || !isDeadline(errB) {
				t.Fatalf("want DEADLINE_EXCEEDED for both calls, got %v and %v", errA, errB)
			}
			begun, ran := slowCounts(t, p)
			if begun != 1 {
				t.Errorf("%d Grad calls begun, want 1: the call queued past its deadline ran", begun)
			}
			if ran >= slowSteps {
				t.Errorf("%d steps run in all, a whole Grad call's %d or more: the first call's deadline was not checked", ran, slowSteps)
			}
		})
	}
}

// TestDeadlinePassedOnArrival: a channel request whose deadline has already
// passed when it arrives is answered DEADLINE_EXCEEDED and never runs. The
// test's own channel to the plugin sends it (the host's caller never sends a
// request past its deadline; another caller may).
func TestDeadlinePassedOnArrival(t *testing.T) {
	needPython(t)
	if !channel.Enabled() {
		t.Skip("no shared-memory channels here (EBMFLOW_SHM=0 or not Linux)")
	}
	var buf syncBuffer
	p := startSlow(t, &buf)
	ctx := context.Background()
	ch, err := p.Client.OpenChannel(ctx, os.Getpid(), "")
	if err != nil {
		t.Fatal(err)
	}
	c, err := channel.Dial(ch.Socket, int(ch.Pid), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	x := sdk.FromFloat32([]float32{1}, 1, 1)
	// The caller gives up at once (the deadline has passed), or reads the
	// plugin's answer if it comes within its spin.
	a, err := c.Call(ctx, time.Now().Add(-time.Second), "/ebmflow.v1.Energy/Grad", nil, []wire.Named{{Name: "x", Tensor: x}})
	switch {
	case err == nil && !isDeadline(a.Err()):
		t.Errorf("a request past its deadline: answered %v, want DEADLINE_EXCEEDED", a.Err())
	case err != nil && err != context.DeadlineExceeded:
		t.Errorf("a request past its deadline: %v", err)
	}
	// The plugin logs each call it refuses or stops for its deadline.
	for end := time.Now().Add(time.Minute); !strings.Contains(buf.String(), "its deadline passed"); {
		if time.Now().After(end) {
			t.Fatalf("the plugin logged no refusal within a minute; host log:\n%s", buf.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if begun, _ := slowCounts(t, p); begun != 0 {
		t.Errorf("%d Grad calls begun, want 0: a request past its deadline ran", begun)
	}
}

// TestSentinelErrors: a Python plugin's ShapeError and NonFinite reach a Go
// caller as sdk.ErrShape and sdk.ErrNonFinite, on either transport.
func TestSentinelErrors(t *testing.T) {
	needPython(t)
	for _, shm := range []string{"1", "0"} {
		t.Run("EBMFLOW_SHM="+shm, func(t *testing.T) {
			t.Setenv("EBMFLOW_SHM", shm)
			var buf syncBuffer
			p := startSlow(t, &buf)
			ctx := context.Background()
			if _, err := p.Energy(ctx, sdk.FromFloat32([]float32{1, 2}, 1, 2)); !errors.Is(err, sdk.ErrShape) {
				t.Errorf("x of shape [1 2]: %v, want sdk.ErrShape", err)
			}
			if _, err := p.Energy(ctx, sdk.FromFloat32([]float32{float32(math.NaN())}, 1, 1)); !errors.Is(err, sdk.ErrNonFinite) {
				t.Errorf("x = NaN: %v, want sdk.ErrNonFinite", err)
			}
		})
	}
}
