package convnet

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// biasOp adds a per-channel bias along axis 1:
//
//	y[n, c, ...] = x[n, c, ...] + b[c]
//
// for x of shape [N, C] (linear layers) or [N, C, H, W] (convolutions). It
// replaces gorgonia's broadcast addition, which materialises the repeated bias.
type biasOp struct {
	dims int // dimensions of x: 2 or 4
	dt   tensor.Dtype
}

func (op biasOp) Arity() int { return 2 }

func (op biasOp) Type() hm.Type {
	x := G.TensorType{Dims: op.dims, Of: op.dt}
	return hm.NewFnType(x, G.TensorType{Dims: 1, Of: op.dt}, x)
}

func (op biasOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	xs, ok1 := in[0].(tensor.Shape)
	bs, ok2 := in[1].(tensor.Shape)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("bias: input shapes are %T, %T", in[0], in[1])
	}
	if len(xs) < 2 || bs.TotalSize() != xs[1] {
		return nil, fmt.Errorf("bias: cannot add bias %v along axis 1 of %v", bs, xs)
	}
	return xs.Clone(), nil
}

func (op biasOp) Do(in ...G.Value) (G.Value, error) {
	x, ok1 := in[0].(*tensor.Dense)
	b, ok2 := in[1].(*tensor.Dense)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("bias: inputs are %T, %T, want *tensor.Dense", in[0], in[1])
	}
	s := x.Shape()
	c := s[1]
	inner := s.TotalSize() / (s[0] * c)
	out := tensor.New(tensor.Of(x.Dtype()), tensor.WithShape(s.Clone()...))
	switch xs := x.Data().(type) {
	case []float32:
		addBias(out.Data().([]float32), xs, b.Data().([]float32), c, inner)
	case []float64:
		addBias(out.Data().([]float64), xs, b.Data().([]float64), c, inner)
	default:
		return nil, fmt.Errorf("bias: dtype %v not supported", x.Dtype())
	}
	return out, nil
}

// addBias writes y = x + b[c] for x laid out as [N][c][inner].
func addBias[T float32 | float64](y, x, b []T, c, inner int) {
	for i := 0; i < len(x); i += c * inner {
		for j := 0; j < c; j++ {
			bj := b[j]
			o := i + j*inner
			for k := o; k < o+inner; k++ {
				y[k] = x[k] + bj
			}
		}
	}
}

func (op biasOp) ReturnsPtr() bool      { return false }
func (op biasOp) CallsExtern() bool     { return false }
func (op biasOp) OverwritesInput() int  { return -1 }
func (op biasOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op biasOp) Hashcode() uint32      { return hashOp(op) }
func (op biasOp) String() string        { return fmt.Sprintf("AddBias(%dD,%v)", op.dims, op.dt) }
func (op biasOp) DiffWRT(int) []bool    { return []bool{true, true} }

// SymDiff returns dL/dx = dL/dy and dL/db[c] = sum over n, h, w of dL/dy.
func (op biasOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	gb, err := G.ApplyOp(biasGradOp{dims: grad.Dims(), dt: grad.Dtype()}, grad)
	if err != nil {
		return nil, fmt.Errorf("bias: derivative: %w", err)
	}
	return G.Nodes{grad, gb}, nil
}

// biasGradOp sums a [N, C, ...] tensor over every axis but axis 1.
type biasGradOp struct {
	dims int
	dt   tensor.Dtype
}

func (op biasGradOp) Arity() int { return 1 }

func (op biasGradOp) Type() hm.Type {
	return hm.NewFnType(G.TensorType{Dims: op.dims, Of: op.dt}, G.TensorType{Dims: 1, Of: op.dt})
}

func (op biasGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok || len(s) < 2 {
		return nil, fmt.Errorf("bias derivative: input shape %v", in[0])
	}
	return tensor.Shape{s[1]}, nil
}

func (op biasGradOp) Do(in ...G.Value) (G.Value, error) {
	g, ok := in[0].(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("bias derivative: input is %T, want *tensor.Dense", in[0])
	}
	s := g.Shape()
	c := s[1]
	inner := s.TotalSize() / (s[0] * c)
	out := tensor.New(tensor.Of(g.Dtype()), tensor.WithShape(c))
	switch gs := g.Data().(type) {
	case []float32:
		sumBias(out.Data().([]float32), gs, c, inner)
	case []float64:
		sumBias(out.Data().([]float64), gs, c, inner)
	default:
		return nil, fmt.Errorf("bias derivative: dtype %v not supported", g.Dtype())
	}
	return out, nil
}

// sumBias writes db[c] = sum of g[n][c][k] over n and k, accumulating in
// float64 so the sum does not depend on the dtype's rounding more than needed.
func sumBias[T float32 | float64](db, g []T, c, inner int) {
	acc := make([]float64, c)
	for i := 0; i < len(g); i += c * inner {
		for j := 0; j < c; j++ {
			o := i + j*inner
			for k := o; k < o+inner; k++ {
				acc[j] += float64(g[k])
			}
		}
	}
	for j, v := range acc {
		db[j] = T(v)
	}
}

func (op biasGradOp) ReturnsPtr() bool      { return false }
func (op biasGradOp) CallsExtern() bool     { return false }
func (op biasGradOp) OverwritesInput() int  { return -1 }
func (op biasGradOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op biasGradOp) Hashcode() uint32      { return hashOp(op) }
func (op biasGradOp) String() string        { return fmt.Sprintf("BiasGrad(%dD,%v)", op.dims, op.dt) }
func (op biasGradOp) DiffWRT(int) []bool    { return []bool{false} }

func (op biasGradOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("bias derivative: second derivatives are not implemented")
}
