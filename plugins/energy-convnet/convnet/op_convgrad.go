package convnet

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// convGradOp is a derivative of a layer's convolution: from (gz, x, w) it
// computes dL/dx (wrt = 0, the shape of x) or dL/dw (wrt = 1, the shape of
// w), with gz = dL/dz the gradient at the pre-activation. Only the operands
// it needs are read (w for dL/dx, x for dL/dw). Not differentiable itself.
type convGradOp struct {
	convOp
	wrt int
	buf *opBuffers
}

func (op convGradOp) Arity() int { return 3 }

func (op convGradOp) outShape() tensor.Shape {
	if op.wrt == 0 {
		return op.convOp.inShape()
	}
	return tensor.Shape(op.l.weightShape())
}

func (op convGradOp) Type() hm.Type {
	return hm.NewFnType(
		G.TensorType{Dims: op.convOp.outShape().Dims(), Of: op.dt},
		G.TensorType{Dims: op.convOp.inShape().Dims(), Of: op.dt},
		G.TensorType{Dims: len(op.l.weightShape()), Of: op.dt},
		G.TensorType{Dims: op.outShape().Dims(), Of: op.dt})
}

func (op convGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return op.outShape(), nil
}

func (op convGradOp) Do(in ...G.Value) (G.Value, error) {
	gz, x, w, err := dense3(op, in)
	if err != nil {
		return nil, err
	}
	out := op.buf.output(op.dt, op.outShape())
	g := op.geom()
	switch gs := gz.Data().(type) {
	case []float32:
		cw := workFor[float32](op.buf)
		if op.wrt == 0 {
			convInputGrad(g, cw, gs, w.Data().([]float32), out.Data().([]float32))
		} else {
			convWeightGrad(g, cw, x.Data().([]float32), gs, out.Data().([]float32))
		}
	case []float64:
		cw := workFor[float64](op.buf)
		if op.wrt == 0 {
			convInputGrad(g, cw, gs, w.Data().([]float64), out.Data().([]float64))
		} else {
			convWeightGrad(g, cw, x.Data().([]float64), gs, out.Data().([]float64))
		}
	default:
		return nil, fmt.Errorf("%v: dtype %v not supported", op, gz.Dtype())
	}
	return out, nil
}

func (op convGradOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op convGradOp) Hashcode() uint32      { return hashOp(op) }
func (op convGradOp) DiffWRT(int) []bool    { return []bool{false, false, false} }

func (op convGradOp) String() string {
	return fmt.Sprintf("LayerGrad%d(%v)", op.wrt, op.convOp.String())
}

func (op convGradOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("%v: second derivatives are not implemented", op)
}

// actGradOp computes gz = g * (y > 0 ? 1 : slope) from a LeakyReLU output y
// and the gradient g at it. For slope >= 0, y > 0 exactly when the
// pre-activation is, so this is PyTorch's leaky_relu backward. Its output
// buffer is kept across runs. Not differentiable itself.
type actGradOp struct {
	slope float64
	dt    tensor.Dtype
	buf   *opBuffers
}

func (op actGradOp) Arity() int { return 2 }

func (op actGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a, a)
}

func (op actGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, ok := in[1].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("%v: input shape is %T", op, in[1])
	}
	return s.Clone(), nil
}

func (op actGradOp) Do(in ...G.Value) (G.Value, error) {
	y, ok1 := in[0].(*tensor.Dense)
	g, ok2 := in[1].(*tensor.Dense)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%v: inputs are %T, %T, want *tensor.Dense", op, in[0], in[1])
	}
	out := op.buf.output(op.dt, g.Shape())
	switch ys := y.Data().(type) {
	case []float32:
		leakyGrad32(out.Data().([]float32), ys, g.Data().([]float32), float32(op.slope))
	case []float64:
		leakyGrad(out.Data().([]float64), ys, g.Data().([]float64), op.slope)
	default:
		return nil, fmt.Errorf("%v: dtype %v not supported", op, y.Dtype())
	}
	return out, nil
}

// leakyGrad32 writes dst = g * (y > 0 ? 1 : slope) without branches: the
// signs of activations are random, so a branch would be mispredicted half
// the time. For float32 bits b (not NaN), int32(b) > 0 exactly when v > 0.
func leakyGrad32(dst, y, g []float32, slope float32) {
	g = g[:len(y)]
	dst = dst[:len(y)]
	sb, one := math.Float32bits(slope), math.Float32bits(1)
	for i, v := range y {
		m := sb
		if int32(math.Float32bits(v)) > 0 {
			m = one
		}
		dst[i] = g[i] * math.Float32frombits(m)
	}
}

// leakyGrad writes dst = g * (y > 0 ? 1 : slope).
func leakyGrad[T float](dst, y, g []T, slope T) {
	g = g[:len(y)]
	dst = dst[:len(y)]
	for i, v := range y {
		if v > 0 {
			dst[i] = g[i]
		} else {
			dst[i] = slope * g[i]
		}
	}
}

func (op actGradOp) ReturnsPtr() bool      { return false }
func (op actGradOp) CallsExtern() bool     { return false }
func (op actGradOp) OverwritesInput() int  { return -1 }
func (op actGradOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op actGradOp) Hashcode() uint32      { return hashOp(op) }
func (op actGradOp) String() string        { return fmt.Sprintf("LeakyReLUGradOut(%g,%v)", op.slope, op.dt) }
func (op actGradOp) DiffWRT(int) []bool    { return []bool{false, false} }

func (op actGradOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("%v: second derivatives are not implemented", op)
}
