package convnet

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// convOp is one layer as a single gorgonia op: convolution (or linear map),
// bias and, unless it is the last layer, LeakyReLU:
//
//	y = act(conv(x, w) + b),   act(z) = z < 0 ? slope*z : z
//
// Inputs are x [N, C, H, W] (or [N, C] for a linear layer), w (OIHW or
// [O, C]) and b [O]; the output is [N, O, OH, OW], [N, O], or [N] for the
// layer that maps each sample to one value. Those are the shapes gorgonia
// sees; the data of a 4-D activation between two layers is laid out NHWC
// (channels innermost), which lets the kernels read it in place (see
// convForward). Only the net's input (nchw set) is NCHW, as the caller
// gives it. The output tensor and the
// kernels' packing buffers belong to the op and are reused by every run of
// the graph (a tape machine's Reset drops its registers, not these).
type convOp struct {
	l     layer
	act   bool
	slope float64
	dt    tensor.Dtype
	n     int  // batch size
	nchw  bool // x is the net's input, in NCHW
	// inAct says that x is the output of a LeakyReLU of the same slope
	// (the layer before): the input derivative then writes that layer's
	// gz = dL/dx * act'(x) rather than dL/dx. gzIn says that the gradient
	// this layer receives is such a gz already (the layer after applies
	// act'), so that its derivative ops do not apply act' again.
	inAct, gzIn bool
	buf         *opBuffers
	// work holds the kernels' packing buffers. It is shared by every op of
	// the plugin: ops run one at a time (graphs run under the plugin's
	// mutex, ops in tape order), so one set of the largest size suffices.
	work *opBuffers
}

// opBuffers is memory kept across runs: an op's output tensor, or the
// kernels' workspace (a *convWork[float32] or *convWork[float64]).
type opBuffers struct {
	out  *tensor.Dense
	work any
	// filters: the op's filters packed for its kernel (an op's own buffers)
	filters filterCache
	// wgen counts changes of the plugin's weights (in the workspace):
	// Configure starts it at 1, every Update and LoadState adds one.
	wgen uint64
	// epoch counts the runs of the plugin's graphs (in the workspace): what
	// the workspace derived from one run's tensors is not used in another.
	epoch uint64
}

// output returns the op's output tensor of the given shape, allocated once.
func (b *opBuffers) output(dt tensor.Dtype, shape tensor.Shape) *tensor.Dense {
	if b.out == nil || !b.out.Shape().Eq(shape) {
		if b.out == nil || b.out.Shape().TotalSize() != shape.TotalSize() {
			b.out = tensor.New(tensor.Of(dt), tensor.WithShape(shape.Clone()...))
		} else if err := b.out.Reshape(shape.Clone()...); err != nil {
			b.out = tensor.New(tensor.Of(dt), tensor.WithShape(shape.Clone()...))
		}
	}
	return b.out
}

// workFor returns the op's kernel workspace for T.
func workFor[T float](b *opBuffers) *convWork[T] {
	if w, ok := b.work.(*convWork[T]); ok {
		return w
	}
	w := &convWork[T]{}
	b.work = w
	return w
}

// newConvOp returns the op of layer l; first says that its input is the
// net's input (NCHW).
func newConvOp(l layer, first, act bool, slope float64, dt tensor.Dtype, n int, work *opBuffers) convOp {
	return convOp{l: l, act: act, slope: slope, dt: dt, n: n, nchw: first, buf: &opBuffers{}, work: work}
}

// geom returns the layer's convolution geometry for the op's batch.
func (op convOp) geom() convGeom {
	g := layerGeom(op.l, op.n)
	g.nchw = op.nchw
	return g
}

// layerGeom returns the geometry of a layer for a batch of n.
func layerGeom(l layer, n int) convGeom {
	if l.Kind == linearLayer {
		return newConvGeom(n, l.In, 1, 1, l.Out, 1, 1, 0)
	}
	return newConvGeom(n, l.In, l.InSize, l.InSize, l.Out, l.K, l.Stride, l.Pad)
}

// inShape and outShape are the op's input and output shapes.
func (op convOp) inShape() tensor.Shape {
	if op.l.Kind == linearLayer {
		return tensor.Shape{op.n, op.l.In}
	}
	return tensor.Shape{op.n, op.l.In, op.l.InSize, op.l.InSize}
}

func (op convOp) outShape() tensor.Shape {
	switch {
	case op.l.Out == 1 && (op.l.Kind == linearLayer || op.l.OutSize == 1):
		return tensor.Shape{op.n}
	case op.l.Kind == linearLayer:
		return tensor.Shape{op.n, op.l.Out}
	}
	return tensor.Shape{op.n, op.l.Out, op.l.OutSize, op.l.OutSize}
}

func (op convOp) Arity() int { return 3 }

func (op convOp) Type() hm.Type {
	return hm.NewFnType(
		G.TensorType{Dims: op.inShape().Dims(), Of: op.dt},
		G.TensorType{Dims: len(op.l.weightShape()), Of: op.dt},
		G.TensorType{Dims: 1, Of: op.dt},
		G.TensorType{Dims: op.outShape().Dims(), Of: op.dt})
}

func (op convOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if xs, ok := in[0].(tensor.Shape); !ok || !xs.Eq(op.inShape()) {
		return nil, fmt.Errorf("%v: input shape %v, want %v", op, in[0], op.inShape())
	}
	return op.outShape(), nil
}

func (op convOp) Do(in ...G.Value) (G.Value, error) {
	x, w, b, err := dense3(op, in)
	if err != nil {
		return nil, err
	}
	out := op.buf.output(op.dt, op.outShape())
	g := op.geom()
	fc := &op.buf.filters
	fc.gen = op.work.wgen
	switch xs := x.Data().(type) {
	case []float32:
		convForward(g, workFor[float32](op.work), xs, w.Data().([]float32), b.Data().([]float32), float32(op.slope), op.act, out.Data().([]float32), fc)
	case []float64:
		convForward(g, workFor[float64](op.work), xs, w.Data().([]float64), b.Data().([]float64), op.slope, op.act, out.Data().([]float64), fc)
	default:
		return nil, fmt.Errorf("%v: dtype %v not supported", op, x.Dtype())
	}
	return out, nil
}

func (op convOp) ReturnsPtr() bool      { return false }
func (op convOp) CallsExtern() bool     { return false }
func (op convOp) OverwritesInput() int  { return -1 }
func (op convOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op convOp) Hashcode() uint32      { return hashOp(op) }
func (op convOp) DiffWRT(int) []bool    { return []bool{true, true, true} }

func (op convOp) String() string {
	return fmt.Sprintf("Layer(%s,%v->%v,act=%v,%g,%v,nchw=%v)", op.l.Name, op.inShape(), op.outShape(), op.act, op.slope, op.dt, op.nchw)
}

// SymDiff returns the derivatives of a loss L with respect to x, w and b
// given dL/dy:
//
//	gz = dL/dy * act'(y)      act'(y) = y > 0 ? 1 : slope (as PyTorch)
//	dL/dx = conv^T(gz, w),  dL/dw = gz (*) x,  dL/db[o] = sum over n, y, x of gz
//
// gz is not a node of the graph: each derivative op reads dL/dy and y and
// writes gz into the plugin's shared workspace before its GEMM. Only the
// nodes a compiled program needs are run: Grad's program runs the input
// gradients, Update's the filter and bias gradients.
func (op convOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	gx, err := G.ApplyOp(convGradOp{convOp: op, wrt: 0, buf: &opBuffers{}}, grad, out, in[0], in[1])
	if err != nil {
		return nil, fmt.Errorf("%v: input derivative: %w", op, err)
	}
	gw, err := G.ApplyOp(convGradOp{convOp: op, wrt: 1, buf: &opBuffers{}}, grad, out, in[0], in[1])
	if err != nil {
		return nil, fmt.Errorf("%v: filter derivative: %w", op, err)
	}
	gb, err := G.ApplyOp(biasGradOp{dims: grad.Dims(), dt: op.dt, act: op.act && !op.gzIn, slope: op.slope, work: op.work}, grad, out)
	if err != nil {
		return nil, fmt.Errorf("%v: bias derivative: %w", op, err)
	}
	return G.Nodes{gx, gw, gb}, nil
}

// dense3 returns the three inputs of a layer op as dense tensors.
func dense3(op fmt.Stringer, in []G.Value) (a, b, c *tensor.Dense, err error) {
	var ok [3]bool
	a, ok[0] = in[0].(*tensor.Dense)
	b, ok[1] = in[1].(*tensor.Dense)
	c, ok[2] = in[2].(*tensor.Dense)
	if !ok[0] || !ok[1] || !ok[2] {
		return nil, nil, nil, fmt.Errorf("%v: inputs are %T, %T, %T, want *tensor.Dense", op, in[0], in[1], in[2])
	}
	return a, b, c, nil
}
