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
	for l := 1; l <= c.steps; l++ {
		if err := ctx.Err(); err != nil {
			return outcome{}, fmt.Errorf("step %d of %d: %w", l, c.steps, err)
		}
		f, gt, err := c.grad(ctx, xt, l)
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
		ulaStep(x, g, c.eps, c.rng)
		if bad := nonFiniteRows(x, d); bad > 0 {
			return outcome{}, fmt.Errorf("step %d of %d: sample: %w in %d of %d chains", l, c.steps, sdk.ErrNonFinite, bad, n)
		}
	}
	return outcome{r: rsum / float64(c.steps)}, nil
}

// ulaStep sets x[i] = x[i] - g[i] + eps*z[i] with z[i] ~ N(0, 1) drawn from
// rng in index order.
func ulaStep[T float](x, g []T, eps float64, rng *sdk.Stream) {
	g = g[:len(x)]
	for i := range x {
		x[i] = x[i] - g[i] + T(eps*rng.NormFloat64())
	}
}
