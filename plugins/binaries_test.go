package plugins_test

import (
	"os/exec"
	"path"
	"strings"
	"testing"
)

// TestOnlyProductBinaries: the README's build command, `go build -o bin/
// ./cmd/ebmflow ./plugins/...`, puts ebmflow and the plugins in bin/ and
// nothing else (no generators, no test plugins that `ebmflow plugins` would
// list as real ones).
func TestOnlyProductBinaries(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{if eq .Name \"main\"}}{{.ImportPath}}{{end}}", "../cmd/ebmflow", "./...").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range strings.Fields(string(out)) {
		base := path.Base(p)
		if base != "ebmflow" && !(strings.HasPrefix(base, "ebmflow-plugin-") && strings.HasSuffix(path.Dir(p), "/cmd")) {
			t.Errorf("go build ./plugins/... would put %s in bin/ (command %s)", base, p)
		}
	}
}
