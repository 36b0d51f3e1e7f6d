package mnist

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/ebmflow/ebmflow/internal/rpc"
	"github.com/ebmflow/ebmflow/internal/rpc/rpctest"
	"github.com/ebmflow/ebmflow/sdk"
)

// TestGRPCRoundTrip drives the plugin over the real gRPC codec in-process:
// configure, describe, next, log-density and save/load give what direct
// calls on an identically configured plugin give.
func TestGRPCRoundTrip(t *testing.T) {
	ctx := context.Background()
	c := rpctest.Dial(t, New())
	attrs := map[string]any{"dataset": "rings", "data_noise": 0.05}
	shapes, diags, err := c.Configure(ctx, rpc.ConfigureArgs{Stage: "data", Seed: 3, Values: config(3, attrs).Values})
	if err != nil || diags.HasErrors() || !slices.Equal(shapes["sample"], []int{2}) {
		t.Fatalf("configure: %v %v %v", shapes, diags, err)
	}
	local := configured(t, 3, attrs)
	info, err := c.Describe(ctx)
	if want, _ := local.Describe(ctx); err != nil || !slices.Equal(info.Box, want.Box) || !info.HasDensity {
		t.Fatalf("describe %+v, %v", info, err)
	}
	for _, req := range []sdk.NextRequest{{N: 50}, {N: 5, Stream: "sampler:neg", Noise: 0, NoiseSet: true}} {
		got, err := c.Next(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if want := next(t, local, req); !slices.Equal(got.F32, want.F32) || !slices.Equal(got.Shape, want.Shape) {
			t.Fatalf("%+v: next over gRPC differs from the direct call", req)
		}
	}
	x := sdk.FromFloat64([]float64{1, 0, 0, 2.1, -3, 0.2}, 3, 2)
	got, err := c.LogDensity(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := local.LogDensity(ctx, x); !slices.Equal(got.F64, want.F64) {
		t.Fatalf("log-density over gRPC %v, direct %v", got.F64, want.F64)
	}
	st, err := c.SaveState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := local.LoadState(ctx, st); err != nil {
		t.Fatal(err)
	}
	got, _ = c.Next(ctx, sdk.NextRequest{N: 8})
	if want := next(t, local, sdk.NextRequest{N: 8}); !slices.Equal(got.F32, want.F32) {
		t.Fatal("a state saved over gRPC does not continue the stream")
	}
	// Invalid attributes come back as diagnostics with their path.
	_, diags, err = c.Configure(ctx, rpc.ConfigureArgs{Stage: "data", Values: config(3, map[string]any{"size": 30}).Values})
	if err != nil || len(diags) != 1 || !slices.Equal(diags[0].Path, []string{"size"}) {
		t.Fatalf("bad size: %v %v", diags, err)
	}
	if testing.Short() {
		return
	}
	_, diags, _ = c.Configure(ctx, rpc.ConfigureArgs{Stage: "data", Values: config(3, map[string]any{"dataset": "mnist", "subset": 3, "cache_dir": testCache}).Values})
	if diags.HasErrors() {
		t.Fatal(diags.Err())
	}
	if _, err := c.LogDensity(ctx, x); err == nil {
		t.Fatal("mnist log-density over gRPC: no error")
	} else if !errors.Is(err, sdk.ErrUnsupported) {
		t.Logf("mnist log-density over gRPC: %v (ErrUnsupported not preserved)", err)
	}
}
