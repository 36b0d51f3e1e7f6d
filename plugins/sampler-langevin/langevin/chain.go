package langevin

import (
	"context"
	"fmt"
	"math"

	"github.com/ebmflow/ebmflow/sdk"
)

// float is the element type of the chains.
type float interface{ ~float32 | ~float64 }

// chainRun holds what one Sample call's chain loop needs.
type chainRun struct {
	link  sdk.EnergyLink
	rng   *sdk.Stream
	eps   float64
	steps int
	shape []int          // [n, sample shape...]
	trace []sdk.StepStat // nil unless a trace was asked for
	// f and g are the storage the energy's answers are read into, reused
	// from step to step: a step uses its answer before the next one.
	f, g *sdk.Tensor
}

// outcome is what a chain loop returns besides the samples.
type outcome struct {
	r                  float64 // r_t, L-term average of the batch-mean |dF/dx|
	accepted, proposed int     // MALA counts
}

// grad calls the energy's gradient at xt and checks the answer: F of shape
// [n], dF/dx of the chains' dtype and shape, dF/dx finite. step is 1-based.
// The answer is valid until the next call.
func (c *chainRun) grad(ctx context.Context, xt *sdk.Tensor, step int) (f *sdk.Tensor, g *sdk.Tensor, err error) {
	f, g, err = sdk.GradInto(ctx, c.link, xt, c.f, c.g)
	if err != nil {
		return nil, nil, fmt.Errorf("step %d of %d: energy gradient: %w", step, c.steps, err)
	}
	if err := g.Expect(xt.DType, c.shape...); err != nil {
		return nil, nil, fmt.Errorf("step %d of %d: energy gradient dF/dx: %w", step, c.steps, err)
	}
	if err := f.Validate(); err != nil {
		return nil, nil, fmt.Errorf("step %d of %d: energy gradient F: %w", step, c.steps, err)
	}
	if len(f.Shape) != 1 || f.Shape[0] != c.shape[0] {
		return nil, nil, fmt.Errorf("step %d of %d: energy gradient F: %w: expected [%d], received %s",
			step, c.steps, sdk.ErrShape, c.shape[0], sdk.FormatShape(f.Shape))
	}
	c.f, c.g = f, g
	return f, g, nil
}

// values returns the tensor's data as []T; the caller has checked the dtype.
func values[T float](t *sdk.Tensor) []T {
	if v, ok := any(t.F32).([]T); ok && t.DType == sdk.Float32 {
		return v
	}
	v, _ := any(t.F64).([]T)
	return v
}

// isFinite reports whether v is neither NaN nor an infinity.
func isFinite[T float](v T) bool { return v-v == 0 }

// rowNorms returns the mean over the n = len(g)/d rows of g of the row's L2
// norm, over the finite rows, and the number of rows holding a NaN or an
// infinity.
func rowNorms[T float](g []T, d int) (mean float64, bad int) {
	n := len(g) / d
	var sum float64
	for i := 0; i < n; i++ {
		var ss float64
		ok := true
		for _, v := range g[i*d : (i+1)*d] {
			ok = ok && isFinite(v)
			ss += float64(v) * float64(v)
		}
		if !ok {
			bad++
			continue
		}
		sum += math.Sqrt(ss)
	}
	return sum / float64(n), bad
}

// meanOf returns the mean of the tensor's elements.
func meanOf(t *sdk.Tensor) float64 {
	var s float64
	for i := 0; i < t.Len(); i++ {
		s += t.At(i)
	}
	return s / float64(t.Len())
}

// nonFiniteRows counts the rows of x (row length d) holding a NaN or an
// infinity.
func nonFiniteRows[T float](x []T, d int) int {
	bad := 0
	for i := 0; i < len(x); i += d {
		for _, v := range x[i : i+d] {
			if !isFinite(v) {
				bad++
				break
			}
		}
	}
	return bad
}
