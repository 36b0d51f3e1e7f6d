package oscillation

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

// The toy gmm: 8 equal Gaussians, sd 0.15, means on the unit circle at angles
// 2*pi*k/8 (reference.md), plot box [-1.6, 1.6]^2.
const gmmSD = 0.15

// gmmLogDensity is log((1/8) sum_k N(x; mu_k, sd^2 I)) by log-sum-exp,
// shifted by dx along the first axis.
func gmmLogDensity(x, y, dx float64) float64 {
	var terms [8]float64
	mx := math.Inf(-1)
	for k := range terms {
		a := 2 * math.Pi * float64(k) / 8
		ux, uy := x-dx-math.Cos(a), y-math.Sin(a)
		terms[k] = -(ux*ux + uy*uy) / (2 * gmmSD * gmmSD)
		mx = math.Max(mx, terms[k])
	}
	var s float64
	for _, v := range terms {
		s += math.Exp(v - mx)
	}
	return mx + math.Log(s/8) - math.Log(2*math.Pi*gmmSD*gmmSD)
}

// gmmData is an in-process data stage for the gmm.
type gmmData struct{ streams map[string]*sdk.Stream }

func (g *gmmData) Describe(context.Context) (sdk.DataInfo, error) {
	return sdk.DataInfo{Shape: []int{2}, HasDensity: true, Box: [][2]float64{{-1.6, 1.6}, {-1.6, 1.6}}}, nil
}

func (g *gmmData) Next(_ context.Context, req sdk.NextRequest) (*sdk.Tensor, error) {
	s, ok := g.streams[req.Stream]
	if !ok {
		s = sdk.NewStream(7, req.Stream)
		g.streams[req.Stream] = s
	}
	return gmmDraws(s, req.N, 0), nil
}

func (g *gmmData) LogDensity(_ context.Context, x *sdk.Tensor) (*sdk.Tensor, error) {
	out := sdk.NewTensor(sdk.Float32, x.Batch())
	for i := range out.F32 {
		out.F32[i] = float32(gmmLogDensity(x.At(2*i), x.At(2*i+1), 0))
	}
	return out, nil
}

func gmmDraws(s *sdk.Stream, n int, dx float64) *sdk.Tensor {
	x := sdk.NewTensor(sdk.Float32, n, 2)
	for i := 0; i < n; i++ {
		a := 2 * math.Pi * float64(s.IntN(8)) / 8
		x.F32[2*i] = float32(math.Cos(a) + dx + gmmSD*s.NormFloat64())
		x.F32[2*i+1] = float32(math.Sin(a) + gmmSD*s.NormFloat64())
	}
	return x
}

// gmmEnergy is an in-process energy stage F(x) = (eps^2/2) * (-log p(x - dx)):
// with dx = 0 its density exp(-F*2/eps^2) is exactly the gmm.
type gmmEnergy struct{ eps, dx float64 }

func (e gmmEnergy) Energy(_ context.Context, x *sdk.Tensor) (*sdk.Tensor, error) {
	if err := x.Expect(sdk.Float32, -1, 2); err != nil {
		return nil, err
	}
	out := sdk.NewTensor(sdk.Float32, x.Batch())
	for i := range out.F32 {
		out.F32[i] = float32(-e.eps * e.eps / 2 * gmmLogDensity(x.At(2*i), x.At(2*i+1), e.dx))
	}
	return out, nil
}

func (e gmmEnergy) Grad(context.Context, *sdk.Tensor) (*sdk.Tensor, *sdk.Tensor, error) {
	return nil, nil, sdk.ErrUnsupported // the diagnostics never ask for dF/dx
}

func densityPlugin(t *testing.T, dir string, dx float64) *Plugin {
	t.Helper()
	const eps = 0.125
	cfg := newConfig(t, dir, map[string]any{"energy": "ebm", "data": "toy", "epsilon": eps, "density_every": 1000})
	cfg.SetLink("energy", gmmEnergy{eps: eps, dx: dx})
	cfg.SetLink("data", &gmmData{streams: map[string]*sdk.Stream{}})
	return configured(t, cfg)
}

func TestDensityTV(t *testing.T) {
	ctx := context.Background()
	exact := densityPlugin(t, "", 0)
	obs, err := exact.Observe(ctx, records(1000, []float64{0.1}, nil, 1))
	if err != nil {
		t.Fatal(err)
	}
	// F = (eps^2/2)(-log p) makes q proportional to p on the grid; only the
	// float32 rounding of F (relative 6e-8, so |dU| < 1e-4) remains.
	if v, ok := obs.Metrics["tv_ebm"]; !ok || v > 1e-4 {
		t.Errorf("exact model: tv_ebm = %v (present %v), want < 1e-4", v, ok)
	}
	// 10^4 exact draws on 2500 cells: sampling noise only, a few tenths at most.
	floor := obs.Metrics["tv_floor"]
	t.Logf("exact model: tv_ebm %.3g, tv_floor %.4f", obs.Metrics["tv_ebm"], floor)
	if floor <= 0.02 || floor > 0.3 {
		t.Errorf("tv_floor = %v, want in (0.02, 0.3]", floor)
	}
	if _, ok := obs.Metrics["tv_samples"]; ok {
		t.Error("tv_samples reported without samples")
	}
	// A model shifted by 0.3 (two sd) puts most mass where the truth has little.
	shifted := densityPlugin(t, "", 0.3)
	obs, err = shifted.Observe(ctx, records(1000, []float64{0.1}, nil, 1))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("shifted model: tv_ebm %.4f", obs.Metrics["tv_ebm"])
	if v := obs.Metrics["tv_ebm"]; v < 0.5 {
		t.Errorf("shifted model: tv_ebm = %v, want > 0.5", v)
	}
	// Samples handed over: exact draws score near the floor, shifted draws far.
	s := sdk.NewStream(1, "test-samples")
	if err := exact.SetSamples(gmmDraws(s, FloorDraws, 0)); err != nil {
		t.Fatal(err)
	}
	obs, _ = exact.Observe(ctx, records(2000, []float64{0.1}, nil, 1))
	t.Logf("exact samples: tv_samples %.4f", obs.Metrics["tv_samples"])
	if v := obs.Metrics["tv_samples"]; math.Abs(v-floor) > 0.05 {
		t.Errorf("exact samples: tv_samples = %v, floor %v", v, floor)
	}
	if err := exact.SetSamples(gmmDraws(s, FloorDraws, 0.3)); err != nil {
		t.Fatal(err)
	}
	obs, _ = exact.Observe(ctx, records(3000, []float64{0.1}, nil, 1))
	t.Logf("shifted samples: tv_samples %.4f", obs.Metrics["tv_samples"])
	if v := obs.Metrics["tv_samples"]; v < floor+0.3 {
		t.Errorf("shifted samples: tv_samples = %v, floor %v", v, floor)
	}
}

func TestDensityReport(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if d := os.Getenv("OSC_FIGURE_DIR"); d != "" {
		dir = d // keep the figures for a look
	}
	p := densityPlugin(t, dir, 0)
	if err := p.SetSamples(gmmDraws(sdk.NewStream(2, "s"), 2000, 0)); err != nil {
		t.Fatal(err)
	}
	observeAll(t, p, records(1, iid(1000, 31), nil, 2))
	rep, err := p.Report(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Files) != 3 {
		t.Fatalf("files %v, want 3", rep.Files)
	}
	decodePNG(t, filepath.Join(dir, DensityFile), 3*DensityPanel+densityBar, 2*DensityPanel+70)
	decodePNG(t, filepath.Join(dir, FigureFile), FigureWidth, FigureHeight)

	// The floor and samples survive a save/load round trip.
	st, err := p.SaveState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	q := densityPlugin(t, "", 0)
	if err := q.LoadState(ctx, st); err != nil {
		t.Fatal(err)
	}
	if !q.dens.hasFloor || q.dens.floor != p.dens.floor || q.dens.samples.Batch() != 2000 || !q.dens.has || q.dens.last.TVEBM != p.dens.last.TVEBM {
		t.Errorf("loaded floor %v (%v), samples %v", q.dens.floor, q.dens.hasFloor, q.dens.samples.Shape)
	}
}
