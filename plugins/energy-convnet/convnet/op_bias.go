package convnet

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// biasGradOp sums a [N, C, ...] tensor over every axis but axis 1: the
// derivative of a per-channel bias. A vector [N] counts as [N, 1].
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
	if !ok || len(s) < 1 {
		return nil, fmt.Errorf("bias derivative: input shape %v", in[0])
	}
	if len(s) == 1 {
		return tensor.Shape{1}, nil
	}
	return tensor.Shape{s[1]}, nil
}

func (op biasGradOp) Do(in ...G.Value) (G.Value, error) {
	g, ok := in[0].(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("bias derivative: input is %T, want *tensor.Dense", in[0])
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
		sumBias(out.Data().([]float32), gs, c, inner)
	case []float64:
		sumBias(out.Data().([]float64), gs, c, inner)
	default:
		return nil, fmt.Errorf("bias derivative: dtype %v not supported", g.Dtype())
	}
	return out, nil
}

// sumBias writes db[c] = sum of g[n][c][k] over n and k, accumulating in
// float64 in four interleaved partial sums (k mod 4), added in a fixed order,
// so the loop is not bound by the latency of one chain of additions.
func sumBias[T float32 | float64](db, g []T, c, inner int) {
	acc := make([]float64, c)
	for i := 0; i < len(g); i += c * inner {
		for j := 0; j < c; j++ {
			v := g[i+j*inner:][:inner]
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
func (op biasGradOp) String() string        { return fmt.Sprintf("BiasGrad(%dD,%v)", op.dims, op.dt) }
func (op biasGradOp) DiffWRT(int) []bool    { return []bool{false} }

func (op biasGradOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("bias derivative: second derivatives are not implemented")
}

// hashOp hashes an op's String form.
func hashOp(op fmt.Stringer) uint32 {
	h := fnv.New32a()
	fmt.Fprint(h, op.String())
	return h.Sum32()
}
