package pipelines_test

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/ebmflow/ebmflow/core/runner"
)

// TestTVAgreesWithTorchLoop: bench/e2e/torch_loop.py's TV_ebm, which
// docs/results.md uses to compare ebmflow's toy gmm learning with the
// reference loop's, is diag-oscillation's: on the energy a short real run
// checkpointed, the two agree to float32 rounding.
func TestTVAgreesWithTorchLoop(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ebmflow and runs a toy pipeline")
	}
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import torch").Run(); err != nil {
		t.Skipf("%s has no torch (Debian's python3-torch): %v", python, err)
	}
	bin := buildAll(t)
	dir, pipe := privateCopy(t, "toy-gmm.hcl")
	out := filepath.Join(dir, "run")
	cmd := exec.Command(filepath.Join(bin, "ebmflow"), "run", "-out", out, "-var", "iterations=40", "-var", "steps=20",
		"-var", "density_every=40", "-var", "checkpoint_every=40", "-var", "sample_every=40", pipe)
	if log, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("run: %v\n%s", err, log)
	}
	ms, err := runner.ReadMetrics(filepath.Join(out, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	want := math.NaN()
	for _, m := range ms {
		if m.T == 40 {
			want = m.Extra["diagnostics.tv_ebm"]
		}
	}
	if !(want > 0 && want < 1) {
		t.Fatalf("no tv_ebm in (0, 1) at iteration 40 in metrics.jsonl: %v", want)
	}
	weights := filepath.Join(out, "checkpoints", "000000040", "energy.safetensors")
	if _, err := os.Stat(weights); err != nil {
		t.Fatal(err)
	}
	py := exec.Command(python, "../bench/e2e/torch_loop.py", "toy", "--threads", "1", "--tv-of", weights)
	py.Stderr = os.Stderr
	line, err := py.Output()
	if err != nil {
		t.Fatalf("torch_loop.py --tv-of: %v", err)
	}
	var got struct {
		TV float64 `json:"tv_ebm"`
	}
	if err := json.Unmarshal(line, &got); err != nil {
		t.Fatalf("torch_loop.py printed %q: %v", line, err)
	}
	if math.Abs(got.TV-want) > 1e-5 {
		t.Errorf("torch_loop.py's TV_ebm %.9f, diag-oscillation's %.9f", got.TV, want)
	}
}
