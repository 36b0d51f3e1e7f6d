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
	if f, ok, err := p.directEnergy(x); ok {
		return f, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.params == nil {
		return nil, fmt.Errorf("energy: %w", errNotConfigured)
	}
	if err := p.checkInput("energy", "x", x); err != nil {
		return nil, err
	}
	f, err := p.energyGraph(x)
	if err != nil {
		return nil, err
	}
	if err := f.CheckFinite(); err != nil {
		return nil, fmt.Errorf("energy: output F: %w", err)
	}
	return f, nil
}

// energyGraph runs the energy graph on a checked batch. The caller holds
// p.mu.
func (p *Plugin) energyGraph(x *sdk.Tensor) (*sdk.Tensor, error) {
	c, err := p.graph(graphKey{kindEnergy, x.Batch()})
	if err != nil {
		return nil, fmt.Errorf("energy: %w", err)
	}
	loadInput(c.x, x, 0)
	if err := c.run(); err != nil {
		return nil, fmt.Errorf("energy: %w", err)
	}
	return toSDK(c.f.(*tensor.Dense)), nil
}

// directEnergy is Energy on the dedicated path (toy or nonlocal net), under
// the read lock; ok is false when the plugin has no such path.
func (p *Plugin) directEnergy(x *sdk.Tensor) (f *sdk.Tensor, ok bool, err error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.direct == nil {
		return nil, false, nil
	}
	if err := p.checkInput("energy", "x", x); err != nil {
		return nil, true, err
	}
	f = p.direct.energy(x)
	if err := f.CheckFinite(); err != nil {
		return nil, true, fmt.Errorf("energy: output F: %w", err)
	}
	return f, true, nil
}

// Grad returns F(x) (shape [n]) and dF/dx (the shape of x). Samples do not
// interact, so dF(x_i)/dx_i is the gradient of sum_i F(x_i). This is the
// sampler's hot path: the graph is compiled once per batch size and computes
// no weight gradient; the toy and nonlocal nets run their dedicated paths
// instead.
func (p *Plugin) Grad(ctx context.Context, x *sdk.Tensor) (f, dfdx *sdk.Tensor, err error) {
	return p.GradInto(ctx, x, nil, nil)
}

// GradInto is Grad writing F(x) and dF/dx into f and dfdx where they fit
// (sdk.GradIntoer); others, and nil ones, are allocated.
func (p *Plugin) GradInto(ctx context.Context, x, f, dfdx *sdk.Tensor) (*sdk.Tensor, *sdk.Tensor, error) {
	if f, dfdx, ok, err := p.directGrad(x, f, dfdx); ok {
		return f, dfdx, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.params == nil {
		return nil, nil, fmt.Errorf("grad: %w", errNotConfigured)
	}
	if err := p.checkInput("grad", "x", x); err != nil {
		return nil, nil, err
	}
	f, dfdx, err := p.gradGraph(x, f, dfdx)
	if err != nil {
		return nil, nil, err
	}
	return f, dfdx, checkGrad(f, dfdx)
}

// gradGraph runs the grad graph on a checked batch, its answer going into
// f and dfdx where they fit. The caller holds p.mu.
func (p *Plugin) gradGraph(x, f, dfdx *sdk.Tensor) (*sdk.Tensor, *sdk.Tensor, error) {
	c, err := p.graph(graphKey{kindGrad, x.Batch()})
	if err != nil {
		return nil, nil, fmt.Errorf("grad: %w", err)
	}
	loadInput(c.x, x, 0)
	if err := c.run(); err != nil {
		return nil, nil, fmt.Errorf("grad: %w", err)
	}
	f = sdk.Reuse(f, x.DType, x.Batch())
	dfdx = sdk.Reuse(dfdx, x.DType, x.Shape...)
	copyToSDK(f, c.f.(*tensor.Dense))
	copyToSDK(dfdx, c.dfdx.(*tensor.Dense))
	return f, dfdx, nil
}

// directGrad is Grad on the dedicated path (toy or nonlocal net), under the
// read lock; ok
// is false when the plugin has no such path.
func (p *Plugin) directGrad(x, f, dfdx *sdk.Tensor) (*sdk.Tensor, *sdk.Tensor, bool, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.direct == nil {
		return nil, nil, false, nil
	}
	if err := p.checkInput("grad", "x", x); err != nil {
		return nil, nil, true, err
	}
	f, dfdx = sdk.Reuse(f, x.DType, x.Batch()), sdk.Reuse(dfdx, x.DType, x.Shape...)
	p.direct.grad(x, f, dfdx)
	if err := checkGrad(f, dfdx); err != nil {
		return nil, nil, true, err
	}
	return f, dfdx, true, nil
}

// checkGrad checks that Grad's outputs are finite.
func checkGrad(f, dfdx *sdk.Tensor) error {
	if err := f.CheckFinite(); err != nil {
		return fmt.Errorf("grad: output F: %w", err)
	}
	if err := dfdx.CheckFinite(); err != nil {
		return fmt.Errorf("grad: output dF/dx: %w", err)
	}
	return nil
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
