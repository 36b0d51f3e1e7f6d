package plugintest

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebmflow/ebmflow/core/host"
	"github.com/ebmflow/ebmflow/sdk"
)

// repoRoot returns the folder of the ebmflow module.
func repoRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// TestExampleModule runs the tests of the out-of-tree example plugin,
// examples/hmc-sampler, which is its own module and so outside `go test
// ./...` of this one; then builds it and checks that ebmflow's discovery
// finds it as a sampler plugin.
func TestExampleModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and tests a separate module")
	}
	dir := filepath.Join(repoRoot(t), "examples", "hmc-sampler")
	for _, args := range [][]string{{"vet", "./..."}, {"test", "-count=1", "./..."}} {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
		}
		t.Logf("go %s:\n%s", strings.Join(args, " "), out)
	}
	bin := t.TempDir()
	cmd := exec.Command("go", "build", "-o", bin+"/")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Setenv(host.PathEnv, bin)
	t.Setenv("PATH", "/nonexistent")
	var found bool
	for _, b := range host.List(context.Background(), "") {
		if b.Name == "hmc-sampler" {
			found = true
			if b.Err != nil || b.Description.Info.Kind != sdk.KindSampler || b.Description.Info.Protocol != sdk.ProtocolVersion {
				t.Errorf("discovered %+v", b)
			}
		}
	}
	if !found {
		t.Errorf("ebmflow-plugin-hmc-sampler built by `go build` in %s is not discovered in %s", dir, bin)
	}
}
