package oscillation

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/ebmflow/ebmflow/internal/rpc"
	"github.com/ebmflow/ebmflow/internal/rpc/rpctest"
)

// TestGRPCRoundTrip drives the plugin over the real gRPC codec in-process:
// configure, observe, save/load and report give what direct calls give.
func TestGRPCRoundTrip(t *testing.T) {
	ctx := context.Background()
	c := rpctest.Dial(t, New())
	cfg := newConfig(t, "", map[string]any{"every": 100, "r_band": []float64{0.08, 0.15}})
	if _, diags, err := c.Configure(ctx, rpc.ConfigureArgs{Stage: "diag", Seed: 1, Values: cfg.Values}); err != nil || diags.HasErrors() {
		t.Fatalf("configure: %v %v", err, diags)
	}
	local := configured(t, cfg)
	recs := records(1, ar1(1200, -0.6, 41), nil, 6)
	for lo := 0; lo < len(recs); lo += 100 {
		want, err := local.Observe(ctx, recs[lo:lo+100])
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Observe(ctx, recs[lo:lo+100])
		if err != nil {
			t.Fatal(err)
		}
		jw, _ := json.Marshal(want)
		jg, _ := json.Marshal(got)
		if !bytes.Equal(jw, jg) {
			t.Fatalf("observation at t=%d over gRPC %s, direct %s", recs[lo].T, jg, jw)
		}
	}
	st, err := c.SaveState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.LoadState(ctx, st); err != nil {
		t.Fatal(err)
	}
	got, err := c.Report(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	want, err := local.Report(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Summary, want.Summary) {
		t.Error("report over gRPC differs from the direct report")
	}
}
