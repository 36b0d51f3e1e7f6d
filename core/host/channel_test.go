//go:build linux

package host

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ebmflow/ebmflow/internal/channel"
	"github.com/ebmflow/ebmflow/internal/rpc"
	"github.com/ebmflow/ebmflow/sdk"
)

// chanMappings returns, for each shared-memory channel segment a process
// maps, its inode.
func chanMappings(t *testing.T, pid int) map[uint64]bool {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/maps")
	if err != nil {
		t.Fatal(err)
	}
	out := map[uint64]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 6 && strings.HasPrefix(f[5], "/memfd:ebmflow-chan") {
			if ino, err := strconv.ParseUint(f[4], 10, 64); err == nil {
				out[ino] = true
			}
		}
	}
	return out
}

// chanFds counts the channel memfds a process holds open (there should be
// none: both sides close them once mapped).
func chanFds(t *testing.T, pid int) int {
	t.Helper()
	dir := "/proc/" + strconv.Itoa(pid) + "/fd"
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if target, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil && strings.HasPrefix(target, "/memfd:ebmflow-chan") {
			n++
		}
	}
	return n
}

type chanRun struct {
	f, g, x *sdk.Tensor
}

// runChan starts an energy and a linked sampler with the plugins'
// environment EBMFLOW_SHM=plugins and the host's EBMFLOW_SHM=host, and
// computes a Grad directly and a 3-step Langevin sample (the sampler
// calling the energy), on a 100x1x32x32 batch.
func runChan(t *testing.T, host, plugins string, check func(h *Host, e, s *Process, log string)) chanRun {
	t.Setenv(channel.Env, host)
	h, buf := newTestHost(t, Options{PluginEnv: []string{channel.Env + "=" + plugins}})
	ctx := context.Background()
	per := []int{1, 32, 32}
	e, err := h.Start(ctx, "energy", kitBinary(t, "testenergy"))
	if err != nil {
		t.Fatal(err)
	}
	if _, d, err := e.Configure(ctx, rpc.ConfigureArgs{Stage: "energy", Seed: 1, Values: map[string]json.RawMessage{"shape": raw(per)}}); err != nil || d.HasErrors() {
		t.Fatal(err, d.Err())
	}
	s, err := h.Start(ctx, "sampler", kitBinary(t, "testsampler"))
	if err != nil {
		t.Fatal(err)
	}
	if _, d, err := s.Configure(ctx, rpc.ConfigureArgs{Stage: "sampler", Seed: 42,
		Values:   map[string]json.RawMessage{"batch": raw(100), "steps": raw(3)},
		Links:    []rpc.Link{{Attribute: "energy", Target: e.Client, Kind: sdk.KindEnergy}},
		Upstream: map[string]sdk.Shapes{"energy": {"input": per}}}); err != nil || d.HasErrors() {
		t.Fatal(err, d.Err())
	}
	x := sdk.NewTensor(sdk.Float32, append([]int{100}, per...)...)
	for i := range x.F32 {
		x.F32[i] = float32(i%11)*0.1 - 0.5
	}
	var r chanRun
	for range 3 {
		if r.f, r.g, err = e.Grad(ctx, x); err != nil {
			t.Fatal(err)
		}
		res, err := s.Sample(ctx, sdk.SampleRequest{Start: x})
		if err != nil {
			t.Fatal(err)
		}
		r.x = res.X
	}
	check(h, e, s, buf.String())
	return r
}

func sameTensor(t *testing.T, what string, a, b *sdk.Tensor) {
	t.Helper()
	if a.Len() != b.Len() {
		t.Fatalf("%s: %d vs %d elements", what, a.Len(), b.Len())
	}
	for i := range a.F32 {
		if a.F32[i] != b.F32[i] {
			t.Fatalf("%s[%d]: %v through channels, %v as frames", what, i, a.F32[i], b.F32[i])
		}
	}
}

// TestChannelSameNumbers runs the same calls through real plugin processes
// with channels, without (EBMFLOW_SHM=0), and with a host that offers them
// to plugins that do not serve them: bit-identical results. With channels,
// every segment is mapped by exactly the two processes it was made for,
// the sampler's calls to the energy use a segment the host never maps, and
// no process keeps a segment's descriptor open.
func TestChannelSameNumbers(t *testing.T) {
	var on, off, mixed chanRun
	t.Run("on", func(t *testing.T) {
		on = runChan(t, "1", "1", func(h *Host, e, s *Process, _ string) {
			if !e.Client.Channel() || !s.Client.Channel() {
				t.Fatalf("host calls not on channels: energy %v, sampler %v", e.Client.Channel(), s.Client.Channel())
			}
			pids := map[string]int{"host": os.Getpid(), "energy": e.Pid(), "sampler": s.Pid()}
			for name, pid := range pids {
				if n := chanFds(t, pid); n != 0 {
					t.Errorf("%s keeps %d channel descriptors open", name, n)
				}
			}
			// Every segment is mapped by exactly two processes. A lane
			// its caller has just retired (a larger one replaces it) stays
			// mapped by the callee alone until the callee notices, within
			// its 100 ms sleep: look again for up to 2 s before calling a
			// segment with one owner a leak. More than two is never right.
			var owners map[uint64][]string
			for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				owners = map[uint64][]string{}
				for name, pid := range pids {
					for ino := range chanMappings(t, pid) {
						owners[ino] = append(owners[ino], name)
					}
				}
				settled := true
				for _, who := range owners {
					settled = settled && len(who) == 2
				}
				if settled || time.Now().After(deadline) {
					break
				}
			}
			link := 0
			for ino, who := range owners {
				slices.Sort(who)
				if len(who) != 2 {
					t.Errorf("segment %d is mapped by %v, not exactly two processes", ino, who)
				}
				if slices.Equal(who, []string{"energy", "sampler"}) {
					link++
				}
			}
			if link == 0 {
				t.Fatalf("no segment shared by the sampler and the energy alone: %v", owners)
			}
		})
	})
	t.Run("off", func(t *testing.T) {
		off = runChan(t, "0", "0", func(h *Host, e, s *Process, _ string) {
			if e.Client.Channel() || s.Client.Channel() {
				t.Fatal("EBMFLOW_SHM=0 but the host uses channels")
			}
			for _, pid := range []int{os.Getpid(), e.Pid(), s.Pid()} {
				if len(chanMappings(t, pid)) != 0 {
					t.Fatal("EBMFLOW_SHM=0 but a process maps a channel segment")
				}
			}
		})
	})
	t.Run("plugins-off", func(t *testing.T) {
		mixed = runChan(t, "1", "0", func(h *Host, e, s *Process, log string) {
			if e.Client.Channel() || s.Client.Channel() {
				t.Fatal("the plugins serve no channel, yet the host uses one")
			}
			if !strings.Contains(log, "no shared-memory channel to this plugin") || !strings.Contains(log, `"level":"debug"`) {
				t.Fatalf("no debug line about the fallback:\n%s", log)
			}
		})
	})
	if on.f == nil || off.f == nil || mixed.f == nil {
		t.Skip("a run failed")
	}
	for _, r := range []chanRun{off, mixed} {
		sameTensor(t, "F", on.f, r.f)
		sameTensor(t, "dF/dx", on.g, r.g)
		sameTensor(t, "sample", on.x, r.x)
	}
}
