package convnet

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// convGradOp is a derivative of a layer: from (dL/dy, y, x, w) it computes
// dL/dx (wrt = 0, the shape of x) or dL/dw (wrt = 1, the shape of w)
// through gz = dL/dz, the gradient at the pre-activation (see gradAt). Only
// the operands it needs are read (w for dL/dx, x for dL/dw). Not
// differentiable itself.
type convGradOp struct {
	convOp
	wrt int
	buf *opBuffers
}

func (op convGradOp) Arity() int { return 4 }

func (op convGradOp) outShape() tensor.Shape {
	if op.wrt == 0 {
		return op.convOp.inShape()
	}
	return tensor.Shape(op.l.weightShape())
}

func (op convGradOp) Type() hm.Type {
	return hm.NewFnType(
		G.TensorType{Dims: op.convOp.outShape().Dims(), Of: op.dt},
		G.TensorType{Dims: op.convOp.outShape().Dims(), Of: op.dt},
		G.TensorType{Dims: op.convOp.inShape().Dims(), Of: op.dt},
		G.TensorType{Dims: len(op.l.weightShape()), Of: op.dt},
		G.TensorType{Dims: op.outShape().Dims(), Of: op.dt})
}

func (op convGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return op.outShape(), nil
}

func (op convGradOp) Do(in ...G.Value) (G.Value, error) {
	gy, y, err := dense2(op, in[:2])
	if err != nil {
		return nil, err
	}
	x, w, err := dense2(op, in[2:])
	if err != nil {
		return nil, err
	}
	out := op.buf.output(op.dt, op.outShape())
	g := op.geom()
	switch gs := gy.Data().(type) {
	case []float32:
		convGrad(op, g, workFor[float32](op.work), gradAt[float32]{gs, y.Data().([]float32), float32(op.slope), op.act && !op.gzIn},
			x.Data().([]float32), w.Data().([]float32), out.Data().([]float32))
	case []float64:
		convGrad(op, g, workFor[float64](op.work), gradAt[float64]{gs, y.Data().([]float64), op.slope, op.act && !op.gzIn},
			x.Data().([]float64), w.Data().([]float64), out.Data().([]float64))
	default:
		return nil, fmt.Errorf("%v: dtype %v not supported", op, gy.Dtype())
	}
	return out, nil
}

// convGrad runs the op's derivative on slices.
func convGrad[T float](op convGradOp, g convGeom, cw *convWork[T], gz gradAt[T], x, w, out []T) {
	if op.wrt == 0 {
		fc := &op.buf.filters
		fc.gen = op.work.wgen
		var xa []T // the input's LeakyReLU, whose derivative this op applies
		if op.inAct {
			xa = x
		}
		convInputGradAct(g, cw, gz, w, out, op.work.epoch, fc, xa, T(op.slope))
	} else {
		convWeightGrad(g, cw, x, gz, out, op.work.epoch)
	}
}

// dense2 returns two inputs as dense tensors.
func dense2(op fmt.Stringer, in []G.Value) (a, b *tensor.Dense, err error) {
	a, ok1 := in[0].(*tensor.Dense)
	b, ok2 := in[1].(*tensor.Dense)
	if !ok1 || !ok2 {
		return nil, nil, fmt.Errorf("%v: inputs are %T, %T, want *tensor.Dense", op, in[0], in[1])
	}
	return a, b, nil
}

func (op convGradOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op convGradOp) Hashcode() uint32      { return hashOp(op) }
func (op convGradOp) DiffWRT(int) []bool    { return []bool{false, false, false, false} }

func (op convGradOp) String() string {
	return fmt.Sprintf("LayerGrad%d(%v)", op.wrt, op.convOp.String())
}

func (op convGradOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("%v: second derivatives are not implemented", op)
}
