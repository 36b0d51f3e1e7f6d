package langevin

import (
	"context"
	"fmt"
	"math"

	"github.com/ebmflow/ebmflow/sdk"
)

// workspace holds MALA's buffers, reused across Sample calls of the same size.
type workspace[T float] struct {
	xp  []T         // proposals
	xpt *sdk.Tensor // xp as a tensor
	g   []T         // dF/dx at the current state
	f   []float64   // F at the current state
	p   []float64   // momenta
}

func (w *workspace[T]) ensure(dt sdk.DType, shape []int) {
	size := sdk.NumElements(shape)
	if w.xpt != nil && len(w.xp) == size && equalShape(w.xpt.Shape, shape) {
		return
	}
	w.xpt = sdk.NewTensor(dt, shape...)
	w.xp = values[T](w.xpt)
	w.g = make([]T, size)
	w.f = make([]float64, shape[0])
	w.p = make([]float64, size)
}

// runMALA runs c.steps Metropolis-adjusted Langevin steps on the chains x
// (the data of xt, updated in place). With U = F/(eps^2/2) each step
// proposes
//
//	x' = x - (eps^2/2) grad U(x) + eps*p = x - dF/dx(x) + eps*p,   p ~ N(0, I),
//
// and accepts it per chain with probability min(1, exp(H(x,p) - H(x',p'))),
// where H = U + |p|^2/2 and p' = p - (eps/2)(grad U(x) + grad U(x'))
// = p - (dF/dx(x) + dF/dx(x'))/eps. It calls the gradient c.steps+1 times.
func runMALA[T float](ctx context.Context, c *chainRun, xt *sdk.Tensor, x []T, w *workspace[T]) (outcome, error) {
	n := c.shape[0]
	d := len(x) / n
	w.ensure(xt.DType, c.shape)
	f, gt, err := c.grad(ctx, xt, 1)
	if err != nil {
		return outcome{}, err
	}
	if err := storeCurrent(w, f, values[T](gt), d, 1, c.steps); err != nil {
		return outcome{}, err
	}
	scale := 2 / (c.eps * c.eps) // U = scale * F
	var out outcome
	var rsum float64
	for l := 1; l <= c.steps; l++ {
		if err := ctx.Err(); err != nil {
			return outcome{}, fmt.Errorf("step %d of %d: %w", l, c.steps, err)
		}
		norm, _ := rowNorms(w.g, d)
		rsum += norm
		if c.trace != nil {
			c.trace[l-1] = sdk.StepStat{MeanEnergy: mean(w.f), DriftNorm: norm}
		}
		for i := range x {
			p := c.rng.NormFloat64()
			w.p[i] = p
			w.xp[i] = x[i] - w.g[i] + T(c.eps*p)
		}
		if bad := nonFiniteRows(w.xp, d); bad > 0 {
			return outcome{}, fmt.Errorf("step %d of %d: proposal: %w in %d of %d chains", l, c.steps, sdk.ErrNonFinite, bad, n)
		}
		fp, gpt, err := c.grad(ctx, w.xpt, l)
		if err != nil {
			return outcome{}, err
		}
		gp := values[T](gpt)
		if err := checkFinite(fp, gp, d, l, c.steps); err != nil {
			return outcome{}, err
		}
		for i := 0; i < n; i++ {
			lo, hi := i*d, (i+1)*d
			var kin, kinp float64
			for k := lo; k < hi; k++ {
				p := w.p[k]
				pp := p - (float64(w.g[k])+float64(gp[k]))/c.eps
				kin += p * p
				kinp += pp * pp
			}
			logA := scale*(w.f[i]-fp.At(i)) + (kin-kinp)/2
			u := c.rng.Float64()
			out.proposed++
			if logA >= 0 || math.Log(u) < logA {
				out.accepted++
				copy(x[lo:hi], w.xp[lo:hi])
				copy(w.g[lo:hi], gp[lo:hi])
				w.f[i] = fp.At(i)
			}
		}
	}
	out.r = rsum / float64(c.steps)
	return out, nil
}

// storeCurrent copies F and dF/dx at the initial state into the workspace
// after checking that they are finite.
func storeCurrent[T float](w *workspace[T], f *sdk.Tensor, g []T, d, step, steps int) error {
	if err := checkFinite(f, g, d, step, steps); err != nil {
		return err
	}
	copy(w.g, g)
	for i := range w.f {
		w.f[i] = f.At(i)
	}
	return nil
}

// checkFinite reports chains whose F or dF/dx is not finite; MALA's
// acceptance test needs both.
func checkFinite[T float](f *sdk.Tensor, g []T, d, step, steps int) error {
	n := len(g) / d
	bad := 0
	for i := 0; i < n; i++ {
		fi := f.At(i)
		if math.IsNaN(fi) || math.IsInf(fi, 0) || nonFiniteRows(g[i*d:(i+1)*d], d) > 0 {
			bad++
		}
	}
	if bad > 0 {
		return fmt.Errorf("step %d of %d: F or dF/dx: %w in %d of %d chains", step, steps, sdk.ErrNonFinite, bad, n)
	}
	return nil
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}
