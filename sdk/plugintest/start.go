package plugintest

import (
	"context"
	"testing"

	"github.com/ebmflow/ebmflow/core/host"
	"github.com/ebmflow/ebmflow/sdk"
)

// Started is a plugin process configured by Start, with its linked stages
// running behind it. Its embedded *host.Process makes the kind's calls.
type Started struct {
	*host.Process
	// Shapes are the shapes Configure declared.
	Shapes sdk.Shapes
	// Diagnostics are Configure's warnings.
	Diagnostics sdk.Diagnostics
	// RunDir is the stage's run folder, a temporary folder.
	RunDir string
}

// Start builds the suite's plugin and links, starts them through the host
// and configures them with s.Config and s.Seed, for tests of an author's own
// (a sampler's statistics, say) over a real process. The processes are shut
// down when the test ends; the test fails if the plugin gives an error
// diagnostic, wrote to stdout or did not shut down cleanly.
func Start(t testing.TB, s Suite) *Started {
	t.Helper()
	e, err := newEnv(t, s)
	if err != nil {
		t.Fatal(err)
	}
	st, err := e.startGood(context.Background(), t)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.close(); err != nil {
			t.Error(err)
		}
	})
	return &Started{Process: st.p, Shapes: st.shapes, Diagnostics: st.diags, RunDir: st.runDir}
}
