package plugintest

import (
	"context"
	"testing"

	"github.com/ebmflow/ebmflow/core/host"
	"github.com/ebmflow/ebmflow/sdk"
)

// Started is a plugin process configured by Start, with its linked stages
// running behind it. Its methods make the calls of the plugin's kind over
// the real process boundary, with the sdk's types; a call the plugin's kind
// does not serve returns an error.
type Started struct {
	// Shapes are the shapes Configure declared.
	Shapes sdk.Shapes
	// Warnings are the problems Configure reported as warnings.
	Warnings sdk.Problems
	// RunDir is the stage's run folder, a temporary folder.
	RunDir string

	p *host.Process
}

// Start builds the suite's plugin and links, starts them through the host
// and configures them with s.Config and s.Seed, for tests of an author's own
// (a sampler's statistics, say) over a real process. The processes are shut
// down when the test ends; the test fails if the plugin reports an error
// problem, wrote to stdout or did not shut down cleanly.
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
	return &Started{p: st.p, Shapes: st.shapes, Warnings: st.diags, RunDir: st.runDir}
}

// The calls every Started plugin satisfies, whatever its kind, checked at
// compile time.
var (
	_ sdk.EnergyLink  = (*Started)(nil)
	_ sdk.SamplerLink = (*Started)(nil)
	_ sdk.DataLink    = (*Started)(nil)
)

// Info asks the running plugin for its Info.
func (s *Started) Info(ctx context.Context) (sdk.Info, error) { return s.p.Client.Info(ctx) }

// Energy calls an energy plugin's Energy: F(x), shape [n].
func (s *Started) Energy(ctx context.Context, x *sdk.Tensor) (*sdk.Tensor, error) {
	return s.p.Energy(ctx, x)
}

// Grad calls an energy plugin's Grad: F(x) and dF/dx.
func (s *Started) Grad(ctx context.Context, x *sdk.Tensor) (f, dfdx *sdk.Tensor, err error) {
	return s.p.Grad(ctx, x)
}

// Update calls an energy plugin's Update: one learning step.
func (s *Started) Update(ctx context.Context, req sdk.UpdateRequest) (sdk.UpdateResult, error) {
	return s.p.Update(ctx, req)
}

// Sample calls a sampler plugin's Sample.
func (s *Started) Sample(ctx context.Context, req sdk.SampleRequest) (*sdk.SampleResult, error) {
	return s.p.Sample(ctx, req)
}

// Describe calls a data plugin's Describe.
func (s *Started) Describe(ctx context.Context) (sdk.DataInfo, error) { return s.p.Describe(ctx) }

// Next calls a data plugin's Next: a batch of positives.
func (s *Started) Next(ctx context.Context, req sdk.NextRequest) (*sdk.Tensor, error) {
	return s.p.Next(ctx, req)
}

// LogDensity calls a data plugin's LogDensity.
func (s *Started) LogDensity(ctx context.Context, x *sdk.Tensor) (*sdk.Tensor, error) {
	return s.p.LogDensity(ctx, x)
}

// Observe calls a diagnostics plugin's Observe.
func (s *Started) Observe(ctx context.Context, recs []sdk.Record) (*sdk.Observation, error) {
	return s.p.Observe(ctx, recs)
}

// Report calls a diagnostics plugin's Report.
func (s *Started) Report(ctx context.Context, final bool) (*sdk.Report, error) {
	return s.p.Report(ctx, final)
}

// SaveState asks the plugin for its state.
func (s *Started) SaveState(ctx context.Context) (*sdk.State, error) { return s.p.SaveState(ctx) }

// LoadState hands the plugin a state to continue from.
func (s *Started) LoadState(ctx context.Context, st *sdk.State) error { return s.p.LoadState(ctx, st) }

// Stderr returns the last lines the plugin wrote to stderr, for a failing
// test's message.
func (s *Started) Stderr() []string { return s.p.Stderr() }
