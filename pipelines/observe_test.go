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
	return closeStage(s, init)
}

// closeStage ends the stage block begun in s, with samples_init = init
// when init is set.
func closeStage(s, init string) string {
	if init != "" {
		s += fmt.Sprintf("  samples_init = %q\n", init)
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
	sameTraining(t, observePipeline, 12, "d1.tv_samples", []observeVariant{
		{"none", "", "", 0},
		{"one", diagStage("d1", 3, 4, ""), "stage.d1", 5},
		{"every1", diagStage("d1", 1, 1, ""), "stage.d1", 1},
		{"two", diagStage("d1", 5, 0, "uniform") + diagStage("d2", 2, 6, "persistent"), "stage.d1, stage.d2", 6},
	})
}

// observeVariant is a set of diagnostics stages (their blocks and the train
// block's list) with a sample_every.
type observeVariant struct {
	name, stages, list string
	sampleEvery        int
}

// sameTraining runs the pipeline format (observePipeline's placeholders)
// with each variant for iters iterations and checks that the training
// fields of metrics.jsonl are bit for bit those of the first variant, and
// that each variant with diagnostics has metric in at least two lines.
func sameTraining(t *testing.T, format string, iters int, metric string, variants []observeVariant) {
	t.Helper()
	bin := buildAll(t)
	var base []runner.Metric
	for _, v := range variants {
		dir := t.TempDir()
		pipe := filepath.Join(dir, "observe.hcl")
		os.WriteFile(pipe, []byte(fmt.Sprintf(format, v.stages, v.sampleEvery, v.list)), 0o644)
		out := filepath.Join(dir, "run")
		cmd := exec.Command(filepath.Join(bin, "ebmflow"), "run", "-out", out, pipe)
		if log, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: run: %v\n%s", v.name, err, log)
		}
		ms, err := runner.ReadMetrics(filepath.Join(out, "metrics.jsonl"))
		if err != nil || len(ms) != iters {
			t.Fatalf("%s: metrics: %v (%d lines)", v.name, err, len(ms))
		}
		evals := 0
		for _, m := range ms {
			if _, ok := m.Extra[metric]; ok {
				evals++
			}
		}
		if v.list != "" && evals < 2 {
			t.Errorf("%s: %d lines with %s in the metrics", v.name, evals, metric)
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

// observeMNIST is a tiny MNIST run (100 training images at 28 pixels,
// VanillaNet with n_f = 4, 3 Langevin steps from a persistent bank of one
// chain per image); placeholders as in observePipeline.
const observeMNIST = `
schedule "lr" {
  type    = "constant"
  initial = 0.0001
}
stage "data" {
  plugin     = "data-mnist"
  size       = 28
  subset     = 100
  data_noise = 0.03
}
stage "energy" {
  plugin     = "energy-convnet"
  net        = "vanilla"
  image_size = 28
  n_f        = 4
  epsilon    = 0.01
  optimizer  = "adam"
}
stage "sampler" {
  plugin  = "sampler-langevin"
  energy  = stage.energy
  data    = stage.data
  epsilon = 0.01
  steps   = 3
  batch   = 16
  init    = "persistent"
}
%s
train {
  iterations       = 6
  seed             = 7
  batch            = 16
  checkpoint_every = 0
  sample_every     = %d
  energy           = stage.energy
  sampler          = stage.sampler
  data             = stage.data
  diagnostics      = [%s]
}
`

// qualityStage is a diag-oscillation stage with the image quality
// diagnostic.
func qualityStage(name string, every int, init string) string {
	s := fmt.Sprintf(`stage %q {
  plugin          = "diag-oscillation"
  data            = stage.data
  sampler         = stage.sampler
  quality_every   = %d
  quality_samples = 40
`, name, every)
	return closeStage(s, init)
}

// TestObservingImagesDoesNotDisturbTraining: the image quality diagnostic
// (short-run samples drawn through the sampler from its persistent bank or
// from noise, held-out test digits from the data stage) leaves a tiny
// MNIST run's training fields bit for bit the same, whatever its cadence.
func TestObservingImagesDoesNotDisturbTraining(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ebmflow and the plugins and runs a tiny MNIST pipeline twice")
	}
	sameTraining(t, observeMNIST, 6, "d1.mmd2_samples", []observeVariant{
		{"none", "", "", 0},
		{"two", qualityStage("d1", 3, "uniform") + qualityStage("d2", 1, ""), "stage.d1, stage.d2", 4},
	})
}
