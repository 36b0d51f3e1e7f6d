package plugintest

import (
	"context"
	"fmt"
	"maps"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/ebmflow/ebmflow/internal/wire"
)

// minLargeState is the smallest state the statememory check measures: a
// second copy of it stands far above what the process's other allocations
// move in the meantime.
const minLargeState = 32 << 20

// checkStateMemory, with Suite.LargeState, configures the stage so that
// its state is large, makes the calls, and then measures the plugin
// process around one SaveState: the peak resident set (VmHWM, reset to
// the current resident set just before through /proc/PID/clear_refs) must
// grow by less than half the state's size. A plugin that builds a second
// copy of its state to answer (a Clone of its bank, say) grows by the
// whole size; one that gives its own tensors to an sdk.StateWriter grows
// by a few chunks.
func (e *env) checkStateMemory(t testing.TB) error {
	if e.s.LargeState == nil {
		t.Skip("Suite.LargeState is not set")
		return nil
	}
	if runtime.GOOS != "linux" {
		t.Skip("the memory of a process is read from Linux's /proc")
		return nil
	}
	ctx := context.Background()
	values := maps.Clone(e.s.Config)
	if values == nil {
		values = map[string]any{}
	}
	maps.Copy(values, e.s.LargeState)
	st, err := e.start(ctx, t, values)
	if err != nil {
		return err
	}
	var probs problems
	defer func() { probs.addErr(st.close()) }()
	if st.diags.HasErrors() {
		return fmt.Errorf("configure with Suite.LargeState: %w", st.diags.Err())
	}
	if _, err := e.driver().sequence(ctx, st, 0, e.s.Calls); err != nil {
		return err
	}
	pid := st.p.Pid()
	// One SaveState first, so that what any call sets up once (a channel
	// lane of a few MiB) is in place before the measurement.
	if _, err := st.p.SaveStateTo(ctx, &countSink{}); err != nil {
		return fmt.Errorf("SaveState: %w", err)
	}
	rss, err := statusKB(pid, "VmRSS")
	if err != nil {
		return err
	}
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		return fmt.Errorf("reset the plugin's peak memory: %w", err)
	}
	var sink countSink
	if _, err := st.p.SaveStateTo(ctx, &sink); err != nil {
		return fmt.Errorf("SaveState: %w", err)
	}
	hwm, err := statusKB(pid, "VmHWM")
	if err != nil {
		return err
	}
	if sink.n < minLargeState {
		return fmt.Errorf("Suite.LargeState gives a state of %.1f MiB; the memory check needs at least %d MiB of tensors", float64(sink.n)/(1<<20), minLargeState>>20)
	}
	grew := (hwm - rss) << 10
	t.Logf("SaveState of %.0f MiB of tensors: peak RSS %.0f MiB, %.1f MiB above the RSS before", float64(sink.n)/(1<<20), float64(hwm)/1024, float64(grew)/(1<<20))
	if grew >= sink.n/2 {
		probs.add("SaveState of a state of %.0f MiB raised the plugin's peak memory by %.0f MiB (from %.0f MiB): it builds a second copy of its state; implement sdk.StateSaver and give the StateWriter the stage's own tensors",
			float64(sink.n)/(1<<20), float64(grew)/(1<<20), float64(rss)/1024)
	}
	return probs.err()
}

// countSink counts a streamed state's tensor bytes and keeps none.
type countSink struct{ n int64 }

func (s *countSink) Begin(wire.Header) error { return nil }

func (s *countSink) Write(p []byte) (int, error) {
	s.n += int64(len(p))
	return len(p), nil
}

// statusKB reads a "NAME: N kB" line of /proc/PID/status.
func statusKB(pid int, name string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read the plugin's memory: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			f := strings.Fields(v)
			if len(f) == 2 && f[1] == "kB" {
				return strconv.ParseInt(f[0], 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", pid, name)
}
