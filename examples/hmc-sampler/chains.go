package main

import (
	"context"
	"fmt"
	"math"

	"github.com/ebmflow/ebmflow/sdk"
)

// chains is one Sample call's batch of n chains, flattened row-major.
type chains struct {
	s   *Plugin
	rng *sdk.Stream // the calling consumer's stream
	n   int
	x   []float64
}

func (c *chains) tensor(v []float64) *sdk.Tensor {
	t := sdk.NewTensor(sdk.Float32, append([]int{c.n}, c.s.shape...)...)
	for i, x := range v {
		t.F32[i] = float32(x)
	}
	return t
}

// grad returns F and dF/dx at x from the energy stage.
func (c *chains) grad(ctx context.Context, x []float64) (f, g []float64, err error) {
	ft, gt, err := c.s.energy.Grad(ctx, c.tensor(x))
	if err != nil {
		return nil, nil, fmt.Errorf("hmc-sampler: energy gradient: %w", err)
	}
	if err := gt.Expect(sdk.Float32, append([]int{c.n}, c.s.shape...)...); err != nil {
		if err := gt.Expect(sdk.Float64, append([]int{c.n}, c.s.shape...)...); err != nil {
			return nil, nil, fmt.Errorf("hmc-sampler: energy gradient: %w", err)
		}
	}
	if ft.Len() != c.n {
		return nil, nil, fmt.Errorf("hmc-sampler: energy: %d values for %d chains", ft.Len(), c.n)
	}
	f, g = make([]float64, c.n), make([]float64, len(x))
	for i := range f {
		f[i] = ft.At(i)
	}
	for i := range g {
		g[i] = gt.At(i)
	}
	return f, g, nil
}

// run takes steps transitions and returns r_t and the acceptance rate.
func (c *chains) run(ctx context.Context, steps int) (r, accept float64, err error) {
	s, d := c.s, len(c.x)/max(c.n, 1)
	f, g, err := c.grad(ctx, c.x)
	if err != nil {
		return 0, 0, err
	}
	accepted := 0
	for range steps {
		r += meanNorm(g, c.n, d)
		p := make([]float64, len(c.x))
		for i := range p {
			p[i] = c.rng.NormFloat64()
		}
		h0 := hamiltonian(f, p, s.temp, c.n, d)
		xn, pn := append([]float64(nil), c.x...), append([]float64(nil), p...)
		gn := g
		var fn []float64
		for range s.l {
			for i := range pn {
				pn[i] -= s.h / 2 * gn[i] / s.temp
				xn[i] += s.h * pn[i]
			}
			if fn, gn, err = c.grad(ctx, xn); err != nil {
				return 0, 0, err
			}
			for i := range pn {
				pn[i] -= s.h / 2 * gn[i] / s.temp
			}
		}
		h1 := hamiltonian(fn, pn, s.temp, c.n, d)
		for k := range c.n {
			u := c.rng.Float64()
			if dh := h0[k] - h1[k]; !math.IsNaN(dh) && (dh >= 0 || u < math.Exp(dh)) {
				copy(c.x[k*d:(k+1)*d], xn[k*d:(k+1)*d])
				copy(g[k*d:(k+1)*d], gn[k*d:(k+1)*d])
				f[k] = fn[k]
				accepted++
			}
		}
	}
	if steps > 0 {
		r /= float64(steps)
		accept = float64(accepted) / float64(steps*c.n)
	}
	return r, accept, nil
}

// hamiltonian returns H = F/T + |p|²/2 per chain.
func hamiltonian(f, p []float64, temp float64, n, d int) []float64 {
	h := make([]float64, n)
	for k := range n {
		kin := 0.0
		for _, v := range p[k*d : (k+1)*d] {
			kin += v * v
		}
		h[k] = f[k]/temp + kin/2
	}
	return h
}

// meanNorm is the batch mean of the per-chain L2 norm of g.
func meanNorm(g []float64, n, d int) float64 {
	s := 0.0
	for k := range n {
		q := 0.0
		for _, v := range g[k*d : (k+1)*d] {
			q += v * v
		}
		s += math.Sqrt(q)
	}
	return s / float64(max(n, 1))
}
