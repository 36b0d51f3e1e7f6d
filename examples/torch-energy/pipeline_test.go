package torchenergy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebmflow/ebmflow/core/runner"
)

// run runs ebmflow from binDir and returns its exit code and output.
func run(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "ebmflow"), args...)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

// pipelineCopy writes the example pipeline name into a temporary folder
// (so that its lock file goes there) with the plugin's source made
// absolute, and returns the copy's path.
func pipelineCopy(t *testing.T, name string) string {
	t.Helper()
	src, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(entry)
	text := strings.Replace(string(src), `source = "`+entry+`"`, `source = "`+abs+`"`, 1)
	if text == string(src) {
		t.Fatalf("%s: no plugin source line to rewrite", name)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func trainingFields(t *testing.T, dir string) [][]runner.Field {
	t.Helper()
	ms, err := runner.ReadMetrics(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]runner.Field, len(ms))
	for i, m := range ms {
		out[i] = m.Fields()
	}
	return out
}

// TestPipelineResume runs toy-gmm-torch.hcl (sampler-langevin calling
// torch-energy, diagnostics linked to it) for a few iterations, resumes a
// copy from its middle checkpoint and checks that both end with the same
// metrics bit for bit, runs `ebmflow verify` on the run, and runs it again
// without channels.
func TestPipelineResume(t *testing.T) {
	needTorch(t)
	pipe := pipelineCopy(t, "toy-gmm-torch.hcl")
	vars := []string{"-var", "iterations=6", "-var", "steps=5", "-var", "checkpoint_every=3", "-var", "sample_every=3", "-var", "density_every=3"}
	ref := filepath.Join(t.TempDir(), "ref")
	if code, log := run(t, append(append([]string{"run", "-out", ref}, vars...), pipe)...); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, log)
	}
	want := trainingFields(t, ref)
	if len(want) != 6 {
		t.Fatalf("%d metrics lines, want 6", len(want))
	}
	cut := filepath.Join(t.TempDir(), "cut")
	if out, err := exec.Command("cp", "-r", ref, cut).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	if err := os.RemoveAll(filepath.Join(cut, "checkpoints", "000000006")); err != nil {
		t.Fatal(err)
	}
	if code, log := run(t, "run", "-resume", cut); code != 0 || !strings.Contains(log, "resumed from checkpoint") {
		t.Fatalf("resume: exit %d\n%s", code, log)
	}
	got := trainingFields(t, cut)
	if len(got) != len(want) {
		t.Fatalf("%d metrics lines after resume, want %d", len(got), len(want))
	}
	for i := range want {
		for j := range want[i] {
			if got[i][j] != want[i][j] {
				t.Errorf("iteration %d: %s = %v after resume, %v uninterrupted", i+1, want[i][j].Name, got[i][j].Value, want[i][j].Value)
			}
		}
	}
	if code, log := run(t, "verify", ref); code != 0 {
		t.Fatalf("verify: exit %d\n%s", code, log)
	}
	// Without shared-memory channels (frames through the host's broker)
	// the numbers are the same.
	t.Setenv("EBMFLOW_SHM", "0")
	frames := filepath.Join(t.TempDir(), "frames")
	if code, log := run(t, append(append([]string{"run", "-out", frames}, vars...), pipe)...); code != 0 {
		t.Fatalf("run with EBMFLOW_SHM=0: exit %d\n%s", code, log)
	}
	got = trainingFields(t, frames)
	for i := range want {
		for j := range want[i] {
			if got[i][j] != want[i][j] {
				t.Errorf("iteration %d: %s = %v as frames, %v through channels", i+1, want[i][j].Name, got[i][j].Value, want[i][j].Value)
			}
		}
	}
}

// TestMNISTPipeline runs mnist-torch.hcl (the VanillaNet on MNIST) for two
// iterations with small sizes.
func TestMNISTPipeline(t *testing.T) {
	needTorch(t)
	if testing.Short() {
		t.Skip("loads MNIST and runs the VanillaNet in PyTorch")
	}
	pipe := pipelineCopy(t, "mnist-torch.hcl")
	out := filepath.Join(t.TempDir(), "run")
	args := []string{"run", "-out", out, "-var", "iterations=2", "-var", "steps=3", "-var", "n_f=4", "-var", "batch=16",
		"-var", "subset=300", "-var", "sample_every=2", "-var", "checkpoint_every=2", pipe}
	if code, log := run(t, args...); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, log)
	}
	if got := trainingFields(t, out); len(got) != 2 {
		t.Fatalf("%d metrics lines, want 2", len(got))
	}
	if _, err := os.Stat(filepath.Join(out, "checkpoints", "000000002", "energy.safetensors")); err != nil {
		t.Fatal(err)
	}
}
