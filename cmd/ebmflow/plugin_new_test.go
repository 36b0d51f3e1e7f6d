package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ebmflow/ebmflow/core/host"
)

// TestPluginNewUsage checks the command's refusals.
func TestPluginNewUsage(t *testing.T) {
	full := t.TempDir()
	os.WriteFile(filepath.Join(full, "x"), nil, 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"plugin"}, "Usage: ebmflow plugin new"},
		{[]string{"plugin", "new", "energy"}, "takes KIND and NAME"},
		{[]string{"plugin", "new", "optimizer", "x"}, `unknown plugin kind "optimizer"`},
		{[]string{"plugin", "new", "energy", "My_Energy"}, `plugin name "My_Energy"`},
		{[]string{"plugin", "new", "-dir", full, "energy", "e"}, "exists and is not empty"},
		{[]string{"plugin", "new", "-ebmflow", full, "energy", "e"}, "not a checkout"},
	} {
		code, _, errs := run(c.args...)
		if code != exitInvalid || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args, code, errs, exitInvalid, c.want)
		}
	}
}

// TestPluginNewEveryKind scaffolds a plugin of every kind from this
// checkout, then in each module runs go vet, go test (unit tests and the
// conformance harness over real processes) and go build, and checks that
// `ebmflow plugins` finds the four binaries with their kinds. Under -short
// only the energy kind is tested.
func TestPluginNewEveryKind(t *testing.T) {
	kinds := []string{"energy", "sampler", "data", "diagnostics"}
	if testing.Short() {
		kinds = kinds[:1]
	}
	root := t.TempDir()
	bin := filepath.Join(root, "bin")
	var wg sync.WaitGroup
	for _, kind := range kinds {
		name := "my-" + kind
		dir := filepath.Join(root, name)
		code, out, errs := run("plugin", "new", kind, name, "-dir", dir)
		if code != exitOK {
			t.Fatalf("plugin new %s: exit %d\n%s%s", kind, code, out, errs)
		}
		mod, _ := os.ReadFile(filepath.Join(dir, "go.mod"))
		if !strings.Contains(string(mod), "module ebmflow-plugin-"+name) || !strings.Contains(string(mod), "replace github.com/ebmflow/ebmflow => ") {
			t.Fatalf("go.mod:\n%s", mod)
		}
		for _, f := range []string{"main.go", "plugin.go", "plugin_test.go", "README.md", "go.sum"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("plugin new %s: %v", kind, err)
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, args := range [][]string{{"vet", "./..."}, {"test", "-count=1", "./..."}, {"build", "-o", bin + "/"}} {
				cmd := exec.Command("go", args...)
				cmd.Dir = dir
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Errorf("%s: go %s: %v\n%s", kind, strings.Join(args, " "), err, out)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	t.Setenv(host.PathEnv, bin)
	t.Setenv("PATH", "/nonexistent")
	code, out, errs := run("plugins")
	if code != exitOK {
		t.Fatalf("plugins: %d %s", code, errs)
	}
	listed := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) >= 6 {
			listed[f[0]] = f[1]
		}
	}
	for _, kind := range kinds {
		if listed["my-"+kind] != kind {
			t.Errorf("ebmflow plugins lists my-%s as %q, want %q:\n%s", kind, listed["my-"+kind], kind, out)
		}
	}
}
