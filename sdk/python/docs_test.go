package python_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
	"github.com/ebmflow/ebmflow/sdk/plugintest"
)

// pythonBlock is a code block of docs/plugins-python.md marked with the
// file it is.
var pythonBlock = regexp.MustCompile("(?s)<!-- python: ([^ ]+) -->\n```python\n(.*?)```")

// TestDocsPlugin writes the plugin that docs/plugins-python.md shows into a
// folder and runs the conformance harness on it.
func TestDocsPlugin(t *testing.T) {
	needPython(t)
	doc, err := os.ReadFile("../../docs/plugins-python.md")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	blocks := pythonBlock.FindAllSubmatch(doc, -1)
	if len(blocks) != 2 {
		t.Fatalf("%d marked python blocks in docs/plugins-python.md, want 2", len(blocks))
	}
	for _, b := range blocks {
		if err := os.WriteFile(filepath.Join(dir, string(b[1])), b[2], 0o755); err != nil {
			t.Fatal(err)
		}
	}
	abs, _ := filepath.Abs(".")
	t.Setenv("EBMFLOW_SDK_PYTHON", abs)
	plugintest.Run(t, plugintest.Suite{
		Package: plugintest.Executable(filepath.Join(dir, "ebmflow-plugin-centre")),
		Kind:    sdk.KindEnergy,
		Config:  map[string]any{"a": 2.0, "dim": 3, "epsilon": 0.1},
		Bad: []plugintest.BadConfig{
			{Set: map[string]any{"a": -1.0}, Path: "a"},
			{Set: map[string]any{"epsilon": nil}, Path: "epsilon"},
		},
	})
}
