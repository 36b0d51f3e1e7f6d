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
	var ahead *noiseAhead[T]
	if len(x) >= noiseAheadMin {
		ahead = &noiseAhead[T]{z: make([]T, len(x))}
	}
	var rsum float64
	for l := 1; l <= c.steps; l++ {
		if err := ctx.Err(); err != nil {
			return outcome{}, fmt.Errorf("step %d of %d: %w", l, c.steps, err)
		}
		ahead.start(c.eps, c.rng)
		f, gt, err := c.grad(ctx, xt, l)
		if err := ahead.wait(err != nil); err != nil {
			return outcome{}, fmt.Errorf("step %d of %d: %w", l, c.steps, err)
		}
		if err != nil {
			return outcome{}, err
		}
		g := values[T](gt)
		norm, bad := rowNorms(g, d)
		if bad > 0 {
			if err := ahead.undo(); err != nil {
				return outcome{}, fmt.Errorf("step %d of %d: %w", l, c.steps, err)
			}
			return outcome{}, fmt.Errorf("step %d of %d: dF/dx: %w in %d of %d chains", l, c.steps, sdk.ErrNonFinite, bad, n)
		}
		rsum += norm
		if c.trace != nil {
			c.trace[l-1] = sdk.StepStat{MeanEnergy: meanOf(f), DriftNorm: norm}
		}
		if ahead != nil {
			ulaStepWith(x, g, ahead.z)
		} else {
			ulaStep(x, g, c.eps, c.rng)
		}
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

// ulaStepWith is ulaStep with the noise drawn ahead: z[i] = T(eps*N(0, 1)),
// drawn in index order, so x comes out bit for bit as from ulaStep.
func ulaStepWith[T float](x, g, z []T) {
	g, z = g[:len(x)], z[:len(x)]
	for i := range x {
		x[i] = x[i] - g[i] + z[i]
	}
}

// noiseAheadMin is the number of chain values from which a step's noise is
// drawn while the energy computes its gradient (on another goroutine): an
// image batch's noise (100x1x32x32: about 0.7 ms of normals) then costs the
// step nothing, where for a toy batch the hand-over would cost more than
// the draws.
var noiseAheadMin = 4096

// noiseAhead draws a step's noise during the step's gradient call, from the
// chain stream, in the order ulaStep would. A step that fails before using
// it puts the stream back as it was, so that a refused call leaves the
// sampler's stream untouched, as without the overlap. A nil noiseAhead
// does nothing.
type noiseAhead[T float] struct {
	z     []T
	rng   *sdk.Stream
	state []byte
	done  chan struct{}
	err   error
}

// start saves the stream's state and starts drawing.
func (a *noiseAhead[T]) start(eps float64, rng *sdk.Stream) {
	if a == nil {
		return
	}
	a.rng, a.done = rng, make(chan struct{})
	a.state, a.err = rng.MarshalBinary()
	if a.err != nil {
		close(a.done)
		return
	}
	go func() {
		defer close(a.done)
		for i := range a.z {
			a.z[i] = T(eps * rng.NormFloat64())
		}
	}()
}

// wait waits for the draws; with undo it then restores the stream.
func (a *noiseAhead[T]) wait(undo bool) error {
	if a == nil {
		return nil
	}
	<-a.done
	if a.err != nil {
		return fmt.Errorf("noise: %w", a.err)
	}
	if undo {
		return a.undo()
	}
	return nil
}

// undo restores the stream to its state before the draws.
func (a *noiseAhead[T]) undo() error {
	if a == nil {
		return nil
	}
	if err := a.rng.UnmarshalBinary(a.state); err != nil {
		return fmt.Errorf("noise: %w", err)
	}
	return nil
}
