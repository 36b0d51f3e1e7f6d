package convnet

import (
	"context"
	"fmt"
	"math"

	"github.com/ebmflow/ebmflow/sdk"
	"gorgonia.org/tensor"
)

// Update takes one maximum-likelihood step on the weights. With n positives
// and m negatives it computes the loss and its weight gradient
//
//	L(theta) = (1/n) sum_i F(x+_i) - (1/m) sum_j F(x-_j),   g = dL/dtheta
//
// in one pass over the concatenated batch (coefficients 1/n and -1/m), then:
//
//   - sgd:  theta <- theta - lr * g  (appendix 3A, 4A: lr is gamma0 acting
//     on the raw F gradient); GradNorm = ||g||_2.
//   - adam: PyTorch Adam on the gradient of d_st, (2/eps^2) * g;
//     GradNorm = ||(2/eps^2) g||_2.
//
// GradNorm is thus the norm of the gradient the optimiser steps on. DST is
// d_st = (2/eps^2) L at the weights before the step; MeanPos and MeanNeg are
// the mean energies before the step. Nothing changes if any value is not
// finite.
func (p *Plugin) Update(ctx context.Context, req sdk.UpdateRequest) (sdk.UpdateResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var res sdk.UpdateResult
	if p.params == nil {
		return res, fmt.Errorf("update: %w", errNotConfigured)
	}
	if err := p.checkInput("update", "positives", req.Pos); err != nil {
		return res, err
	}
	if err := p.checkInput("update", "negatives", req.Neg); err != nil {
		return res, err
	}
	if math.IsNaN(req.LR) || math.IsInf(req.LR, 0) {
		return res, fmt.Errorf("update: learning rate: %w: %v", sdk.ErrNonFinite, req.LR)
	}
	f, grads, err := p.lossGrad(req.Pos, req.Neg)
	if err != nil {
		return res, err
	}
	n := req.Pos.Batch()
	res.MeanPos, res.MeanNeg = mean(f[:n]), mean(f[n:])
	scale := 2 / (p.set.Epsilon * p.set.Epsilon)
	res.DST = scale * (res.MeanPos - res.MeanNeg)
	var ss float64
	for _, g := range grads {
		ss += sumSquares(g)
	}
	if math.IsNaN(ss) || math.IsInf(ss, 0) {
		return res, fmt.Errorf("update: weight gradient: %w: squared norm %v", sdk.ErrNonFinite, ss)
	}
	res.GradNorm = math.Sqrt(ss)
	if p.opt != nil {
		res.GradNorm *= scale
		p.opt.stepAll(p.params, grads, scale, req.LR)
	} else {
		sgdStep(p.params, grads, req.LR)
	}
	p.weightsChanged()
	return res, nil
}

// lossGrad returns F per sample of the concatenated batch [pos; neg]
// (positives first) and the weight gradients of L = mean F(pos) - mean F(neg)
// in parameter order, from the dedicated path (toy, nonlocal) or the update
// graph; the gradients are buffers valid until the next call. The caller
// holds p.mu and has checked the inputs.
func (p *Plugin) lossGrad(pos, neg *sdk.Tensor) ([]float64, []*tensor.Dense, error) {
	var f []float64
	var grads []*tensor.Dense
	if p.direct != nil {
		f, grads = p.direct.lossGrad(pos, neg)
	} else {
		var err error
		if f, grads, err = p.lossGradGraph(pos, neg); err != nil {
			return nil, nil, err
		}
	}
	for _, v := range f {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, nil, fmt.Errorf("update: energies: %w: F = %v", sdk.ErrNonFinite, v)
		}
	}
	return f, grads, nil
}

// lossGradGraph is lossGrad on the update graph: it runs the graph on
// [pos; neg] with coefficients 1/n and -1/m.
func (p *Plugin) lossGradGraph(pos, neg *sdk.Tensor) ([]float64, []*tensor.Dense, error) {
	n, m := pos.Batch(), neg.Batch()
	c, err := p.graph(graphKey{kindUpdate, n + m})
	if err != nil {
		return nil, nil, fmt.Errorf("update: %w", err)
	}
	loadInput(c.x, pos, 0)
	loadInput(c.x, neg, n)
	setCoefficients(c.coef, n, m)
	if err := c.run(); err != nil {
		return nil, nil, fmt.Errorf("update: %w", err)
	}
	grads := make([]*tensor.Dense, len(c.grads))
	for i, g := range c.grads {
		grads[i] = g.(*tensor.Dense)
	}
	return values(c.f.(*tensor.Dense)), grads, nil
}

// sumSquares returns the sum of the squares of t's values, in float64,
// without copying them.
func sumSquares(t *tensor.Dense) float64 {
	var ss float64
	switch d := t.Data().(type) {
	case []float32:
		for _, v := range d {
			ss += float64(v) * float64(v)
		}
	case []float64:
		for _, v := range d {
			ss += v * v
		}
	}
	return ss
}

// setCoefficients writes 1/n for the first n samples and -1/m for the next m.
func setCoefficients(c *tensor.Dense, n, m int) {
	switch d := c.Data().(type) {
	case []float32:
		for i := range d {
			d[i] = float32(coefficient(i, n, m))
		}
	case []float64:
		for i := range d {
			d[i] = coefficient(i, n, m)
		}
	}
}

func coefficient(i, n, m int) float64 {
	if i < n {
		return 1 / float64(n)
	}
	return -1 / float64(m)
}

// mean returns the arithmetic mean of v.
func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}
