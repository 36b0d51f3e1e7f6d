package convnet

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// biasGradOp is the derivative of a per-channel bias: from dL/dy and y of
// shape [N, C, ...] it sums gz = dL/dz (see gradAt; gz = dL/dy without
// activation) over every axis but axis 1, the channels. The data is laid
// out with the channels innermost (NHWC, see convOp). A vector [N] counts
// as [N, 1].
type biasGradOp struct {
	dims  int
	dt    tensor.Dtype
	act   bool
	slope float64
	work  *opBuffers // the layer's workspace, where gz may already be
}

func (op biasGradOp) Arity() int { return 2 }

func (op biasGradOp) Type() hm.Type {
	t := G.TensorType{Dims: op.dims, Of: op.dt}
	return hm.NewFnType(t, t, G.TensorType{Dims: 1, Of: op.dt})
}

func (op biasGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok || len(s) < 1 {
		return nil, fmt.Errorf("bias derivative: input shape %v", in[0])
	}
	if len(s) == 1 {
		return tensor.Shape{1}, nil
	}
	return tensor.Shape{s[1]}, nil
}

func (op biasGradOp) Do(in ...G.Value) (G.Value, error) {
	g, y, err := dense2(op, in)
	if err != nil {
		return nil, err
	}
	s := g.Shape()
	c := 1
	if len(s) > 1 {
		c = s[1]
	}
	out := tensor.New(tensor.Of(g.Dtype()), tensor.WithShape(c))
	switch gs := g.Data().(type) {
	case []float32:
		gz := gradAt[float32]{gs, y.Data().([]float32), float32(op.slope), op.act}
		sumBias(out.Data().([]float32), workFor[float32](op.work).cachedGZ(gz, op.work.epoch), c)
	case []float64:
		gz := gradAt[float64]{gs, y.Data().([]float64), op.slope, op.act}
		sumBias(out.Data().([]float64), workFor[float64](op.work).cachedGZ(gz, op.work.epoch), c)
	default:
		return nil, fmt.Errorf("bias derivative: dtype %v not supported", g.Dtype())
	}
	return out, nil
}

// sumBias writes db[c] = sum of gz[r][c] over the rows r (every position
// of every sample), accumulating in float64, rows in order.
func sumBias[T float](db []T, gz gradAt[T], c int) {
	acc := make([]float64, c)
	rows := max(1, 4096/c)
	buf := make([]T, rows*c)
	for i := 0; i < len(gz.g); i += len(buf) {
		v := buf[:min(len(buf), len(gz.g)-i)]
		gz.copyTo(v, i)
		for len(v) > 0 {
			for j, x := range v[:c] {
				acc[j] += float64(x)
			}
			v = v[c:]
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
func (op biasGradOp) String() string {
	return fmt.Sprintf("BiasGrad(%dD,%v,act=%v,%g)", op.dims, op.dt, op.act, op.slope)
}
func (op biasGradOp) DiffWRT(int) []bool { return []bool{false, false} }

func (op biasGradOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("bias derivative: second derivatives are not implemented")
}

// hashOp hashes an op's String form.
func hashOp(op fmt.Stringer) uint32 {
	h := fnv.New32a()
	fmt.Fprint(h, op.String())
	return h.Sum32()
}
