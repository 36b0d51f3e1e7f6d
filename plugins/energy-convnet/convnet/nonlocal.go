package convnet

import (
	"sync"

	"github.com/ebmflow/ebmflow/sdk"
	"gorgonia.org/tensor"
)

// nonlocal is the dedicated path of the nonlocal net (nonlocalArch): its
// forward pass, dF/dx and the update's weight gradients written out by
// hand, without a gorgonia graph. The convolutions and linear layers run
// the same kernels as the vanilla net's ops (convForward, convInputGrad,
// convWeightGrad, sumBias), on activations stored NHWC; max-pooling and the
// attention of the non-local blocks (nlBlock) are loops of their own.
//
// Calls are serialised by mu (the buffers are shared); pack and lossGrad
// run under the plugin's exclusive lock as well. Every task is a fixed set
// of images or of output elements, so results do not depend on the number
// of goroutines.
type nonlocal[T float] struct {
	mu     sync.Mutex
	layers []layer
	ps     []param
	slope  T
	nc, nf int
	cw     *convWork[T]
	wgen   uint64
	// fwd and bwd keep each layer's filters packed for the forward and
	// the input-gradient kernels
	fwd, bwd [nlCount]filterCache
	blocks   [2]*nlBlock[T]
	grads    []*tensor.Dense // weight gradients in parameter order

	n int // the batch size the buffers below were last cut for
	// activations: conv outputs a (after LeakyReLU), pooled maps h (with
	// the index of each maximum), fc.0's input flat (NCHW order) and
	// output a11, F per sample
	x                []T
	a0, a4, a8       []T
	h0, h4, h8       []T
	idx0, idx4, idx8 []int32
	flat, a11, f     []T
	// gradients, each reused once its value has been consumed
	coef, g11, gflat []T
	gh8              []T
	ga0, ga4, ga8    []T
	gz1, gz2         []T
	dx               []T
}

// newNonlocal returns the dedicated path of the nonlocal net a with
// parameters ps, whose tensors it keeps reading.
func newNonlocal(a arch, ps []param, slope float64, dt sdk.DType) directNet {
	if dt == sdk.Float64 {
		return newNonlocalT[float64](a, ps, slope)
	}
	return newNonlocalT[float32](a, ps, slope)
}

func newNonlocalT[T float](a arch, ps []param, slope float64) *nonlocal[T] {
	m := &nonlocal[T]{layers: a.Layers, ps: ps, slope: T(slope), nc: a.Input[0],
		nf: a.Layers[nlConv0].Out, cw: &convWork[T]{}, wgen: 1}
	for i, l0 := range []int{nlBlock1, nlBlock2} {
		m.blocks[i] = newNLBlock[T](a.Layers, l0)
	}
	for _, p := range ps {
		m.grads = append(m.grads, tensor.New(tensor.Of(p.Value.Dtype()), tensor.WithShape(p.Shape...)))
	}
	return m
}

// pack notes that the weights changed: the filter caches pack them again
// on their next use, and the blocks concatenate theta, phi and g afresh.
func (m *nonlocal[T]) pack() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.wgen++
	for _, b := range m.blocks {
		b.pack(m.ps)
	}
}

// w and b return layer l's weight and bias data.
func (m *nonlocal[T]) w(l int) []T { return m.ps[2*l].Value.Data().([]T) }
func (m *nonlocal[T]) b(l int) []T { return m.ps[2*l+1].Value.Data().([]T) }

// gw and gb return layer l's weight and bias gradient buffers.
func (m *nonlocal[T]) gw(l int) []T { return m.grads[2*l].Data().([]T) }
func (m *nonlocal[T]) gb(l int) []T { return m.grads[2*l+1].Data().([]T) }

// geom returns the geometry of layer l for a batch of n; the first layer
// reads the net's NCHW input.
func (m *nonlocal[T]) geom(l, n int) convGeom {
	g := layerGeom(m.layers[l], n)
	g.nchw = l == nlConv0
	return g
}

// cache returns a filter cache of layer l (forward or backward) with the
// current weight generation.
func (m *nonlocal[T]) cache(c *[nlCount]filterCache, l int) *filterCache {
	c[l].gen = m.wgen
	return &c[l]
}

// size cuts the buffers for a batch of n.
func (m *nonlocal[T]) size(n int) {
	m.n = n
	nf := m.nf
	m.x = grow(&m.x, n*m.nc*nlSize*nlSize)
	m.a0, m.ga0 = grow(&m.a0, n*1024*nf), grow(&m.ga0, n*1024*nf)
	m.h0, m.idx0 = grow(&m.h0, n*256*nf), grow(&m.idx0, n*256*nf)
	m.a4, m.ga4 = grow(&m.a4, n*256*2*nf), grow(&m.ga4, n*256*2*nf)
	m.h4, m.idx4 = grow(&m.h4, n*64*2*nf), grow(&m.idx4, n*64*2*nf)
	m.a8, m.ga8 = grow(&m.a8, n*64*4*nf), grow(&m.ga8, n*64*4*nf)
	m.h8, m.idx8, m.gh8 = grow(&m.h8, n*16*4*nf), grow(&m.idx8, n*16*4*nf), grow(&m.gh8, n*16*4*nf)
	m.flat, m.gflat = grow(&m.flat, n*16*4*nf), grow(&m.gflat, n*16*4*nf)
	m.a11, m.g11 = grow(&m.a11, n*8*nf), grow(&m.g11, n*8*nf)
	m.f, m.coef = grow(&m.f, n), grow(&m.coef, n)
	m.gz1, m.gz2 = grow(&m.gz1, n*256*nf), grow(&m.gz2, n*64*2*nf)
	m.dx = grow(&m.dx, n*m.nc*nlSize*nlSize)
	for _, b := range m.blocks {
		b.size(n)
	}
}

// nlChunk bounds the images one pass of Energy or Grad holds (the buffers
// grow with it): larger batches run in chunks of nlChunk. Images do not
// interact and each one's arithmetic does not depend on the others in its
// pass, so the chunking changes no bit.
const nlChunk = 256

// energy returns F per sample.
func (m *nonlocal[T]) energy(x *sdk.Tensor) *sdk.Tensor {
	f := sdk.NewTensor(x.DType, x.Batch())
	m.chunks(x, func(n, off int, xs []T) {
		copy(m.x, xs)
		m.forward(n)
		copy(dataOf[T](f)[off:], m.f)
	})
	return f
}

// grad writes F per sample into f and dF/dx into dfdx.
func (m *nonlocal[T]) grad(x, f, dfdx *sdk.Tensor) {
	per := len(dataOf[T](x)) / x.Batch()
	m.chunks(x, func(n, off int, xs []T) {
		copy(m.x, xs)
		m.forward(n)
		for i := range m.coef {
			m.coef[i] = 1
		}
		m.backward(n, false)
		copy(dataOf[T](f)[off:], m.f)
		copy(dataOf[T](dfdx)[off*per:], m.dx)
	})
}

// chunks runs fn, under m.mu, on the batch x in chunks of at most nlChunk
// images, with the buffers cut for each: n images from image off, whose
// data is xs.
func (m *nonlocal[T]) chunks(x *sdk.Tensor, fn func(n, off int, xs []T)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	xd := dataOf[T](x)
	per := len(xd) / x.Batch()
	for off := 0; off < x.Batch(); off += nlChunk {
		n := min(nlChunk, x.Batch()-off)
		m.size(n)
		fn(n, off, xd[off*per:(off+n)*per])
	}
}

// lossGrad returns F of [pos; neg] and the weight gradients of
// L = mean F(pos) - mean F(neg), the gradient of sum_i c_i F(x_i) with
// c_i = 1/n for the n positives and -1/m for the m negatives (rounded to
// T, as the graph path does).
func (m *nonlocal[T]) lossGrad(pos, neg *sdk.Tensor) ([]float64, []*tensor.Dense) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, nm := pos.Batch(), neg.Batch()
	m.size(n + nm)
	copy(m.x, dataOf[T](pos))
	copy(m.x[n*m.nc*nlSize*nlSize:], dataOf[T](neg))
	m.forward(n + nm)
	for i := range m.coef {
		m.coef[i] = T(coefficient(i, n, nm))
	}
	m.backward(n+nm, true)
	f := make([]float64, n+nm)
	for i, v := range m.f {
		f[i] = float64(v)
	}
	return f, m.grads
}
