package oscillation

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

// gmmSampler is an in-process sampler stage whose "short-run samples" are
// exact gmm draws shifted by dx along the first axis; with cols != 0 it
// returns a tensor of shape [N, cols] instead. It records the requests.
type gmmSampler struct {
	s    *sdk.Stream
	dx   float64
	cols int
	reqs []sdk.SampleRequest
}

func (g *gmmSampler) Sample(_ context.Context, req sdk.SampleRequest) (*sdk.SampleResult, error) {
	g.reqs = append(g.reqs, req)
	if g.cols != 0 {
		return &sdk.SampleResult{X: sdk.NewTensor(sdk.Float32, req.N, g.cols), AcceptRate: -1}, nil
	}
	return &sdk.SampleResult{X: gmmDraws(g.s, req.N, g.dx), AcceptRate: -1}, nil
}

var _ sdk.SamplerLink = (*gmmSampler)(nil)

// samplerPlugin is densityPlugin (exact model) with the sampler attribute
// set and linked to s.
func samplerPlugin(t *testing.T, dir string, s sdk.SamplerLink) *Plugin {
	t.Helper()
	const eps = 0.125
	cfg := newConfig(t, dir, map[string]any{"energy": "ebm", "data": "toy", "sampler": "langevin",
		"epsilon": eps, "density_every": 1000})
	cfg.SetLink("energy", gmmEnergy{eps: eps, dx: 0})
	cfg.SetLink("data", &gmmData{streams: map[string]*sdk.Stream{}})
	cfg.SetLink("sampler", s)
	return configured(t, cfg)
}

func TestSamplerLinkTV(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	exact := &gmmSampler{s: sdk.NewStream(3, "exact")}
	p := samplerPlugin(t, dir, exact)
	obs, err := p.Observe(ctx, records(1000, []float64{0.1}, nil, 1))
	if err != nil {
		t.Fatal(err)
	}
	floor, ok := obs.Metrics["tv_floor"]
	if !ok {
		t.Fatalf("no tv_floor in %v (events %v)", obs.Metrics, obs.Events)
	}
	want := sdk.SampleRequest{N: ShortRunDraws, LeaveBank: true, T: 1000, Stream: "diag:diag"}
	if len(exact.reqs) != 1 || exact.reqs[0] != want {
		t.Errorf("requests %+v, want one %+v", exact.reqs, want)
	}
	// Exact draws through the link: the same law as the floor's draws, so
	// the same sampling noise; 0.05 is several times the spread of TV over
	// seeds at n = 10^4 on 2500 cells (TestDensityTV uses the same bound).
	got, ok := obs.Metrics["tv_samples"]
	t.Logf("exact sampler: tv_samples %.4f, tv_floor %.4f", got, floor)
	if !ok || got < floor-0.05 || got > floor+0.05 {
		t.Errorf("exact sampler: tv_samples = %v (present %v), floor %v", got, ok, floor)
	}

	// Report reuses that evaluation: no second draw, the same numbers.
	rep, err := p.Report(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(exact.reqs); n != 1 {
		t.Errorf("after report: requests %+v, want the one of Observe", exact.reqs)
	}
	var doc ReportDoc
	if err := json.Unmarshal(rep.Summary, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Density == nil || !doc.Density.HasSamples || doc.Density.TVSamples != got || doc.Density.TVFloor != floor ||
		doc.Metrics["tv_samples"] != got || doc.Density.SamplesError != "" {
		t.Errorf("report density %+v, metrics %v; observed tv_samples %v, tv_floor %v", doc.Density, doc.Metrics, got, floor)
	}
	decodePNG(t, filepath.Join(dir, DensityFile), 3*DensityPanel+densityBar, 2*DensityPanel+70)

	// Draws shifted by 0.3 (two sd of a component) land mostly where the
	// truth has little mass: TV_ebm of the same shift is above 0.5, the
	// histogram TV clearly above the floor.
	shifted := &gmmSampler{s: sdk.NewStream(4, "shifted"), dx: 0.3}
	q := samplerPlugin(t, "", shifted)
	obs, err = q.Observe(ctx, records(1000, []float64{0.1}, nil, 1))
	if err != nil {
		t.Fatal(err)
	}
	got = obs.Metrics["tv_samples"]
	t.Logf("shifted sampler: tv_samples %.4f, tv_floor %.4f", got, obs.Metrics["tv_floor"])
	if got < obs.Metrics["tv_floor"]+0.3 {
		t.Errorf("shifted sampler: tv_samples = %v, floor %v", got, obs.Metrics["tv_floor"])
	}
	if v := obs.Metrics["tv_ebm"]; v > 1e-4 {
		t.Errorf("shifted sampler: tv_ebm = %v, want < 1e-4 (the energy is exact)", v)
	}
}

func TestSamplerLinkShape(t *testing.T) {
	ctx := context.Background()
	p := samplerPlugin(t, "", &gmmSampler{cols: 3})
	// Samples handed over before are replaced, not kept stale.
	if err := p.SetSamples(gmmDraws(sdk.NewStream(5, "s"), 100, 0)); err != nil {
		t.Fatal(err)
	}
	obs, err := p.Observe(ctx, records(1000, []float64{0.1}, nil, 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := obs.Metrics["tv_samples"]; ok {
		t.Error("tv_samples reported for wrong-shaped samples")
	}
	if _, ok := obs.Metrics["tv_ebm"]; !ok {
		t.Error("tv_ebm missing when only the sampler fails")
	}
	var msg string
	for _, e := range obs.Events {
		if strings.Contains(e.Message, `attribute "sampler"`) {
			msg = e.Message
			if e.Level != "warn" {
				t.Errorf("event level %q, want warn", e.Level)
			}
		}
	}
	t.Logf("event: %s", msg)
	if !strings.Contains(msg, "[10000 3]") {
		t.Errorf("no event naming the sampler attribute and the shape in %+v", obs.Events)
	}
	rep, err := p.Report(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	var doc ReportDoc
	if err := json.Unmarshal(rep.Summary, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Density == nil || doc.Density.HasSamples || !strings.Contains(doc.Density.SamplesError, `attribute "sampler"`) {
		t.Errorf("report density %+v", doc.Density)
	}
}

func TestSamplerConfigure(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		vals   map[string]any
		runDir string
		err    bool // an error (else a warning) on attribute sampler
	}{
		{"without energy and data", map[string]any{"sampler": "langevin"}, "", false},
		{"not linked while validating", map[string]any{"energy": "ebm", "data": "toy", "sampler": "langevin", "epsilon": 0.1}, "", false},
		{"not linked in a run", map[string]any{"energy": "ebm", "data": "toy", "sampler": "langevin", "epsilon": 0.1}, t.TempDir(), true},
	} {
		cfg := newConfig(t, c.runDir, c.vals)
		if _, ok := c.vals["energy"]; ok {
			cfg.SetLink("energy", gmmEnergy{eps: 0.1})
			cfg.SetLink("data", &gmmData{streams: map[string]*sdk.Stream{}})
		}
		_, diags := New().Configure(ctx, cfg)
		var found bool
		for _, d := range diags {
			if len(d.Path) == 1 && d.Path[0] == "sampler" {
				found = true
				if isErr := d.Severity == sdk.SeverityError; isErr != c.err {
					t.Errorf("%s: %+v, want error %v", c.name, d, c.err)
				}
			}
		}
		if !found || diags.HasErrors() != c.err {
			t.Errorf("%s: diagnostics %+v", c.name, diags)
		}
	}
}

// TestBankTooSmallCaughtAtConfigure: a persistent sampler declaring a bank
// smaller than one evaluation's draw is an error on the sampler attribute
// at Configure (so at validation), unless samples_init starts the
// evaluation's chains elsewhere.
func TestBankTooSmallCaughtAtConfigure(t *testing.T) {
	for _, c := range []struct {
		bank int
		init string
		bad  bool
	}{{1000, "", true}, {1000, "persistent", true}, {1000, "uniform", false}, {ShortRunDraws, "", false}} {
		vals := map[string]any{"energy": "ebm", "data": "toy", "sampler": "s", "epsilon": 0.125}
		if c.init != "" {
			vals["samples_init"] = c.init
		}
		cfg := newConfig(t, "", vals)
		cfg.Upstream = map[string]sdk.Shapes{"sampler": {"sample": {2}, "bank": {c.bank, 2}}}
		cfg.SetLink("energy", gmmEnergy{eps: 0.125})
		cfg.SetLink("data", &gmmData{streams: map[string]*sdk.Stream{}})
		cfg.SetLink("sampler", &gmmSampler{s: sdk.NewStream(1, "x")})
		_, diags := New().Configure(context.Background(), cfg)
		found := false
		for _, d := range diags {
			found = found || (d.Severity == sdk.SeverityError && len(d.Path) == 1 && d.Path[0] == attrSampler && strings.Contains(d.Detail, "bank_size"))
		}
		if found != c.bad {
			t.Errorf("bank %d, samples_init %q: error %v, want %v (%v)", c.bank, c.init, found, c.bad, diags)
		}
	}
}

// TestDeclaredDraws checks that the draws the stage declares at Configure
// are the Sample calls it makes: ShortRunDraws chains at every iteration
// divisible by density_every, none without a sampler.
func TestDeclaredDraws(t *testing.T) {
	const eps = 0.125
	s := &gmmSampler{s: sdk.NewStream(3, "exact")}
	cfg := newConfig(t, "", map[string]any{"energy": "ebm", "data": "toy", "sampler": "langevin", "epsilon": eps, "density_every": 20})
	cfg.SetLink("energy", gmmEnergy{eps: eps})
	cfg.SetLink("data", &gmmData{streams: map[string]*sdk.Stream{}})
	cfg.SetLink("sampler", s)
	p := configured(t, cfg)
	c := cfg.DeclaredCost()
	want := sdk.Draw{Link: "sampler", Rows: ShortRunDraws, Every: 20}
	if c == nil || len(c.Draws) != 1 || c.Draws[0] != want || c.GradsPerRow != 0 {
		t.Fatalf("declared %+v, want one draw %+v", c, want)
	}
	// Iterations 1..50: draws at 20 and 40.
	if _, err := p.Observe(context.Background(), records(1, make([]float64, 50), nil, 1)); err != nil {
		t.Fatal(err)
	}
	rows := 0
	for _, r := range s.reqs {
		rows += r.N
	}
	if len(s.reqs) != 2 || rows != 2*want.Rows {
		t.Errorf("%d Sample calls of %d chains in all, want 2 of %d", len(s.reqs), rows, want.Rows)
	}
	cfg = newConfig(t, "", map[string]any{"energy": "ebm", "data": "toy", "epsilon": eps})
	cfg.SetLink("energy", gmmEnergy{eps: eps})
	cfg.SetLink("data", &gmmData{streams: map[string]*sdk.Stream{}})
	configured(t, cfg)
	if c := cfg.DeclaredCost(); c != nil {
		t.Errorf("without a sampler: declared %+v", c)
	}
}
