package convnet

import (
	"context"
	"fmt"

	"github.com/ebmflow/ebmflow/sdk"
	"gorgonia.org/tensor"
)

// Energy returns F(x; theta) per sample, a tensor of shape [n], for x of shape
// [n, input...] in the configured dtype.
func (p *Plugin) Energy(ctx context.Context, x *sdk.Tensor) (*sdk.Tensor, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.params == nil {
		return nil, fmt.Errorf("energy: %w", errNotConfigured)
	}
	if err := p.checkInput("energy", "x", x); err != nil {
		return nil, err
	}
	c, err := p.graph(graphKey{kindEnergy, x.Batch()})
	if err != nil {
		return nil, fmt.Errorf("energy: %w", err)
	}
	loadInput(c.x, x, 0)
	if err := c.run(); err != nil {
		return nil, fmt.Errorf("energy: %w", err)
	}
	f := toSDK(c.f.(*tensor.Dense))
	if err := f.CheckFinite(); err != nil {
		return nil, fmt.Errorf("energy: output F: %w", err)
	}
	return f, nil
}

// Grad returns F(x) (shape [n]) and dF/dx (the shape of x). Samples do not
// interact, so dF(x_i)/dx_i is the gradient of sum_i F(x_i). This is the
// sampler's hot path: the graph is compiled once per batch size and computes
// no weight gradient.
func (p *Plugin) Grad(ctx context.Context, x *sdk.Tensor) (f, dfdx *sdk.Tensor, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.params == nil {
		return nil, nil, fmt.Errorf("grad: %w", errNotConfigured)
	}
	if err := p.checkInput("grad", "x", x); err != nil {
		return nil, nil, err
	}
	c, err := p.graph(graphKey{kindGrad, x.Batch()})
	if err != nil {
		return nil, nil, fmt.Errorf("grad: %w", err)
	}
	loadInput(c.x, x, 0)
	if err := c.run(); err != nil {
		return nil, nil, fmt.Errorf("grad: %w", err)
	}
	f = toSDK(c.f.(*tensor.Dense))
	dfdx = toSDK(c.dfdx.(*tensor.Dense))
	dfdx.Shape = append([]int(nil), x.Shape...)
	if err := f.CheckFinite(); err != nil {
		return nil, nil, fmt.Errorf("grad: output F: %w", err)
	}
	if err := dfdx.CheckFinite(); err != nil {
		return nil, nil, fmt.Errorf("grad: output dF/dx: %w", err)
	}
	return f, dfdx, nil
}

// loadInput copies the samples of x into dst starting at sample offset off.
func loadInput(dst *tensor.Dense, x *sdk.Tensor, off int) {
	per := x.Len() / x.Batch()
	switch d := dst.Data().(type) {
	case []float32:
		copy(d[off*per:], x.F32)
	case []float64:
		copy(d[off*per:], x.F64)
	}
}
