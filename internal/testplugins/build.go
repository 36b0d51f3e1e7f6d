package testplugins

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Kinds are the names the testkit binary serves under.
var Kinds = []string{"testenergy", "testsampler", "testdata", "testdiag"}

// Build compiles ebmflow-plugin-testkit into dir and links it there under
// each name in Kinds. It runs `go build` from the module root.
func Build(dir string) error {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	bin := filepath.Join(dir, "ebmflow-plugin-testkit")
	cmd := exec.Command("go", "build", "-o", bin, "./internal/testplugins/cmd/ebmflow-plugin-testkit")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build testkit: %w\n%s", err, b)
	}
	for _, k := range Kinds {
		p := filepath.Join(dir, "ebmflow-plugin-"+k)
		os.Remove(p)
		if err := os.Link(bin, p); err != nil {
			return err
		}
	}
	return nil
}
