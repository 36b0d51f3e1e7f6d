package convnet

import (
	"context"
	"math"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

// TestInitialDrift checks appendix A: with PyTorch's default initialisation
// of the reference VanillaNet (n_f = 32, 1x32x32), eps = 0.015 and uniform
// noise in [-1, 1] as the initial state, the drift
//
//	r = (1/L) sum_l mean_i ||dF/dx(x_i^l)||_2
//
// over L Langevin steps x <- x - dF/dx + eps*z is about 0.01. The test accepts
// [0.002, 0.05].
func TestInitialDrift(t *testing.T) {
	const (
		n     = 100
		steps = 3
		eps   = 0.015
	)
	ctx := context.Background()
	p := configured(t, 123, attrs{"net": "vanilla", "epsilon": eps})
	rng := sdk.NewStream(123, "drift-test")
	x := sdk.NewTensor(sdk.Float32, n, 1, 32, 32)
	for i := range x.F32 {
		x.F32[i] = float32(2*rng.Float64() - 1)
	}
	per := x.Len() / n
	var r float64
	for l := 0; l < steps; l++ {
		_, g, err := p.Grad(ctx, x)
		if err != nil {
			t.Fatal(err)
		}
		var norms float64
		for i := 0; i < n; i++ {
			var ss float64
			for _, v := range g.F32[i*per : (i+1)*per] {
				ss += float64(v) * float64(v)
			}
			norms += math.Sqrt(ss)
		}
		r += norms / n
		for i := range x.F32 {
			x.F32[i] += -g.F32[i] + float32(eps*rng.NormFloat64())
		}
	}
	r /= steps
	t.Logf("initial drift r = %.4g over %d steps (appendix A: about 0.01)", r, steps)
	if r < 0.002 || r > 0.05 {
		t.Errorf("r = %v, want in [0.002, 0.05]", r)
	}
}
