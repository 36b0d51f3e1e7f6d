package torchenergy_test

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
	"github.com/ebmflow/ebmflow/sdk/plugintest"
)

// tol is the relative agreement asked of F, dF/dx and the updates.
const tol = 1e-4

// pair starts energy-convnet and torch-energy with the same block and seed.
func pair(t *testing.T, cfg map[string]any) (gop, py *plugintest.Started) {
	t.Helper()
	gop = plugintest.Start(t, plugintest.Suite{Package: plugintest.Executable(builtin("energy-convnet")), Kind: sdk.KindEnergy, Config: cfg, Seed: 99})
	py = plugintest.Start(t, plugintest.Suite{Package: plugintest.Executable(entry), Kind: sdk.KindEnergy, Config: cfg, Seed: 99})
	return gop, py
}

// batch is n samples of shape in, uniform in [-1, 1), from a seeded stream.
func batch(name string, dt sdk.DType, n int, in []int) *sdk.Tensor {
	s := sdk.NewStream(7, name)
	x := sdk.NewTensor(dt, append([]int{n}, in...)...)
	for i := range x.Len() {
		x.Set(i, 2*s.Float64()-1)
	}
	return x
}

// agree checks that got matches want within tol relative to the tensor:
// max |got - want| <= tol * max |want| (float32 rounding makes single
// elements near zero differ more, relative to themselves).
func agree(t *testing.T, what string, got, want *sdk.Tensor) float64 {
	t.Helper()
	if got.Len() != want.Len() {
		t.Fatalf("%s: %d values, want %d", what, got.Len(), want.Len())
	}
	scale, diff, at := 0.0, 0.0, 0
	for i := range want.Len() {
		scale = math.Max(scale, math.Abs(want.At(i)))
		if d := math.Abs(got.At(i) - want.At(i)); d > diff || math.IsNaN(d) {
			diff, at = d, i
		}
	}
	r := diff / scale
	if !(r <= tol) {
		t.Errorf("%s: element %d is %v, energy-convnet's %v: relative difference %.2g > %g", what, at, got.At(at), want.At(at), r, tol)
	}
	return r
}

func near(a, b float64) bool { return math.Abs(a-b) <= tol*math.Abs(b)+1e-12 }

// compare checks F and dF/dx of both plugins on the same batch.
func compare(t *testing.T, label string, gop, py *plugintest.Started, x *sdk.Tensor) {
	t.Helper()
	ctx := context.Background()
	fg, gg, err := gop.Grad(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	fp, gp, err := py.Grad(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	rf := agree(t, label+" F", fp, fg)
	rg := agree(t, label+" dF/dx", gp, gg)
	fe, err := py.Energy(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	agree(t, label+" Energy", fe, fg)
	t.Logf("%s: relative difference of F %.2g, of dF/dx %.2g", label, rf, rg)
}

// TestMatchesConvnet: from the same weights (the same seed draws the same
// initial weights in both), F and dF/dx agree; SGD or Adam updates on each
// give the same d_st and gradient norm and the same new weights; and each
// plugin's state loads into the other. Adam runs in float64: it divides
// each gradient by its own size, so elements whose float32 gradients are
// rounding noise would step by lr in different directions.
func TestMatchesConvnet(t *testing.T) {
	needTorch(t)
	nets := []struct {
		name string
		cfg  map[string]any
	}{
		{"toy-sgd", map[string]any{"net": "toy", "epsilon": 0.125}},
		{"vanilla-1x28-sgd", map[string]any{"net": "vanilla", "channels": 1, "image_size": 28, "n_f": 8, "epsilon": 0.01}},
		{"vanilla-3x32-adam64", map[string]any{"net": "vanilla", "channels": 3, "image_size": 32, "n_f": 8, "epsilon": 0.01, "optimizer": "adam", "dtype": "float64"}},
		{"vanilla-1x32-adam64", map[string]any{"net": "vanilla", "channels": 1, "image_size": 32, "n_f": 8, "epsilon": 0.01, "optimizer": "adam", "dtype": "float64"}},
		{"toy-adam64", map[string]any{"net": "toy", "epsilon": 0.01, "optimizer": "adam", "dtype": "float64"}},
		{"vanilla-3x28-sgd", map[string]any{"net": "vanilla", "channels": 3, "image_size": 28, "n_f": 8, "epsilon": 0.01}},
	}
	if testing.Short() {
		nets = nets[:2]
	}
	ctx := context.Background()
	for _, tc := range nets {
		cfg := tc.cfg
		t.Run(tc.name, func(t *testing.T) {
			gop, py := pair(t, cfg)
			in := gop.Shapes["input"]
			dt := sdk.Float32
			if cfg["dtype"] == "float64" {
				dt = sdk.Float64
			}
			compare(t, "initial", gop, py, batch("x", dt, 10, in))
			for step := 1; step <= 2; step++ {
				req := sdk.UpdateRequest{Pos: batch(fmt.Sprint("pos", step), dt, 10, in), Neg: batch(fmt.Sprint("neg", step), dt, 10, in), LR: 0.01, T: step}
				ug, err := gop.Update(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				up, err := py.Update(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				if !near(up.DST, ug.DST) || !near(up.GradNorm, ug.GradNorm) || !near(up.MeanPos, ug.MeanPos) || !near(up.MeanNeg, ug.MeanNeg) {
					t.Errorf("update %d: torch-energy %+v, energy-convnet %+v", step, up, ug)
				}
			}
			compare(t, "after two updates", gop, py, batch("x2", dt, 10, in))
			// Checkpoints move both ways: energy-convnet's state into
			// torch-energy, then a fresh energy-convnet from that.
			st, err := gop.SaveState(ctx)
			if err != nil {
				t.Fatal(err)
			}
			_, py2 := pair(t, cfg)
			if err := py2.LoadState(ctx, st); err != nil {
				t.Fatalf("torch-energy refuses energy-convnet's state: %v", err)
			}
			compare(t, "convnet state in torch", gop, py2, batch("x3", dt, 10, in))
			pst, err := py2.SaveState(ctx)
			if err != nil {
				t.Fatal(err)
			}
			gop2, _ := pair(t, cfg)
			if err := gop2.LoadState(ctx, pst); err != nil {
				t.Fatalf("energy-convnet refuses torch-energy's state: %v", err)
			}
			for k, v := range st.Tensors {
				agree(t, "round trip "+k, pst.Tensors[k], v)
			}
			compare(t, "torch state in convnet", gop2, py2, batch("x4", dt, 10, in))
		})
	}
}
