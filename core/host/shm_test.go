//go:build linux

package host

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/ebmflow/ebmflow/internal/rpc"
	"github.com/ebmflow/ebmflow/internal/wire"
	"github.com/ebmflow/ebmflow/sdk"
)

// memfdInodes returns the inodes of the ebmflow shared-memory segments a
// process holds open.
func memfdInodes(t *testing.T, pid int) map[uint64]bool {
	t.Helper()
	dir := "/proc/" + strconv.Itoa(pid) + "/fd"
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[uint64]bool{}
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if target, err := os.Readlink(p); err != nil || !strings.HasPrefix(target, "/memfd:ebmflow-shm") {
			continue
		}
		var st syscall.Stat_t
		if syscall.Stat(p, &st) == nil {
			out[st.Ino] = true
		}
	}
	return out
}

// mapsAny reports whether a process maps one of the segments.
func mapsAny(t *testing.T, pid int, inodes map[uint64]bool) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/maps")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 6 && strings.HasPrefix(f[5], "/memfd:ebmflow-shm") {
			if ino, err := strconv.ParseUint(f[4], 10, 64); err == nil && inodes[ino] {
				return true
			}
		}
	}
	return false
}

type shmRun struct {
	f, g, x *sdk.Tensor
}

// runShm starts an energy and a linked sampler with the plugins' environment
// EBMFLOW_SHM=plugins and the host's EBMFLOW_SHM=host, and computes a Grad
// directly and a 3-step Langevin sample through the broker, on a
// 100x1x32x32 batch.
func runShm(t *testing.T, host, plugins string, check func(h *Host, e, s *Process, log string)) shmRun {
	t.Setenv(wire.ShmEnv, plugins)
	h, buf := newTestHost(t, Options{})
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
	os.Setenv(wire.ShmEnv, host) // the plugins keep what they started with
	x := sdk.NewTensor(sdk.Float32, append([]int{100}, per...)...)
	for i := range x.F32 {
		x.F32[i] = float32(i%11)*0.1 - 0.5
	}
	var r shmRun
	for range 3 { // the first call negotiates, the next ones use what was agreed
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
			t.Fatalf("%s[%d]: %v via shared memory, %v inline", what, i, a.F32[i], b.F32[i])
		}
	}
}

// TestShmSameNumbers runs the same calls through real plugin processes with
// shared memory, without (EBMFLOW_SHM=0), and with a host that offers it to
// plugins that do not take it: bit-identical results, and with shared
// memory the energy maps the sampler's segment itself (the host only
// forwards handles).
func TestShmSameNumbers(t *testing.T) {
	var on, off, mixed shmRun
	t.Run("on", func(t *testing.T) {
		on = runShm(t, "1", "1", func(h *Host, e, s *Process, _ string) {
			if !e.Client.ShmActive() || !s.Client.ShmActive() {
				t.Fatalf("host links not using shared memory: energy %v, sampler %v", e.Client.ShmActive(), s.Client.ShmActive())
			}
			seg := memfdInodes(t, s.Pid())
			if len(seg) == 0 {
				t.Fatal("the sampler holds no shared-memory segment")
			}
			if !mapsAny(t, e.Pid(), seg) {
				t.Fatal("the energy does not map the sampler's segment: brokered Grad calls did not use shared memory")
			}
			if mapsAny(t, os.Getpid(), seg) {
				t.Fatal("the host maps the sampler's segment; it should only forward handles")
			}
		})
	})
	t.Run("off", func(t *testing.T) {
		off = runShm(t, "0", "0", func(h *Host, e, s *Process, _ string) {
			if e.Client.ShmActive() || s.Client.ShmActive() {
				t.Fatal("EBMFLOW_SHM=0 but the host sends handles")
			}
			if len(memfdInodes(t, s.Pid())) != 0 || len(memfdInodes(t, e.Pid())) != 0 {
				t.Fatal("EBMFLOW_SHM=0 but a plugin created shared memory")
			}
		})
	})
	t.Run("plugins-off", func(t *testing.T) {
		mixed = runShm(t, "1", "0", func(h *Host, e, s *Process, log string) {
			if e.Client.ShmActive() || s.Client.ShmActive() {
				t.Fatal("the plugins never mapped the host's memory, yet the host sends handles")
			}
			if !strings.Contains(log, "shared-memory tensors not used on this link") || !strings.Contains(log, `"level":"debug"`) {
				t.Fatalf("no debug line about the fallback:\n%s", log)
			}
		})
	})
	if on.f == nil || off.f == nil || mixed.f == nil {
		t.Skip("a run failed")
	}
	for _, r := range []shmRun{off, mixed} {
		sameTensor(t, "F", on.f, r.f)
		sameTensor(t, "dF/dx", on.g, r.g)
		sameTensor(t, "sample", on.x, r.x)
	}
}
