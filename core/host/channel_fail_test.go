//go:build linux

package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ebmflow/ebmflow/internal/channel"
	"github.com/ebmflow/ebmflow/internal/pb"
	"github.com/ebmflow/ebmflow/internal/rpc"
	"github.com/ebmflow/ebmflow/internal/wire"
	"github.com/ebmflow/ebmflow/sdk"
	"google.golang.org/protobuf/proto"
)

// transports runs f with channels on and with them off (gRPC frames
// through the host's broker).
func transports(t *testing.T, f func(t *testing.T, opts Options)) {
	for _, on := range []string{"1", "0"} {
		name := map[string]string{"1": "channel", "0": "frames"}[on]
		t.Run(name, func(t *testing.T) {
			t.Setenv(channel.Env, on)
			f(t, Options{PluginEnv: []string{channel.Env + "=" + on}})
		})
	}
}

// sampleAsync calls Sample and returns its error on a channel.
func sampleAsync(s *Process) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := s.Sample(context.Background(), sdk.SampleRequest{Steps: 5})
		done <- err
	}()
	return done
}

func within(t *testing.T, done <-chan error, d time.Duration) (error, time.Duration) {
	t.Helper()
	t0 := time.Now()
	select {
	case err := <-done:
		return err, time.Since(t0)
	case <-time.After(d):
		t.Fatalf("no answer within %s", d)
		return nil, 0
	}
}

// TestKillMidCall: SIGKILL of the energy while the sampler waits on its
// gradient, or of the sampler while the host waits on its samples, is
// reported at once as one error naming the plugin and stage that died.
func TestKillMidCall(t *testing.T) {
	transports(t, func(t *testing.T, opts Options) {
		t.Run("energy", func(t *testing.T) {
			h, _ := newTestHost(t, opts)
			e := start(t, h, "energy", "testenergy", map[string]json.RawMessage{"fail": raw("hang"), "fail_method": raw("grad"), "fail_after": raw(2)})
			s := start(t, h, "sampler", "testsampler", nil, rpc.Link{Attribute: "energy", Target: e.Client, Kind: sdk.KindEnergy})
			done := sampleAsync(s)
			time.Sleep(300 * time.Millisecond) // the third gradient hangs
			syscall.Kill(e.Pid(), syscall.SIGKILL)
			err, took := within(t, done, 10*time.Second)
			t.Logf("noticed after %s: %v", took, err)
			if !errors.Is(err, ErrCrashed) {
				t.Fatalf("err = %v, want ErrCrashed", err)
			}
			want := `plugin "testenergy" (stage "energy") died during grad, called by stage "sampler" (signal: killed)`
			if first := strings.SplitN(err.Error(), "\n", 2)[0]; !strings.Contains(first, want) || strings.Contains(first, "rpc error") {
				t.Errorf("first line %q, want %q", first, want)
			}
		})
		t.Run("sampler", func(t *testing.T) {
			h, _ := newTestHost(t, opts)
			e := start(t, h, "energy", "testenergy", nil)
			s := start(t, h, "sampler", "testsampler", map[string]json.RawMessage{"fail": raw("hang"), "fail_method": raw("sample")},
				rpc.Link{Attribute: "energy", Target: e.Client, Kind: sdk.KindEnergy})
			done := sampleAsync(s)
			time.Sleep(300 * time.Millisecond)
			syscall.Kill(s.Pid(), syscall.SIGKILL)
			err, took := within(t, done, 10*time.Second)
			t.Logf("noticed after %s: %v", took, err)
			if !errors.Is(err, ErrCrashed) || !strings.Contains(err.Error(), `plugin "testsampler" (stage "sampler") died during sample (signal: killed)`) {
				t.Fatalf("err = %v", err)
			}
			// The energy, whose caller died, still serves the host.
			if _, err := e.Energy(context.Background(), sdk.FromFloat32([]float32{1, 2}, 1, 2)); err != nil {
				t.Fatalf("energy after its caller died: %v", err)
			}
		})
	})
}

// TestLinkDeadline: a linked stage that hangs is killed at its own
// deadline, and the error names it and its caller.
func TestLinkDeadline(t *testing.T) {
	transports(t, func(t *testing.T, opts Options) {
		h, _ := newTestHost(t, opts)
		e := start(t, h, "energy", "testenergy", map[string]json.RawMessage{"fail": raw("hang"), "fail_method": raw("grad")})
		e.SetCallTimeout(700 * time.Millisecond)
		s := start(t, h, "sampler", "testsampler", nil, rpc.Link{Attribute: "energy", Target: e.Client, Kind: sdk.KindEnergy})
		err, took := within(t, sampleAsync(s), 15*time.Second)
		t.Logf("after %s: %v", took, err)
		if !errors.Is(err, ErrDeadline) {
			t.Fatalf("err = %v, want ErrDeadline", err)
		}
		if want := `plugin "testenergy" (stage "energy"): grad, called by stage "sampler", did not answer within 700ms; the plugin was killed`; !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v\nwant %s", err, want)
		}
		if !e.exited(5 * time.Second) {
			t.Fatal("the hung energy is still running")
		}
	})
}

// TestChannelIsolation: a plugin that offers lanes to every ebmflow channel
// socket on the machine, and looks for channel segments left open in the
// host and every stage of the run,
// gets nothing; the channel it tried is still served to the process it was
// opened for.
func TestChannelIsolation(t *testing.T) {
	t.Setenv(channel.Env, "1")
	h, _ := newTestHost(t, Options{})
	ctx := context.Background()
	e := start(t, h, "energy", "testenergy", nil)
	// A channel of the energy's waiting for this process: the intruder
	// finds its socket in /proc/net/unix.
	ch, err := e.Client.OpenChannel(ctx, os.Getpid(), "")
	if err != nil {
		t.Fatal(err)
	}
	s, err := h.Start(ctx, "sampler", kitBinary(t, "testsampler"))
	if err != nil {
		t.Fatal(err)
	}
	_, diags, err := s.Configure(ctx, rpc.ConfigureArgs{Stage: "sampler", Seed: 1, Values: map[string]json.RawMessage{"intrude": raw(true)},
		Links: []rpc.Link{{Attribute: "energy", Target: e.Client, Kind: sdk.KindEnergy}}, Upstream: map[string]sdk.Shapes{"energy": {"input": {2}}}})
	if err != nil || diags.HasErrors() {
		t.Fatal(err, diags.Err())
	}
	var tried, accepted, found int = -1, -1, -1
	for _, d := range diags {
		if d.Summary == "intrusion probe" {
			fmt.Sscanf(d.Detail, "tried=%d accepted=%d found=%d", &tried, &accepted, &found)
		}
	}
	t.Logf("intruder: tried %d sockets, %d accepted a lane, %d segment descriptors found", tried, accepted, found)
	if tried < 1 || accepted != 0 || found != 0 {
		t.Fatalf("intruder tried %d, accepted %d, found %d: want >= 1, 0, 0", tried, accepted, found)
	}
	caller, err := channel.Dial(ch.Socket, e.Pid(), 1<<20)
	if err != nil {
		t.Fatalf("the rightful peer cannot use the channel after the intrusion: %v", err)
	}
	defer caller.Close()
	x := sdk.FromFloat32([]float32{1, 2}, 1, 2)
	a, err := caller.Call(ctx, time.Time{}, pb.Energy_Grad_FullMethodName, nil, []wire.Named{{Name: "x", Tensor: x}})
	if err != nil || a.Err() != nil || a.Tensors["dfdx"] == nil {
		t.Fatalf("grad through the channel: %v %v", err, a)
	}
	// A link may not update the energy through its channel.
	linkCh, err := e.Client.OpenChannel(ctx, os.Getpid(), "sampler")
	if err != nil {
		t.Fatal(err)
	}
	link, err := channel.Dial(linkCh.Socket, e.Pid(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer link.Close()
	meta, _ := proto.Marshal(&pb.UpdateRequest{Lr: 1, T: 1})
	a, err = link.Call(ctx, time.Time{}, pb.Energy_Update_FullMethodName, meta, []wire.Named{{Name: "pos", Tensor: x}, {Name: "neg", Tensor: x}})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Err(); err == nil || !strings.Contains(err.Error(), "update is not available through a link") {
		t.Fatalf("update through a link's channel: %v", err)
	}
}
