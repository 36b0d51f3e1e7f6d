package oscillation

import (
	"context"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/ebmflow/ebmflow/internal/rpc"
	"github.com/ebmflow/ebmflow/internal/testplugins"
	"github.com/ebmflow/ebmflow/plugins/data-mnist/mnist"
	"github.com/ebmflow/ebmflow/sdk"
)

// TestDensityWithToyData links the real data-mnist plugin (datasets gmm and
// rings) and an energy equal to its own scaled negative log-density: TV_ebm
// must be ~0 and TV_floor the sampling noise of 10^4 draws.
func TestDensityWithToyData(t *testing.T) {
	ctx := context.Background()
	for _, set := range []string{"gmm", "rings"} {
		data := mnist.New()
		dcfg, diags := rpc.BuildConfig(data.Schema(), "toy", 123, "", []byte(`{"dataset": "`+set+`"}`), nil)
		if diags.HasErrors() {
			t.Fatal(diags.Err())
		}
		dcfg.Stage = "toy"
		if _, diags := data.Configure(ctx, dcfg); diags.HasErrors() {
			t.Fatalf("%s: configure data: %v", set, diags.Err())
		}
		const eps = 0.125
		cfg := newConfig(t, "", map[string]any{"energy": "ebm", "data": "toy", "epsilon": eps})
		cfg.SetLink("energy", logDensityEnergy{data: data, eps: eps})
		cfg.SetLink("data", data)
		p := configured(t, cfg)
		obs, err := p.Observe(ctx, records(1000, []float64{0}, nil, 1))
		if err != nil {
			t.Fatal(err)
		}
		if len(obs.Events) != 0 {
			t.Fatalf("%s: events %v", set, obs.Events)
		}
		ebm, floor := obs.Metrics["tv_ebm"], obs.Metrics["tv_floor"]
		t.Logf("%s: box %v, tv_ebm %.3g, tv_floor %.4f, in-box mass %.6f", set, p.dens.last.Box, ebm, floor, p.dens.inBoxMass)
		if ebm > 1e-4 || floor < 0.02 || floor > 0.35 || math.Abs(p.dens.inBoxMass-1) > 0.01 {
			t.Errorf("%s: tv_ebm %v (want ~0), tv_floor %v (want a few tenths), in-box mass %v (want ~1)",
				set, ebm, floor, p.dens.inBoxMass)
		}
	}
}

// logDensityEnergy is F(x) = (eps^2/2) * (-log q(x)) of a data stage.
type logDensityEnergy struct {
	data sdk.DataLink
	eps  float64
}

func (e logDensityEnergy) Energy(ctx context.Context, x *sdk.Tensor) (*sdk.Tensor, error) {
	lq, err := e.data.LogDensity(ctx, x)
	if err != nil {
		return nil, err
	}
	for i := 0; i < lq.Len(); i++ {
		lq.Set(i, -e.eps*e.eps/2*lq.At(i))
	}
	return lq, nil
}

func (e logDensityEnergy) Grad(context.Context, *sdk.Tensor) (*sdk.Tensor, *sdk.Tensor, error) {
	return nil, nil, sdk.ErrUnsupported
}

// TestDensityNonSquareBox links the test data stage with per-axis scales
// (N(0, diag(1, 1/16)), box [-4, 4] x [-1, 1]) and an energy equal to its
// scaled negative log-density: the grid must follow the box on each axis,
// so the true in-box mass is ~1, TV_ebm ~0 and TV_floor sampling noise.
func TestDensityNonSquareBox(t *testing.T) {
	ctx := context.Background()
	data := testplugins.NewGaussian()
	dcfg, diags := rpc.BuildConfig(data.Schema(), "wide", 123, "", []byte(`{"scales": [1, 0.25]}`), nil)
	if diags.HasErrors() {
		t.Fatal(diags.Err())
	}
	if _, diags := data.Configure(ctx, dcfg); diags.HasErrors() {
		t.Fatalf("configure data: %v", diags.Err())
	}
	const eps = 0.125
	dir := t.TempDir()
	cfg := newConfig(t, dir, map[string]any{"energy": "ebm", "data": "wide", "epsilon": eps})
	cfg.SetLink("energy", logDensityEnergy{data: data, eps: eps})
	cfg.SetLink("data", data)
	p := configured(t, cfg)
	obs, err := p.Observe(ctx, records(1000, []float64{0}, nil, 1))
	if err != nil {
		t.Fatal(err)
	}
	if len(obs.Events) != 0 {
		t.Fatalf("events %v", obs.Events)
	}
	ebm, floor := obs.Metrics["tv_ebm"], obs.Metrics["tv_floor"]
	box := p.dens.last.Box
	t.Logf("box %v, tv_ebm %.3g, tv_floor %.4f, in-box mass %.6f", box, ebm, floor, p.dens.inBoxMass)
	if want := [][2]float64{{-4, 4}, {-1, 1}}; len(box) != 2 || box[0] != want[0] || box[1] != want[1] {
		t.Errorf("box %v, want %v", box, want)
	}
	if ebm > 1e-4 || floor < 0.02 || floor > 0.35 || math.Abs(p.dens.inBoxMass-1) > 0.01 {
		t.Errorf("tv_ebm %v (want ~0), tv_floor %v (want a few tenths), in-box mass %v (want ~1)", ebm, floor, p.dens.inBoxMass)
	}
	if _, err := p.Report(ctx, true); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, DensityFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	// The box is 4:1, drawn at the widest aspect panels take, 2:1: panels
	// of 400 x 230 pixels (a plotting area of about 340 x 170).
	if w, h := 2*DensityPanel+densityBar, 2*230+70; img.Width != w || img.Height != h {
		t.Errorf("density.png is %d x %d, want %d x %d", img.Width, img.Height, w, h)
	}
	if keep := os.Getenv("EBMFLOW_KEEP_FIGURE"); keep != "" {
		b, _ := os.ReadFile(filepath.Join(dir, DensityFile))
		os.WriteFile(keep, b, 0o644)
	}
}
