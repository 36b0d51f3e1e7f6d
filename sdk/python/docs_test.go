package python_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/ebmflow/ebmflow/core/host"
	"github.com/ebmflow/ebmflow/internal/rpc"
	"github.com/ebmflow/ebmflow/sdk"
	"github.com/ebmflow/ebmflow/sdk/plugintest"
	"github.com/rs/zerolog"
)

// pythonBlock is a code block of docs/plugins-python.md marked with the
// file it is.
var pythonBlock = regexp.MustCompile("(?s)<!-- python: ([^ ]+) -->\n```python\n(.*?)```")

// docsPlugin writes the plugin docs/plugins-python.md shows into a folder
// and returns its executable.
func docsPlugin(t *testing.T) string {
	t.Helper()
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
	return filepath.Join(dir, "ebmflow-plugin-centre")
}

// TestDocsPlugin runs the conformance harness on the plugin of
// docs/plugins-python.md.
func TestDocsPlugin(t *testing.T) {
	needPython(t)
	plugintest.Run(t, plugintest.Suite{
		Package: plugintest.Executable(docsPlugin(t)),
		Kind:    sdk.KindEnergy,
		Config:  map[string]any{"a": 2.0, "dim": 3, "epsilon": 0.1},
		Bad: []plugintest.BadConfig{
			{Set: map[string]any{"a": -1.0}, Path: "a"},
			{Set: map[string]any{"epsilon": nil}, Path: "epsilon"},
		},
	})
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLogsRelayed: a Python plugin's log line reaches the host's log at its
// level with the plugin's and stage's names, and a debug line only when the
// host logs at debug.
func TestLogsRelayed(t *testing.T) {
	needPython(t)
	exe := docsPlugin(t)
	for _, level := range []zerolog.Level{zerolog.DebugLevel, zerolog.InfoLevel} {
		var buf syncBuffer
		h := host.New(host.Options{Logger: zerolog.New(&buf).Level(level)})
		ctx := context.Background()
		p, err := h.Start(ctx, "energy", host.Binary{Name: "centre", Path: exe})
		if err != nil {
			t.Fatal(err)
		}
		_, diags, err := p.Configure(ctx, rpc.ConfigureArgs{Stage: "energy", Seed: 1, Values: map[string]json.RawMessage{"epsilon": json.RawMessage("0.1")}})
		if err != nil || diags.HasErrors() {
			t.Fatal(err, diags)
		}
		x := sdk.FromFloat32([]float32{1, 2}, 1, 2)
		if _, err := p.Update(ctx, sdk.UpdateRequest{Pos: x, Neg: x, LR: 0.1, T: 7}); err != nil {
			t.Fatal(err)
		}
		h.Close()
		var found bool
		for _, line := range strings.Split(buf.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil && m["message"] == "updated" {
				found = true
				if m["level"] != "debug" || m["plugin"] != "centre" || m["stage"] != "energy" || m["t"] != 7.0 {
					t.Errorf("relayed line %s", line)
				}
			}
		}
		if found != (level == zerolog.DebugLevel) {
			t.Errorf("host at %s: debug line relayed %v\n%s", level, found, buf.String())
		}
	}
}
