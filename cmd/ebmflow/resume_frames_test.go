package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestResumeOverFrames: with the shared-memory channels off, stage state
// streams between the plugins and the checkpoint's files as gRPC frames
// (issue 22); a run resumed from its checkpoint after iteration 35
// continues bit for bit, and the checkpoint's files read back whole.
func TestResumeOverFrames(t *testing.T) {
	t.Setenv("EBMFLOW_SHM", "0")
	bin, _ := ebmflowBinary(t)
	pipe := writePipeline(t)
	ref := filepath.Join(t.TempDir(), "ref")
	if code, log := ebmflow(t, bin, "run", "-out", ref, pipe); code != 0 {
		t.Fatalf("reference run: exit %d\n%s", code, log)
	}
	want := metrics(t, ref)
	// Without its core.json, checkpoint 40 is set aside: resume loads 35.
	if err := os.Remove(filepath.Join(ref, "checkpoints", "000000040", "core.json")); err != nil {
		t.Fatal(err)
	}
	code, log := ebmflow(t, bin, "run", "-log-format", "json", "-resume", ref)
	if code != 0 || !strings.Contains(log, "checkpoint loaded") {
		t.Fatalf("resume over frames: exit %d\n%s", code, log)
	}
	sameMetrics(t, want, metrics(t, ref))
}
