// Package pipelines_test runs every shipped pipeline for a few iterations
// with its sizes shrunk by -var, through the real ebmflow command and the
// real plugins, and checks that each writes its files and finite metrics.
package pipelines_test

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebmflow/ebmflow/core/runner"
)

// shrink holds each pipeline's -var settings for a quick run.
var shrink = map[string][]string{
	"quickstart.hcl":          {"iterations=4", "steps=3", "n_f=4", "batch=16", "subset=300", "sample_every=2", "checkpoint_every=2"},
	"mnist-nonconvergent.hcl": {"iterations=3", "steps=3", "n_f=4", "batch=16", "subset=300", "sample_every=2", "checkpoint_every=2", "quality_every=2", "quality_samples=50"},
	"mnist-convergent.hcl":    {"iterations=3", "steps=3", "n_f=4", "batch=16", "subset=300", "sample_every=2", "checkpoint_every=2", "quality_every=2", "quality_samples=50"},
	"toy-gmm.hcl":             {"iterations=6", "steps=5", "sample_every=3", "checkpoint_every=3", "density_every=3"},
	"toy-rings.hcl":           {"iterations=6", "steps=5", "sample_every=3", "checkpoint_every=3", "density_every=3", "mode=nonconvergent"},
	"toy-collapse.hcl":        {"iterations=6", "steps=5", "sample_every=3", "checkpoint_every=3", "data_noise_factor=2"},
	"ci.hcl":                  {"iterations=30"},
}

// buildProduct builds ebmflow and the built-in plugins into a temporary
// folder and returns it.
func buildProduct(t *testing.T) string {
	t.Helper()
	bin := t.TempDir()
	cmd := exec.Command("go", "build", "-o", bin+"/", "../cmd/ebmflow", "../plugins/...")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// privateCopy copies a shipped pipeline into a temporary folder, so that
// its lock file is written there; it returns the folder and the copy.
func privateCopy(t *testing.T, name string) (dir, pipe string) {
	t.Helper()
	dir = t.TempDir()
	src, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	pipe = filepath.Join(dir, name)
	if err := os.WriteFile(pipe, src, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, pipe
}

func TestShippedPipelines(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ebmflow and the plugins and runs every shipped pipeline")
	}
	bin := buildProduct(t)
	files, _ := filepath.Glob("*.hcl")
	for _, f := range files {
		if _, ok := shrink[f]; !ok && f != "ebmflow.lock.hcl" {
			t.Errorf("pipeline %s has no entry in the shrink table", f)
		}
	}
	for name, vars := range shrink {
		t.Run(strings.TrimSuffix(name, ".hcl"), func(t *testing.T) {
			// A private copy, so the lock file is written beside it.
			dir, pipe := privateCopy(t, name)
			out := filepath.Join(dir, "run")
			args := []string{"run", "-out", out}
			for _, v := range vars {
				args = append(args, "-var", v)
			}
			cmd := exec.Command(filepath.Join(bin, "ebmflow"), append(args, pipe)...)
			cmd.Env = append(os.Environ(), "PATH="+os.Getenv("PATH"))
			if log, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("run: %v\n%s", err, log)
			}
			ms, err := runner.ReadMetrics(filepath.Join(out, "metrics.jsonl"))
			if err != nil || len(ms) == 0 {
				t.Fatalf("metrics: %v (%d lines)", err, len(ms))
			}
			for _, m := range ms {
				for _, f := range m.Fields() {
					if math.IsNaN(f.Value) || math.IsInf(f.Value, 0) {
						t.Errorf("iteration %d: %s = %v", m.T, f.Name, f.Value)
					}
				}
			}
			if !strings.HasPrefix(name, "toy") && name != "ci.hcl" {
				// MNIST: the image quality diagnostic reports.
				found := false
				for _, m := range ms {
					_, ok := m.Extra["diagnostics.mmd2_samples"]
					found = found || ok
				}
				if !found {
					t.Errorf("no diagnostics.mmd2_samples in the metrics")
				}
			}
			want := []string{"manifest.json", "pipeline.hcl", "diagnostics.png", "report.json"}
			// toy-collapse's degenerate sets have no density to compare with.
			if (strings.HasPrefix(name, "toy") && name != "toy-collapse.hcl") || name == "ci.hcl" {
				want = append(want, "density.png")
			}
			for _, f := range want {
				if _, err := os.Stat(filepath.Join(out, f)); err != nil {
					t.Errorf("no %s", f)
				}
			}
			grids, _ := filepath.Glob(filepath.Join(out, "samples", "negatives-*.png"))
			if len(grids) == 0 {
				t.Errorf("no sample grids")
			}
			if cps, _ := filepath.Glob(filepath.Join(out, "checkpoints", "*", "core.json")); len(cps) == 0 {
				t.Errorf("no checkpoint")
			}
		})
	}
}

// TestExamplePluginInPipeline: the out-of-tree example plugin
// (examples/hmc-sampler, its own module) built with plain `go build` and used
// by a pipeline next to the built-in plugins.
func TestExamplePluginInPipeline(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a separate module and runs a pipeline")
	}
	bin := buildProduct(t)
	cmd := exec.Command("go", "build", "-o", bin+"/")
	cmd.Dir = "../examples/hmc-sampler"
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build (example): %v\n%s", err, out)
	}
	dir := t.TempDir()
	src, err := os.ReadFile("../examples/hmc-sampler/toy-gmm-hmc.hcl")
	if err != nil {
		t.Fatal(err)
	}
	pipe := filepath.Join(dir, "toy-gmm-hmc.hcl")
	os.WriteFile(pipe, src, 0o644)
	out := filepath.Join(dir, "run")
	run := exec.Command(filepath.Join(bin, "ebmflow"), "run", "-out", out, "-var", "iterations=5", pipe)
	if log, err := run.CombinedOutput(); err != nil {
		t.Fatalf("run: %v\n%s", err, log)
	}
	ms, err := runner.ReadMetrics(filepath.Join(out, "metrics.jsonl"))
	if err != nil || len(ms) != 5 {
		t.Fatalf("metrics: %v (%d lines)", err, len(ms))
	}
	m, err := runner.ReadManifest(out)
	if err != nil || m.Plugins["hmc-sampler"].SHA256 == "" {
		t.Fatalf("manifest does not record the example plugin: %v %+v", err, m)
	}
}

// TestSameNumbersOverChannels runs ci, toy-gmm and quickstart (shrunk) with
// the shared-memory channels on and off (EBMFLOW_SHM=0: gRPC frames through
// the host): every metric but wall time is bit-identical.
func TestSameNumbersOverChannels(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ebmflow and runs three pipelines twice")
	}
	bin := buildProduct(t)
	for _, name := range []string{"ci.hcl", "toy-gmm.hcl", "quickstart.hcl"} {
		t.Run(strings.TrimSuffix(name, ".hcl"), func(t *testing.T) {
			dir, pipe := privateCopy(t, name)
			runs := map[string][]runner.Metric{}
			for _, shm := range []string{"1", "0"} {
				out := filepath.Join(dir, "run-shm"+shm)
				args := []string{"run", "-out", out}
				for _, v := range shrink[name] {
					args = append(args, "-var", v)
				}
				cmd := exec.Command(filepath.Join(bin, "ebmflow"), append(args, pipe)...)
				cmd.Env = append(os.Environ(), "EBMFLOW_SHM="+shm)
				if log, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("run with EBMFLOW_SHM=%s: %v\n%s", shm, err, log)
				}
				ms, err := runner.ReadMetrics(filepath.Join(out, "metrics.jsonl"))
				if err != nil {
					t.Fatal(err)
				}
				runs[shm] = ms
			}
			on, off := runs["1"], runs["0"]
			if len(on) == 0 || len(on) != len(off) {
				t.Fatalf("%d iterations with channels, %d without", len(on), len(off))
			}
			for i := range on {
				a, b := on[i].Fields(), off[i].Fields()
				if len(a) != len(b) {
					t.Fatalf("iteration %d: fields %v and %v", on[i].T, a, b)
				}
				for k := range a {
					if a[k].Name != b[k].Name || math.Float64bits(a[k].Value) != math.Float64bits(b[k].Value) {
						t.Fatalf("iteration %d: %s = %v with channels, %s = %v without", on[i].T, a[k].Name, a[k].Value, b[k].Name, b[k].Value)
					}
				}
			}
		})
	}
}
