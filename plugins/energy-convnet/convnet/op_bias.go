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
		cw := workFor[float32](op.work)
		sumBias(out.Data().([]float32), cw.cachedGZ(gz, op.work.epoch), c, cw)
	case []float64:
		gz := gradAt[float64]{gs, y.Data().([]float64), op.slope, op.act}
		cw := workFor[float64](op.work)
		sumBias(out.Data().([]float64), cw.cachedGZ(gz, op.work.epoch), c, cw)
	default:
		return nil, fmt.Errorf("bias derivative: dtype %v not supported", g.Dtype())
	}
	return out, nil
}

// sumBias writes db[c] = sum of gz[r][c] over the rows r (every position
// of every sample). The rows are cut into blocks of biasBlock, a partition
// fixed by the shape: each block is summed in T (AVX2 for float32), blocks
// in parallel, and the block sums are added in float64 in block order, so
// the result does not depend on the scheduling. gz's derivative, if any, is
// applied block by block.
func sumBias[T float](db []T, gz gradAt[T], c int, cw *convWork[T]) {
	rows := len(gz.g) / c
	nblk := (rows + biasBlock - 1) / biasBlock
	part := grow(&cw.biasPart, nblk*c)
	const perTask = 16 // blocks
	tasks := (nblk + perTask - 1) / perTask
	cw.workers(numWorkers(tasks), 0, biasBlock*c, 0)
	parallel(tasks, func(w, i int) {
		buf := cw.ws[w].acc
		for b := i * perTask; b < min(nblk, (i+1)*perTask); b++ {
			r0, r1 := b*biasBlock, min(rows, (b+1)*biasBlock)
			v := buf[:(r1-r0)*c]
			gz.copyTo(v, r0*c)
			sumRows(part[b*c:][:c], v, c)
		}
	})
	acc := grow(&cw.biasAcc, c)
	clear(acc)
	for b := 0; b < nblk; b++ {
		for j, v := range part[b*c:][:c] {
			acc[j] += float64(v)
		}
	}
	for j, v := range acc {
		db[j] = T(v)
	}
}

// biasBlock is the number of rows sumBias adds in T before float64.
const biasBlock = 64

// sumRows writes dst[j] = sum over the rows r of src[r*c+j].
func sumRows[T float](dst, src []T, c int) {
	if d, ok := any(dst).([]float32); ok && sumRowsF32(d, any(src).([]float32), c) {
		return
	}
	clear(dst)
	for r := 0; r < len(src)/c; r++ {
		for j, v := range src[r*c:][:c] {
			dst[j] += v
		}
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
