package oscillation

import (
	"context"
	"encoding/json"
	"github.com/ebmflow/ebmflow/internal/rpc"
	"math"
	"strings"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

func classOf(t *testing.T, d []float64) (Class, *Plugin, map[string][]float64, []sdk.Event) {
	t.Helper()
	p := configured(t, newConfig(t, "", nil))
	m, ev := observeAll(t, p, records(1, d, nil, 5))
	return p.class, p, m, ev
}

func TestClassWeakIID(t *testing.T) {
	c, p, m, _ := classOf(t, iid(2000, 11))
	if c != Weak {
		s := computeStats(p.hist.tail(2000), p.opts, &p.sc)
		t.Fatalf("i.i.d. N(0,1): class %v, want weak (%s)", c, s.Reason)
	}
	// osc_class is reported only when it changes: not_stationary at t=100,
	// weak once min_records = 500 are in, then nothing more.
	if got := m["osc_class"]; len(got) != 2 || got[0] != float64(NotStationary) || got[1] != float64(Weak) {
		t.Errorf("osc_class metrics %v, want [0 1]", got)
	}
}

func TestClassStrongAR1(t *testing.T) {
	c, _, _, ev := classOf(t, ar1(2000, -0.6, 12))
	if c != Strong {
		t.Fatalf("AR(1) phi = -0.6: class %v, want strong", c)
	}
	found := false
	for _, e := range ev {
		found = found || strings.Contains(e.Message, "class not_stationary -> strong")
	}
	if !found {
		t.Errorf("no class-change event to strong in %v", ev)
	}
}

func TestClassCollapse(t *testing.T) {
	// d_st = -0.01 t + N(0,1): the line falls by 20 sd over 2000 records.
	d := iid(2000, 13)
	for i := range d {
		d[i] -= 0.01 * float64(i)
	}
	c, _, _, ev := classOf(t, d)
	if c != Collapse {
		t.Fatalf("drifting d_st: class %v, want collapse", c)
	}
	var got *sdk.Event
	for i := range ev {
		if strings.HasPrefix(ev[i].Message, "collapse suspected") {
			got = &ev[i]
			break
		}
	}
	if got == nil || got.Level != "error" {
		t.Fatalf("no collapse error event in %v", ev)
	}
	// The collapse is announced at a refresh once min_records = 200 are in
	// the window after the burn-in.
	if got.T < 300 || got.T > 500 {
		t.Errorf("collapse event at t=%d, want 300..500", got.T)
	}
}

func TestClassNotStationary(t *testing.T) {
	if c, _, _, _ := classOf(t, iid(200, 14)); c != NotStationary {
		t.Errorf("200 records (180 after the burn-in): class %v, want not_stationary", c)
	}
	d := iid(2000, 15)
	for i := range d {
		d[i] += 0.01 * float64(i) // an upward trend is no collapse
	}
	if c, _, _, _ := classOf(t, d); c != NotStationary {
		t.Errorf("upward trend: class %v, want not_stationary", c)
	}
}

func TestClassUnclassified(t *testing.T) {
	// Positive sign memory (AR(1) with phi = +0.6) is neither weak nor strong.
	if c, _, _, _ := classOf(t, ar1(2000, 0.6, 16)); c != Unclassified {
		t.Errorf("AR(1) phi = +0.6: class %v, want unclassified", c)
	}
}

func TestRBandEvents(t *testing.T) {
	p := configured(t, newConfig(t, "", map[string]any{"every": 50, "r_band": []float64{0.08, 0.15}}))
	d := iid(300, 17)
	r := make([]float64, 300)
	for i := range r {
		r[i] = 0.1
		if i >= 150 {
			r[i] = 0.3 // leaves the band [0.08, 0.15] from t = 151
		}
	}
	m, ev := observeAll(t, p, records(1, d, r, 1))
	var msgs []string
	for _, e := range ev {
		if strings.Contains(e.Message, "r_t left its band") {
			msgs = append(msgs, e.Message)
			if e.T != 200 || e.Level != "warn" {
				t.Errorf("r_t event at t=%d level %s, want t=200 warn", e.T, e.Level)
			}
		}
	}
	if len(msgs) != 1 {
		t.Errorf("r_t band events %v, want one", msgs)
	}
	if got := m["r_band_state"]; len(got) != 2 || got[0] != 0 || got[1] != 1 {
		t.Errorf("r_band_state metrics %v, want [0 1]", got)
	}
}

func TestNonFiniteAndOrder(t *testing.T) {
	p := configured(t, newConfig(t, "", nil))
	ctx := context.Background()
	obs, err := p.Observe(ctx, []sdk.Record{{T: 1, DST: 0.5, R: 0.1}, {T: 2, DST: math.Inf(-1), R: 0.1}})
	if err != nil {
		t.Fatal(err)
	}
	if len(obs.Events) != 1 || obs.Events[0].Level != "error" || p.hist.len() != 1 || p.nonFinite != 1 {
		t.Errorf("non-finite record: events %v, kept %d, non-finite %d", obs.Events, p.hist.len(), p.nonFinite)
	}
	if _, err := p.Observe(ctx, []sdk.Record{{T: 2, DST: 0, R: 0.1}}); err == nil {
		t.Error("repeated t accepted")
	}
}

func TestConfigureDiagnostics(t *testing.T) {
	cases := []struct {
		vals map[string]any
		path string
	}{
		{map[string]any{"window": 5}, "window"},
		{map[string]any{"window": 100.5}, "window"},
		{map[string]any{"max_lag": 2000}, "max_lag"},
		{map[string]any{"every": 0}, "every"},
		{map[string]any{"r_band": []float64{0.2, 0.1}}, "r_band"},
		{map[string]any{"r_band": []float64{0.1}}, "r_band"},
		{map[string]any{"r_band": "wide"}, "r_band"},
		{map[string]any{"min_records": 3000}, "min_records"},
		{map[string]any{"trend_limit": -1}, "trend_limit"},
		{map[string]any{"class_z": "x"}, "class_z"},
		{map[string]any{"energy": "ebm"}, "data"},
		{map[string]any{"data": "toy"}, "energy"},
		{map[string]any{"energy": "ebm", "data": "toy"}, "epsilon"},
		{map[string]any{"energy": "ebm", "data": "toy", "epsilon": 0}, "epsilon"},
		{map[string]any{"density_every": -3}, "density_every"},
	}
	for _, c := range cases {
		b, _ := json.Marshal(c.vals)
		// Values outside the schema's bounds stop at the SDK's guard (the
		// host refuses them before); the rest reach Configure's checks.
		cfg, diags := rpc.BuildConfig(New().Schema(), "diag", 123, "", b, nil)
		if !diags.HasErrors() {
			_, diags = New().Configure(context.Background(), cfg)
		}
		if !diags.HasErrors() {
			t.Errorf("%s: no error", b)
			continue
		}
		found := false
		for _, d := range diags {
			found = found || (len(d.Path) == 1 && d.Path[0] == c.path && d.Severity == sdk.SeverityError)
		}
		if !found {
			t.Errorf("%s: no error on path %q in %v", b, c.path, diags)
		}
	}
	// A run (RunDir set) with energy and data but no linked stages is an error.
	_, diags := New().Configure(context.Background(), newConfig(t, t.TempDir(),
		map[string]any{"energy": "ebm", "data": "toy", "epsilon": 0.125}))
	if !diags.HasErrors() {
		t.Error("missing links accepted in a run")
	}
	// Defaults pass; the schema lists every attribute Configure reads.
	if _, diags := New().Configure(context.Background(), newConfig(t, "", nil)); diags.HasErrors() {
		t.Errorf("defaults: %v", diags.Err())
	}
	s := New().Schema()
	for _, name := range []string{attrWindow, attrMaxLag, attrEvery, attrRBand, attrMinRecords, attrTrendLimit,
		attrClassZ, attrEnergy, attrData, attrEpsilon, attrDensityEvery} {
		if a, ok := s.Lookup(name); !ok || a.Doc == "" {
			t.Errorf("schema: attribute %q missing or undocumented", name)
		}
	}
}

// convergent imitates a healthy convergent toy run: an outlier at t = 1, a
// transient climbing from -0.34 to 0 over the first 200 iterations, then
// white noise of sd 0.2 around a slightly negative mean.
func convergent(n int, seed uint64) []float64 {
	d := iid(n, seed)
	for i := range d {
		d[i] = 0.2*d[i] - 0.01
		if i < 200 {
			d[i] -= 0.34 * float64(200-i) / 200
		}
	}
	d[0] = -50
	return d
}

func TestClassHealthyNotFlagged(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		for _, n := range []int{500, 2000} {
			c, p, _, ev := classOf(t, convergent(n, 40+seed))
			s := statsOf(p.hist, p.opts, &p.sc)
			if c == Collapse {
				t.Errorf("seed %d, t = %d: collapse (%s)", seed, n, s.Reason)
			}
			for _, e := range ev {
				if strings.Contains(e.Message, "collapse") {
					t.Errorf("seed %d, t = %d: event %q", seed, n, e.Message)
				}
			}
			if n == 2000 && c != Weak {
				t.Errorf("seed %d, t = 2000: class %v, want weak (%s)", seed, c, s.Reason)
			}
			if s.BurnIn < n/10 {
				t.Errorf("seed %d: burn-in %d, want at least 10%% of %d", seed, s.BurnIn, n)
			}
		}
	}
}

func TestClassNegativeMeanIsNoCollapse(t *testing.T) {
	// d_st below 0 by more than its sd, but not falling: the old rule
	// (mean < -sd) called this a collapse.
	d := iid(2000, 18)
	for i := range d {
		d[i] = 0.2*d[i] - 0.3
	}
	if c, p, _, _ := classOf(t, d); c == Collapse {
		t.Errorf("stationary negative d_st: collapse (%s)", statsOf(p.hist, p.opts, &p.sc).Reason)
	}
}

func TestClassGrowingMagnitudeCollapse(t *testing.T) {
	// |d_st| grows five-fold, d_st negative: the fall is in the spread as
	// much as in the mean.
	z := iid(2000, 19)
	d := make([]float64, len(z))
	for i := range d {
		d[i] = -(1 + 4*float64(i)/2000) * (0.5 + math.Abs(z[i]))
	}
	c, p, _, _ := classOf(t, d)
	if c != Collapse {
		t.Errorf("growing |d_st|: class %v, want collapse (%s)", c, statsOf(p.hist, p.opts, &p.sc).Reason)
	}
}

func TestOutlierAtStartIsBurnedIn(t *testing.T) {
	a := iid(1000, 20)
	b := append([]float64(nil), a...)
	b[0] = -1e5
	ca, pa, _, _ := classOf(t, a)
	cb, pb, _, _ := classOf(t, b)
	sa, sb := statsOf(pa.hist, pa.opts, &pa.sc), statsOf(pb.hist, pb.opts, &pb.sc)
	if ca != cb || sa.ACFDST[1] != sb.ACFDST[1] {
		t.Errorf("one outlier at t = 1 changed the verdict: %v (acf1 %.3f) vs %v (acf1 %.3f)", ca, sa.ACFDST[1], cb, sb.ACFDST[1])
	}
}

func TestNoRBandWithoutEpsilon(t *testing.T) {
	p := configured(t, newConfig(t, "", map[string]any{"every": 50}))
	r := make([]float64, 300)
	for i := range r {
		r[i] = 3 // far outside the paper's band
	}
	m, ev := observeAll(t, p, records(1, iid(300, 21), r, 1))
	for _, e := range ev {
		if strings.Contains(e.Message, "band") {
			t.Errorf("r_t event without a band: %q", e.Message)
		}
	}
	if len(m["r_band_state"]) != 0 {
		t.Errorf("r_band_state %v without a band", m["r_band_state"])
	}
	q := configured(t, newConfig(t, "", map[string]any{"epsilon": PaperEpsilon}))
	if q.opts.RBandSource != "paper" || q.opts.RBand != DefaultRBand {
		t.Errorf("epsilon 0.015: band %v from %q, want the paper's", q.opts.RBand, q.opts.RBandSource)
	}
}

func TestClassLevel(t *testing.T) {
	for _, c := range []struct {
		from, to Class
		first    bool
		want     string
	}{
		{NotStationary, Unclassified, false, "info"}, // the first verdict after warm-up is no alarm
		{Weak, Unclassified, false, "warn"},
		{Strong, NotStationary, false, "warn"},
		{Unclassified, Collapse, false, "error"},
		{NotStationary, Collapse, true, "error"},
		{NotStationary, Weak, false, "info"},
	} {
		if got := classLevel(c.from, c.to, c.first); got != c.want {
			t.Errorf("%v -> %v (first %v): %q, want %q", c.from, c.to, c.first, got, c.want)
		}
	}
}
