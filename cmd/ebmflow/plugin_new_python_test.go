package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebmflow/ebmflow/core/host"
	"github.com/ebmflow/ebmflow/sdk"
	"github.com/ebmflow/ebmflow/sdk/plugintest"
)

// debianPython is the interpreter with Debian's python3-grpcio and
// python3-protobuf.
const debianPython = "/usr/bin/python3"

// TestPluginNewPython scaffolds a Python plugin of every kind, runs its
// unit tests, and runs the conformance harness on the executable as it is:
// the sampler linked to the repository's quadratic test energy (a Go
// plugin), the others alone. Under -short only the energy and the sampler.
func TestPluginNewPython(t *testing.T) {
	if out, err := exec.Command(debianPython, "-c", "import grpc, google.protobuf").CombinedOutput(); err != nil {
		t.Skipf("%s cannot import grpc and protobuf (apt-get install python3-grpcio python3-protobuf): %v\n%s", debianPython, err, out)
	}
	kinds := []sdk.Kind{sdk.KindEnergy, sdk.KindSampler, sdk.KindData, sdk.KindDiagnostics}
	if testing.Short() {
		kinds = kinds[:2]
	}
	suites := map[sdk.Kind]plugintest.Suite{
		sdk.KindEnergy: {Config: map[string]any{"a": 2.0, "dim": 3, "epsilon": 0.1},
			Bad: []plugintest.BadConfig{{Set: map[string]any{"a": -1.0}, Path: "a"}, {Set: map[string]any{"epsilon": nil}, Path: "epsilon"}}},
		sdk.KindSampler: {Config: map[string]any{"epsilon": 0.1, "steps": 5, "batch": 20},
			Bad:   []plugintest.BadConfig{{Set: map[string]any{"steps": 0}, Path: "steps"}},
			Links: []plugintest.Link{plugintest.QuadraticEnergy("energy", map[string]any{"a": 0.5, "shape": []int{2}})}},
		sdk.KindData:        {Config: map[string]any{"dim": 3}, Bad: []plugintest.BadConfig{{Set: map[string]any{"sd": 0.0}, Path: "sd"}}},
		sdk.KindDiagnostics: {Config: map[string]any{}, Bad: []plugintest.BadConfig{{Set: map[string]any{"r_band": []any{0.2, 0.1}}, Path: "r_band"}}},
	}
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			name := "py-" + string(kind)
			dir := filepath.Join(t.TempDir(), name)
			code, out, errs := run("plugin", "new", "-lang", "python", "-python", debianPython, "-dir", dir, string(kind), name)
			if code != exitOK {
				t.Fatalf("plugin new: exit %d\n%s%s", code, out, errs)
			}
			exe := filepath.Join(dir, host.BinaryPrefix+name)
			files, err := host.ScriptFiles(exe)
			if err != nil || strings.Join(files, ",") != "plugin.py" {
				t.Fatalf("the executable declares %v (%v), want plugin.py", files, err)
			}
			cmd := exec.Command(debianPython, "-m", "unittest", "test_plugin", "-v")
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("unit tests: %v\n%s", err, out)
			}
			s := suites[kind]
			s.Package, s.Kind = plugintest.Executable(exe), kind
			plugintest.Run(t, s)
			if kind == sdk.KindSampler {
				validatePythonSamplerCost(t, dir, name)
			}
		})
	}
	if out, _, errs := run("plugin", "new", "-lang", "rust", "energy", "x"); out != exitInvalid || !strings.Contains(errs, `-lang "rust"`) {
		t.Errorf("-lang rust: exit %d, %s", out, errs)
	}
}

// validatePythonSamplerCost validates a pipeline whose sampler is the
// scaffolded Python one: the cost it declares (steps per chain) reaches
// validate's count.
func validatePythonSamplerCost(t *testing.T, dir, name string) {
	t.Helper()
	kit := testKit(t)
	t.Setenv("PATH", "")
	t.Setenv(host.PathEnv, kit+string(filepath.ListSeparator)+dir)
	pipe := filepath.Join(t.TempDir(), "p.hcl")
	src := "stage \"data\" {\n  plugin = \"testdata\"\n}\nstage \"energy\" {\n  plugin = \"testenergy\"\n}\n" +
		"stage \"sampler\" {\n  plugin = \"" + name + "\"\n  energy = stage.energy\n  steps  = 7\n}\n" +
		"schedule \"lr\" {\n  type    = \"constant\"\n  initial = 0.1\n}\n" +
		"train {\n  iterations = 3\n  batch      = 10\n  energy     = stage.energy\n  sampler    = stage.sampler\n  data       = stage.data\n}\n"
	if err := os.WriteFile(pipe, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := run("validate", pipe)
	want := `stage "sampler": training negatives, batch 10 x 7 dF/dx per chain every iteration: 70 per iteration, 210 for the run`
	if code != exitOK || !strings.Contains(out, want) {
		t.Errorf("validate: exit %d, want a line %q\n%s%s", code, want, out, errs)
	}
}
