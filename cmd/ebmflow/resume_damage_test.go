package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestResumeExplainsItself: resume removes the temporary folder of a
// killed checkpoint; sets aside a damaged last checkpoint (a truncated
// stage file, a missing core.json) with a warning naming it and the
// checkpoint used instead, and still ends with the numbers of an
// uninterrupted run; and refuses metrics that are shorter than the
// checkpoint, naming the iterations.
func TestResumeExplainsItself(t *testing.T) {
	bin, _ := ebmflowBinary(t)
	pipe := writePipeline(t)
	ref := filepath.Join(t.TempDir(), "ref")
	if code, log := ebmflow(t, bin, "run", "-out", ref, pipe); code != 0 {
		t.Fatalf("reference run: exit %d\n%s", code, log)
	}
	want := metrics(t, ref)
	ckpts := filepath.Join(ref, "checkpoints")

	// A leftover temporary folder and a truncated energy file in the last
	// checkpoint (40): resume goes back to 35 and redoes 36-40.
	tmp := filepath.Join(ckpts, ".tmp-123456")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	st := filepath.Join(ckpts, "000000040", "energy.safetensors")
	fi, err := os.Stat(st)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(st, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
	code, log := ebmflow(t, bin, "run", "-log-format", "json", "-resume", ref)
	if code != 0 {
		t.Fatalf("resume over a truncated checkpoint: exit %d\n%s", code, log)
	}
	for _, s := range []string{"removed an unfinished checkpoint", "the last checkpoint (iteration 40) is damaged; resuming from the checkpoint after iteration 35", "000000040", ".damaged-000000040", "energy"} {
		if !strings.Contains(log, s) {
			t.Errorf("resume log lacks %q:\n%s", s, log)
		}
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Error("the temporary folder is still there")
	}
	if _, err := os.Stat(filepath.Join(ckpts, ".damaged-000000040", "energy.safetensors")); err != nil {
		t.Errorf("the damaged checkpoint was not kept aside: %v", err)
	}
	sameMetrics(t, want, metrics(t, ref))

	// The new checkpoint 40 without its core.json: set aside with a warning.
	if err := os.Remove(filepath.Join(ckpts, "000000040", "core.json")); err != nil {
		t.Fatal(err)
	}
	code, log = ebmflow(t, bin, "run", "-log-format", "json", "-resume", ref)
	if code != 0 || !strings.Contains(log, "the checkpoint after iteration 40 has no core.json; it is not used") {
		t.Fatalf("resume without core.json: exit %d\n%s", code, log)
	}
	sameMetrics(t, want, metrics(t, ref))

	// Metrics cut to 29 lines while the last checkpoint is after 40:
	// refused, naming the missing iterations.
	rewriteMetrics(t, ref, want[:29])
	code, log = ebmflow(t, bin, "run", "-resume", ref)
	if code == 0 || !strings.Contains(log, "the metrics end at iteration 29 but the checkpoint is after iteration 40: iterations 30-40 missing") {
		t.Fatalf("resume over short metrics: exit %d\n%s", code, log)
	}
	// A gap in the middle.
	rewriteMetrics(t, ref, append(append(want[:0:0], want[:20]...), want[25:]...))
	code, log = ebmflow(t, bin, "run", "-resume", ref)
	if code == 0 || !strings.Contains(log, "iterations 21-25 missing before iteration 26") {
		t.Fatalf("resume over a gap: exit %d\n%s", code, log)
	}
}
