package pipelines_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebmflow/ebmflow/core/runner"
)

// observePipeline is a small toy run (8 Gaussians, toy MLP, persistent
// bank of 10,000 chains, 5 Langevin steps); %s is replaced by the
// diagnostics stages and the train block's diagnostics list.
const observePipeline = `
schedule "lr" {
  type    = "constant"
  initial = 0.1
}
stage "data" {
  plugin  = "data-mnist"
  dataset = "gmm"
}
stage "energy" {
  plugin  = "energy-convnet"
  net     = "toy"
  epsilon = 0.125
}
stage "sampler" {
  plugin    = "sampler-langevin"
  energy    = stage.energy
  epsilon   = 0.125
  steps     = 5
  batch     = 100
  init      = "persistent"
  bank_size = 10000
}
%s
train {
  iterations       = 12
  seed             = 99
  batch            = 100
  checkpoint_every = 0
  sample_every     = %d
  energy           = stage.energy
  sampler          = stage.sampler
  data             = stage.data
  diagnostics      = [%s]
}
`

// diagStage is a diag-oscillation stage with the density diagnostic and
// short-run samples drawn through the sampler.
func diagStage(name string, density, report int, init string) string {
	s := fmt.Sprintf(`stage %q {
  plugin        = "diag-oscillation"
  energy        = stage.energy
  data          = stage.data
  sampler       = stage.sampler
  epsilon       = 0.125
  every         = 2
  density_every = %d
  report_every  = %d
`, name, density, report)
	if init != "" {
		s += fmt.Sprintf("  samples_init  = %q\n", init)
	}
	return s + "}\n"
}

// TestObservingDoesNotDisturbTraining: with the same seed, the training
// fields of metrics.jsonl are bit for bit the same with no diagnostics
// stage, with one, with two, and with different *_every settings, although
// the diagnostics draw 10,000 chains through the sampler (reading its
// persistent bank, or from noise) and exact draws from the data stage.
func TestObservingDoesNotDisturbTraining(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ebmflow and the plugins and runs a toy pipeline five times")
	}
	bin := buildAll(t)
	variants := []struct {
		name, stages, list string
		sampleEvery        int
	}{
		{"none", "", "", 0},
		{"one", diagStage("d1", 3, 4, ""), "stage.d1", 5},
		{"every1", diagStage("d1", 1, 1, ""), "stage.d1", 1},
		{"two", diagStage("d1", 5, 0, "uniform") + diagStage("d2", 2, 6, "persistent"), "stage.d1, stage.d2", 6},
	}
	var base []runner.Metric
	for _, v := range variants {
		dir := t.TempDir()
		pipe := filepath.Join(dir, "observe.hcl")
		os.WriteFile(pipe, []byte(fmt.Sprintf(observePipeline, v.stages, v.sampleEvery, v.list)), 0o644)
		out := filepath.Join(dir, "run")
		cmd := exec.Command(filepath.Join(bin, "ebmflow"), "run", "-out", out, pipe)
		if log, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: run: %v\n%s", v.name, err, log)
		}
		ms, err := runner.ReadMetrics(filepath.Join(out, "metrics.jsonl"))
		if err != nil || len(ms) != 12 {
			t.Fatalf("%s: metrics: %v (%d lines)", v.name, err, len(ms))
		}
		evals := 0
		for _, m := range ms {
			if _, ok := m.Extra["d1.tv_samples"]; ok {
				evals++
			}
		}
		if v.list != "" && evals < 2 {
			t.Errorf("%s: %d density evaluations with samples in the metrics", v.name, evals)
		}
		if base == nil {
			base = ms
			continue
		}
		for i := range ms {
			a, b := base[i].TrainingFields(), ms[i].TrainingFields()
			for j := range a {
				if a[j] != b[j] {
					t.Fatalf("%s: iteration %d: %s = %v, without diagnostics %v", v.name, i+1, b[j].Name, b[j].Value, a[j].Value)
				}
			}
		}
	}
}

// built holds the binaries built once per test binary.
var built struct {
	dir string
	err string
}

// buildAll builds ebmflow and the plugins once.
func buildAll(t *testing.T) string {
	t.Helper()
	if built.dir == "" && built.err == "" {
		dir, err := os.MkdirTemp("", "ebmflow-pipelines-bin")
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("go", "build", "-o", dir+"/", "../cmd/ebmflow", "../plugins/...")
		if out, err := cmd.CombinedOutput(); err != nil {
			built.err = strings.TrimSpace(fmt.Sprintf("go build: %v\n%s", err, out))
		}
		built.dir = dir
	}
	if built.err != "" {
		t.Fatal(built.err)
	}
	return built.dir
}

// TestValidateCatchesSmallBank: `ebmflow validate` refuses a density
// diagnostic that would draw 10,000 chains from a bank of 1,000, naming the
// attribute and the fix, before anything runs.
func TestValidateCatchesSmallBank(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ebmflow and the plugins")
	}
	bin := buildAll(t)
	dir := t.TempDir()
	src := strings.Replace(fmt.Sprintf(observePipeline, diagStage("d1", 3, 0, ""), 0, "stage.d1"), "bank_size = 10000", "bank_size = 1000", 1)
	pipe := filepath.Join(dir, "small.hcl")
	os.WriteFile(pipe, []byte(src), 0o644)
	out, err := exec.Command(filepath.Join(bin, "ebmflow"), "validate", pipe).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "sampler bank too small for tv_samples") || !strings.Contains(string(out), "bank_size >= 10000") {
		t.Fatalf("validate: %v\n%s", err, out)
	}
	// Starting the evaluation's chains from noise makes it valid.
	os.WriteFile(pipe, []byte(strings.Replace(src, "report_every  = 0", "report_every  = 0\n  samples_init  = \"uniform\"", 1)), 0o644)
	if out, err := exec.Command(filepath.Join(bin, "ebmflow"), "validate", pipe).CombinedOutput(); err != nil {
		t.Fatalf("validate with samples_init: %v\n%s", err, out)
	}
}
