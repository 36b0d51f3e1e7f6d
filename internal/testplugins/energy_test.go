package testplugins

import (
	"context"
	"math"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

// TestQuadraticGradFiniteDifference checks dF/dx of the quadratic test
// energy against central differences of F (float64, step 1e-6; on a
// quadratic the error is rounding only, about 1e-9 here), with a centre per
// element of [2 2] samples.
func TestQuadraticGradFiniteDifference(t *testing.T) {
	ctx := context.Background()
	q := NewQuadraticAt(1.7, 1, -1, 0.5, 2)
	rng := sdk.NewStream(3, "test")
	x := sdk.NewTensor(sdk.Float64, 3, 2, 2)
	for i := range x.F64 {
		x.F64[i] = rng.NormFloat64()
	}
	f, g, err := q.Grad(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	const h = 1e-6
	for i := range x.F64 {
		n := i / 4
		xp, xm := x.Clone(), x.Clone()
		xp.F64[i] += h
		xm.F64[i] -= h
		fp, err1 := q.Energy(ctx, xp)
		fm, err2 := q.Energy(ctx, xm)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if fd := (fp.F64[n] - fm.F64[n]) / (2 * h); math.Abs(fd-g.F64[i]) > 1e-6 {
			t.Errorf("dF/dx[%d] = %v, central difference %v", i, g.F64[i], fd)
		}
		if fp.F64[(n+1)%3] != f.F64[(n+1)%3] {
			t.Errorf("moving sample %d changed F of sample %d", n, (n+1)%3)
		}
	}
	if q.GradCalls() != 1 {
		t.Errorf("%d gradient calls counted, want 1", q.GradCalls())
	}
	if _, _, err := q.Grad(ctx, sdk.NewTensor(sdk.Float64, 3, 3)); err == nil {
		t.Error("samples of 3 elements accepted for a centre of 4")
	}
}
