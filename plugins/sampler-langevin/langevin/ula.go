package langevin

import (
	"context"
	"fmt"

	"github.com/ebmflow/ebmflow/sdk"
)

// runULA runs c.steps unadjusted Langevin steps on the chains x (the data of
// xt, updated in place):
//
//	x' = x - dF/dx(x) + eps*z,   z ~ N(0, I).
//
// It stops with an error wrapping sdk.ErrNonFinite, naming the step and the
// number of chains affected, when dF/dx or the new state is not finite.
func runULA[T float](ctx context.Context, c *chainRun, xt *sdk.Tensor, x []T) (outcome, error) {
	n := c.shape[0]
	d := len(x) / n
	var rsum float64
	// The noise of a step does not depend on its gradient: it is drawn
	// (in index order, from the same stream) while the energy computes
	// dF/dx, and added after; the numbers are those of drawing it after.
	z := make([]T, len(x))
	drawn := make(chan struct{}, 1)
	for l := 1; l <= c.steps; l++ {
		if err := ctx.Err(); err != nil {
			return outcome{}, fmt.Errorf("step %d of %d: %w", l, c.steps, err)
		}
		go func() { drawNoise(z, c.eps, c.rng); drawn <- struct{}{} }()
		f, gt, err := c.grad(ctx, xt, l)
		<-drawn
		if err != nil {
			return outcome{}, err
		}
		g := values[T](gt)
		norm, bad := rowNorms(g, d)
		if bad > 0 {
			return outcome{}, fmt.Errorf("step %d of %d: dF/dx: %w in %d of %d chains", l, c.steps, sdk.ErrNonFinite, bad, n)
		}
		rsum += norm
		if c.trace != nil {
			c.trace[l-1] = sdk.StepStat{MeanEnergy: meanOf(f), DriftNorm: norm}
		}
		ulaStep(x, g, z)
		if bad := nonFiniteRows(x, d); bad > 0 {
			return outcome{}, fmt.Errorf("step %d of %d: sample: %w in %d of %d chains", l, c.steps, sdk.ErrNonFinite, bad, n)
		}
	}
	return outcome{r: rsum / float64(c.steps)}, nil
}

// drawNoise sets z[i] = eps*N(0, 1), drawn from rng in index order.
func drawNoise[T float](z []T, eps float64, rng *sdk.Stream) {
	for i := range z {
		z[i] = T(eps * rng.NormFloat64())
	}
}

// ulaStep sets x[i] = x[i] - g[i] + z[i], z the step's noise (drawNoise).
func ulaStep[T float](x, g, z []T) {
	g, z = g[:len(x)], z[:len(x)]
	for i := range x {
		x[i] = x[i] - g[i] + z[i]
	}
}
