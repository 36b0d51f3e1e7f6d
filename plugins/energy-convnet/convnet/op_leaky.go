package convnet

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// leakyOp is LeakyReLU as one gorgonia op:
//
//	y = x          if x >= 0
//	y = slope * x  otherwise
//
// gorgonia's own LeakyRelu is a composite of six element-wise ops (two
// comparisons, three products and a sum), each allocating a tensor the size of
// the activation; this op makes one pass and one allocation, and its symbolic
// derivative is the single op leakyGradOp.
type leakyOp struct{ slope float64 }

func (op leakyOp) Arity() int { return 1 }

func (op leakyOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a)
}

func (op leakyOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("leaky relu: input shape is %T", in[0])
	}
	return s.Clone(), nil
}

func (op leakyOp) Do(in ...G.Value) (G.Value, error) {
	x, ok := in[0].(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("leaky relu: input is %T, want *tensor.Dense", in[0])
	}
	out := tensor.New(tensor.Of(x.Dtype()), tensor.WithShape(x.Shape().Clone()...))
	return op.UsePreallocDo(out, x)
}

func (op leakyOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	x, y := in[0].(*tensor.Dense), prealloc.(*tensor.Dense)
	switch xs := x.Data().(type) {
	case []float32:
		ys, s := y.Data().([]float32), float32(op.slope)
		for i, v := range xs {
			if v < 0 {
				v *= s
			}
			ys[i] = v
		}
	case []float64:
		ys, s := y.Data().([]float64), op.slope
		for i, v := range xs {
			if v < 0 {
				v *= s
			}
			ys[i] = v
		}
	default:
		return nil, fmt.Errorf("leaky relu: dtype %v not supported", x.Dtype())
	}
	return y, nil
}

func (op leakyOp) ReturnsPtr() bool      { return false }
func (op leakyOp) CallsExtern() bool     { return false }
func (op leakyOp) OverwritesInput() int  { return -1 }
func (op leakyOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v", op) }
func (op leakyOp) Hashcode() uint32      { return hashOp(op) }
func (op leakyOp) String() string        { return fmt.Sprintf("LeakyReLU(%g)", op.slope) }
func (op leakyOp) DiffWRT(int) []bool    { return []bool{true} }

// SymDiff returns dL/dx = dL/dy * (x >= 0 ? 1 : slope).
func (op leakyOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	g, err := G.ApplyOp(leakyGradOp(op), in[0], grad)
	if err != nil {
		return nil, fmt.Errorf("leaky relu: derivative: %w", err)
	}
	return G.Nodes{g}, nil
}

// leakyGradOp computes g * (x >= 0 ? 1 : slope) from (x, g). It is not
// differentiable itself: the energy needs first derivatives only.
type leakyGradOp leakyOp

func (op leakyGradOp) Arity() int { return 2 }

func (op leakyGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a, a)
}

func (op leakyGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return leakyOp(op).InferShape(in[1])
}

func (op leakyGradOp) Do(in ...G.Value) (G.Value, error) {
	x, ok1 := in[0].(*tensor.Dense)
	g, ok2 := in[1].(*tensor.Dense)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("leaky relu derivative: inputs are %T, %T, want *tensor.Dense", in[0], in[1])
	}
	out := tensor.New(tensor.Of(g.Dtype()), tensor.WithShape(g.Shape().Clone()...))
	switch xs := x.Data().(type) {
	case []float32:
		gs, os, s := g.Data().([]float32), out.Data().([]float32), float32(op.slope)
		for i, v := range xs {
			if v >= 0 {
				os[i] = gs[i]
			} else {
				os[i] = s * gs[i]
			}
		}
	case []float64:
		gs, os, s := g.Data().([]float64), out.Data().([]float64), op.slope
		for i, v := range xs {
			if v >= 0 {
				os[i] = gs[i]
			} else {
				os[i] = s * gs[i]
			}
		}
	default:
		return nil, fmt.Errorf("leaky relu derivative: dtype %v not supported", x.Dtype())
	}
	return out, nil
}

func (op leakyGradOp) ReturnsPtr() bool      { return false }
func (op leakyGradOp) CallsExtern() bool     { return false }
func (op leakyGradOp) OverwritesInput() int  { return -1 }
func (op leakyGradOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v", op) }
func (op leakyGradOp) Hashcode() uint32      { return hashOp(op) }
func (op leakyGradOp) String() string        { return fmt.Sprintf("LeakyReLUGrad(%g)", op.slope) }
func (op leakyGradOp) DiffWRT(int) []bool    { return []bool{false, false} }

func (op leakyGradOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("leaky relu derivative: second derivatives are not implemented")
}

// hashOp hashes an op's String form.
func hashOp(op fmt.Stringer) uint32 {
	h := fnv.New32a()
	fmt.Fprint(h, op.String())
	return h.Sum32()
}
