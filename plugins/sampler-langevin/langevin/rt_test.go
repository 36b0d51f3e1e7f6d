package langevin

import (
	"context"
	"math"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

// TestDriftHandComputed pins the update rule and the L-term convention of
// r_t on two chains of a 1-D quadratic energy F = x^2/4 (a = 0.5, mu = 0),
// eps = 0.1, two steps from x0 = (1, -2). The noise sequence is the sampler's
// own stream ("langevin" from the stage seed), read in the documented order:
// one N(0,1) per element per step, in index order; a Start init draws
// nothing.
func TestDriftHandComputed(t *testing.T) {
	const a, eps, seed = 0.5, 0.1, 42
	s := configured(t, config(t, seed, map[string]any{
		"epsilon": eps, "steps": 2, "dtype": "float64",
	}, []int{1}, quad(a, []float64{0}, nil), nil))
	start := sdk.FromFloat64([]float64{1, -2}, 2, 1)
	res, err := s.Sample(context.Background(), sdk.SampleRequest{Start: start, Trace: true})
	if err != nil {
		t.Fatal(err)
	}
	if start.F64[0] != 1 || start.F64[1] != -2 {
		t.Fatalf("Sample modified the Start tensor: %v", start.F64)
	}

	rng := sdk.NewStream(seed, "langevin")
	z11, z12 := rng.NormFloat64(), rng.NormFloat64()
	z21, z22 := rng.NormFloat64(), rng.NormFloat64()
	// Step 1: dF/dx(x0) = (0.5, -1), norms 0.5 and 1.
	m1 := (0.5 + 1.0) / 2
	x1 := [2]float64{1 - 0.5 + eps*z11, -2 + 1 + eps*z12}
	// Step 2: dF/dx(x1) = x1/2.
	m2 := (math.Abs(a*x1[0]) + math.Abs(a*x1[1])) / 2
	x2 := [2]float64{x1[0] - a*x1[0] + eps*z21, x1[1] - a*x1[1] + eps*z22}

	for i := range x2 {
		if d := math.Abs(res.X.F64[i] - x2[i]); d > 1e-15 {
			t.Errorf("x2[%d] = %.17g, hand-computed %.17g", i, res.X.F64[i], x2[i])
		}
	}
	wantR := (m1 + m2) / 2 // L = 2 terms
	if d := math.Abs(res.R - wantR); d > 1e-15 {
		t.Errorf("r_t = %.17g, hand-computed (L terms) %.17g", res.R, wantR)
	}
	// The appendix's L+1 convention adds the drift at x2; the case must tell
	// the two apart.
	m3 := (math.Abs(a*x2[0]) + math.Abs(a*x2[1])) / 2
	if alt := (m1 + m2 + m3) / 3; math.Abs(alt-wantR) < 1e-6 {
		t.Fatalf("case does not separate the L and L+1 conventions: %v vs %v", wantR, alt)
	}

	if len(res.Trace) != 2 {
		t.Fatalf("trace has %d steps, want 2", len(res.Trace))
	}
	wantTrace := []sdk.StepStat{
		{MeanEnergy: (a/2*1 + a/2*4) / 2, DriftNorm: m1},
		{MeanEnergy: (a/2*x1[0]*x1[0] + a/2*x1[1]*x1[1]) / 2, DriftNorm: m2},
	}
	for l, w := range wantTrace {
		g := res.Trace[l]
		if math.Abs(g.MeanEnergy-w.MeanEnergy) > 1e-15 || math.Abs(g.DriftNorm-w.DriftNorm) > 1e-15 {
			t.Errorf("trace[%d] = %+v, want %+v", l, g, w)
		}
	}
}

// TestRequestOverrides checks that N, Steps and Init in a request override
// the configuration.
func TestRequestOverrides(t *testing.T) {
	q := quad(0.5, []float64{0, 0, 0}, nil)
	s := configured(t, config(t, 1, map[string]any{
		"epsilon": 0.1, "steps": 5, "batch": 8,
	}, []int{3}, q, nil))
	ctx := context.Background()
	res, err := s.Sample(ctx, sdk.SampleRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.X.Shape; !equalShape(got, []int{8, 3}) || res.X.DType != sdk.Float32 || q.GradCalls() != 5 {
		t.Fatalf("configured run: shape %v dtype %v with %d gradient calls, want [8 3] float32 with 5", got, res.X.DType, q.GradCalls())
	}
	if res.Trace != nil {
		t.Errorf("trace returned without being asked for")
	}
	before := q.GradCalls()
	res, err = s.Sample(ctx, sdk.SampleRequest{N: 3, Steps: 2, Init: InitGaussian, Trace: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.X.Shape; !equalShape(got, []int{3, 3}) || q.GradCalls()-before != 2 || len(res.Trace) != 2 {
		t.Fatalf("override run: shape %v, %d gradient calls, trace %d, want [3 3], 2, 2", got, q.GradCalls()-before, len(res.Trace))
	}
	for _, bad := range []sdk.SampleRequest{
		{N: -1}, {Steps: -2}, {Init: "bogus"}, {Init: InitData},
		{Start: sdk.NewTensor(sdk.Float32, 2, 4)},
		{Start: sdk.NewTensor(sdk.Float32, 2, 3), N: 3},
	} {
		if _, err := s.Sample(ctx, bad); err == nil {
			t.Errorf("request %+v: no error", bad)
		}
	}
}

// TestDataInit checks that init = "data" starts the chains from the data
// stage's batch, drawn on stream "sampler:STAGE".
func TestDataInit(t *testing.T) {
	data := &fixedData{shape: []int{2}, size: 500, base: 3}
	var first *sdk.Tensor
	q := quad(0.5, []float64{0, 0}, func(call int, x, f, g *sdk.Tensor) error {
		if call == 1 {
			first = x.Clone()
		}
		return nil
	})
	s := configured(t, config(t, 1, map[string]any{
		"epsilon": 0.01, "steps": 1, "batch": 10, "init": "data",
	}, []int{2}, q, data))
	if s.p.BankSize != 500 {
		t.Errorf("default bank_size = %d, want the data size 500", s.p.BankSize)
	}
	if _, err := s.Sample(context.Background(), sdk.SampleRequest{}); err != nil {
		t.Fatal(err)
	}
	if len(data.asked) != 1 || data.asked[0] != "sampler:neg" {
		t.Fatalf("data streams asked: %v, want [sampler:neg]", data.asked)
	}
	want, _ := (&fixedData{shape: []int{2}, base: 3}).Next(context.Background(), sdk.NextRequest{N: 10, Stream: "sampler:neg"})
	for i := range want.F32 {
		if first.F32[i] != want.F32[i] {
			t.Fatalf("initial state[%d] = %v, data batch has %v", i, first.F32[i], want.F32[i])
		}
	}
}
