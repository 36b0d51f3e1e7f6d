package oscillation

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ebmflow/ebmflow/internal/rpc"
	"github.com/ebmflow/ebmflow/sdk"
)

// newConfig builds a config from attribute values (marshalled to JSON).
// newConfig builds the stage's configuration as the SDK's server does: the
// values given, the schema's defaults for the rest.
func newConfig(t testing.TB, runDir string, vals map[string]any) *sdk.Config {
	t.Helper()
	raw := map[string]json.RawMessage{}
	for k, v := range vals {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		raw[k] = b
	}
	b, _ := json.Marshal(raw)
	cfg, diags := rpc.BuildConfig(New().Schema(), "diag", 123, runDir, b, nil)
	if diags.HasErrors() {
		t.Fatalf("build config: %v", diags.Err())
	}
	return cfg
}

// configured returns a plugin configured with vals; it fails on error diagnostics.
func configured(t testing.TB, cfg *sdk.Config) *Plugin {
	t.Helper()
	p := New()
	if _, diags := p.Configure(context.Background(), cfg); diags.HasErrors() {
		t.Fatalf("configure: %v", diags.Err())
	}
	return p
}

// records turns a d_st series into records (t from t0) with r_t = r[i] or
// 0.1 plus small noise when r is nil.
func records(t0 int, d, r []float64, seed uint64) []sdk.Record {
	rng := rand.New(rand.NewPCG(seed, 99))
	recs := make([]sdk.Record, len(d))
	for i := range d {
		rv := 0.1 + 0.005*rng.NormFloat64()
		if r != nil {
			rv = r[i]
		}
		recs[i] = sdk.Record{T: t0 + i, LR: 1e-3, DST: d[i], R: rv}
	}
	return recs
}

// iid returns n standard normal values.
func iid(n int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	return x
}

// ar1 returns x_t = phi x_{t-1} + z_t, started from its stationary law.
func ar1(n int, phi float64, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 2))
	x := make([]float64, n)
	x[0] = rng.NormFloat64() / math.Sqrt(1-phi*phi)
	for i := 1; i < n; i++ {
		x[i] = phi*x[i-1] + rng.NormFloat64()
	}
	return x
}

// observeAll feeds the records in chunks of 50, as a host batching records
// would, and gathers every metric and event.
func observeAll(t testing.TB, p *Plugin, recs []sdk.Record) (map[string][]float64, []sdk.Event) {
	t.Helper()
	metrics := map[string][]float64{}
	var events []sdk.Event
	for lo := 0; lo < len(recs); lo += 50 {
		obs, err := p.Observe(context.Background(), recs[lo:min(len(recs), lo+50)])
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range obs.Metrics {
			metrics[k] = append(metrics[k], v)
		}
		events = append(events, obs.Events...)
	}
	return metrics, events
}
