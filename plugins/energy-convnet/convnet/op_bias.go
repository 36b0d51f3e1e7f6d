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
// activation) over every axis but axis 1. A vector [N] counts as [N, 1].
type biasGradOp struct {
	dims  int
	dt    tensor.Dtype
	act   bool
	slope float64
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
	inner := s.TotalSize() / (s[0] * c)
	out := tensor.New(tensor.Of(g.Dtype()), tensor.WithShape(c))
	switch gs := g.Data().(type) {
	case []float32:
		sumBias(out.Data().([]float32), gradAt[float32]{gs, y.Data().([]float32), float32(op.slope), op.act}, c, inner)
	case []float64:
		sumBias(out.Data().([]float64), gradAt[float64]{gs, y.Data().([]float64), op.slope, op.act}, c, inner)
	default:
		return nil, fmt.Errorf("bias derivative: dtype %v not supported", g.Dtype())
	}
	return out, nil
}

// sumBias writes db[c] = sum of gz[n][c][k] over n and k, accumulating in
// float64 in four interleaved partial sums (k mod 4), added in a fixed order,
// so the loop is not bound by the latency of one chain of additions.
func sumBias[T float](db []T, gz gradAt[T], c, inner int) {
	acc := make([]float64, c)
	buf := make([]T, inner)
	for i := 0; i < len(gz.g); i += c * inner {
		for j := 0; j < c; j++ {
			v := buf
			gz.copyTo(v, i+j*inner)
			var s0, s1, s2, s3 float64
			k := 0
			for ; k+4 <= len(v); k += 4 {
				s0 += float64(v[k])
				s1 += float64(v[k+1])
				s2 += float64(v[k+2])
				s3 += float64(v[k+3])
			}
			for ; k < len(v); k++ {
				s0 += float64(v[k])
			}
			acc[j] += (s0 + s1) + (s2 + s3)
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
