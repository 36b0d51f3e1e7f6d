package convnet

import (
	"sync"
	"unsafe"

	"github.com/ebmflow/ebmflow/sdk"
	"gorgonia.org/tensor"
)

// directNet is a dedicated path: Energy, Grad and the update's loss
// gradient without a gorgonia graph, for the toy MLP (see mlp) and the
// nonlocal net (see nonlocal). Energy and grad may run
// concurrently; pack and lossGrad need the plugin's lock held exclusively.
type directNet interface {
	// pack copies the parameters into the kernels' layouts; called
	// whenever they change (Plugin.weightsChanged).
	pack()
	// energy returns F per sample, and grad writes F and dF/dx into f
	// and dfdx, for a checked batch.
	energy(x *sdk.Tensor) *sdk.Tensor
	grad(x, f, dfdx *sdk.Tensor)
	// lossGrad returns F per sample of [pos; neg] and the weight gradients
	// of mean F(pos) - mean F(neg), in parameter order; the gradients are
	// the net's buffers, valid until the next call.
	lossGrad(pos, neg *sdk.Tensor) ([]float64, []*tensor.Dense)
}

// newToyNet returns the dedicated path for a with parameters ps (whose
// tensors it keeps reading), or nil when a is not an MLP it handles: linear
// layers only, at most 32 inputs, one output, hidden widths multiples of 32.
func newToyNet(a arch, ps []param, slope float64, dt sdk.DType) directNet {
	ls := a.Layers
	if len(ls) < 2 || ls[len(ls)-1].Out != 1 || ls[0].In > indNR {
		return nil
	}
	for i, l := range ls {
		if l.Kind != linearLayer || (i+1 < len(ls) && l.Out%indNR != 0) {
			return nil
		}
	}
	if dt == sdk.Float64 {
		return newMLP[float64](ls, ps, slope, indGo[float64], wgGo[float64])
	}
	m := newMLP[float32](ls, ps, slope, kernelF32.ind, kernelF32.wg)
	if ls[0].Out%16 == 0 && ls[len(ls)-1].In%16 == 0 {
		m.dots = kernelF32.first
	}
	return m
}

// mlp runs an MLP whose layers are y = LeakyReLU(x W^T + b), the last
// without activation and with one output, on the indirect micro-kernel
// (indCall), one 8-sample x 32-unit tile per call, with bias and LeakyReLU
// applied in registers. Activations are stored sample-major, one row of
// units per sample, so each layer reads the previous one in place:
//
//	forward      y_l = act(y_{l-1} W_l^T + b_l)    B = W_l^T in panels of 32 units
//	dF/dx        g_{l-1} = gz_l W_l                 B = W_l in panels of 32 inputs
//	             gz_l = g_l * act'(y_l)             (gradAt.copyTo, AVX2)
//	dL/dW_l      gz_l^T y_{l-1}                     direct kernel (wgCall), over samples
//
// pack copies the weights into these panels. A call uses one workspace
// (mlpWork) taken from a free list, so concurrent calls never share buffers.
// The per-sample passes run in tasks of mlpChunk samples (one task, on the
// calling goroutine, up to that batch), and a sample's arithmetic does not
// depend on the task it is in; each weight-gradient tile is reduced over
// all samples, in order, by one task. So results are bit-identical whatever
// the number of goroutines and the batch's split.
type mlp[T float] struct {
	layers  []layer
	slope32 float32
	slope64 float64
	ind     func(*indCall)
	wg      func(*wgCall)
	// dots, if not nil (float32 with AVX-512), computes the last layer and
	// dF/dx from the first layer's gradient as dot products, 4 samples at
	// a time (firstGradAVX512), instead of 1 useful column of 32.
	dots func(out, a []float32, bases, toff []int64, w []float32, o int)

	// fw[l]: ceil(Out/32) panels of In rows of 32 units, W_l^T, zero
	// past Out; bias[l]: b_l, zero past Out; bw[l]: the panels of W_l,
	// In/32 (rounded up) panels of Out rows of 32 inputs, zero past In;
	// wlast: the last layer's weights (dF/dy of the last hidden layer).
	fw, bw, bias [][]T
	wlast        []T
	w0t          []T    // the first layer's weights transposed, In x Out
	params       [][]T  // the parameters' data, in parameter order
	gen          uint64 // packs done, so workspaces refresh what they derive

	mu   sync.Mutex    // guards free
	free []*mlpWork[T] // idle workspaces

	grads []*tensor.Dense // lossGrad's weight gradients, parameter order
	gdata [][]T           // their data
}

// mlpChunk is the number of samples per task of the per-sample passes, a
// multiple of 8.
const mlpChunk = 128

// mlpWork is one call's buffers, grown to the largest batch seen. Rows
// past the batch (up to a multiple of 8) are computed and ignored.
type mlpWork[T float] struct {
	rows  int    // samples (rounded up to 8) the buffers hold
	x     []T    // the input, rows x In of the first layer, zero padded
	y     [][]T  // y[l]: layer l's output, rows x width(l)
	g     [][]T  // g[l]: dL/dz of hidden layer l, rows x Out
	out   []T    // rows x outWidth(): the last layer's tiles (F in column 0)
	f     []T    // F per sample
	dx    []T    // rows x outWidth(): dF/dx's tiles
	wrep  []T    // rows copies of wlast (Grad's dF/dy of the last hidden layer)
	wgen  uint64 // the pack wrep was made from
	x32   []T    // lossGrad: the input padded to a multiple of 32 columns
	bases []unsafe.Pointer
	coef  []T // lossGrad's coefficients
	c8    []T // the coefficients in column 0 of rows of 8
	part  []T
	acc   []float64
	ws    []*mlpWorker[T]
}

// mlpWorker is one goroutine's kernel arguments and tile (kept here so that
// a call does not allocate them).
type mlpWorker[T float] struct {
	call  indCall
	wcall wgCall
	toff  [1]int64
	tile  [indMR * indNR]T
	bases []int64 // dots: the byte offset of each sample's row
	dout  []T     // dots: one value per sample
}

func newMLP[T float](ls []layer, ps []param, slope float64, ind func(*indCall), wg func(*wgCall)) *mlp[T] {
	m := &mlp[T]{layers: ls, slope32: float32(slope), slope64: slope, ind: ind, wg: wg}
	for _, q := range ps {
		m.params = append(m.params, q.Value.Data().([]T))
	}
	for _, l := range ls {
		m.fw = append(m.fw, make([]T, roundUp(l.Out, indNR)*l.In))
		m.bw = append(m.bw, make([]T, roundUp(l.In, indNR)*l.Out))
		m.bias = append(m.bias, make([]T, roundUp(l.Out, indNR)))
		gw, gb := make([]T, l.numParams()-l.Out), make([]T, l.Out)
		m.gdata = append(m.gdata, gw, gb)
		m.grads = append(m.grads, tensor.New(tensor.WithShape(l.weightShape()...), tensor.WithBacking(gw)),
			tensor.New(tensor.WithShape(l.Out), tensor.WithBacking(gb)))
	}
	m.wlast = make([]T, ls[len(ls)-1].In)
	m.w0t = make([]T, ls[0].In*ls[0].Out)
	return m
}

// pack copies the weights and biases into the panels.
func (m *mlp[T]) pack() {
	for li, l := range m.layers {
		w := m.params[2*li]
		fw, bw := m.fw[li], m.bw[li]
		clear(fw)
		clear(bw)
		for o := 0; o < l.Out; o++ {
			p, j := o/indNR, o%indNR
			for c := 0; c < l.In; c++ {
				fw[(p*l.In+c)*indNR+j] = w[o*l.In+c]
				bw[((c/indNR)*l.Out+o)*indNR+c%indNR] = w[o*l.In+c]
			}
		}
		clear(m.bias[li])
		copy(m.bias[li], m.params[2*li+1])
	}
	copy(m.wlast, m.params[len(m.params)-2])
	l0 := m.layers[0]
	for o := 0; o < l0.Out; o++ {
		for c := 0; c < l0.In; c++ {
			m.w0t[c*l0.Out+o] = m.params[0][o*l0.In+c]
		}
	}
	m.gen++
}

// width returns the row length of layer l's output buffer.
func (m *mlp[T]) width(l int) int { return roundUp(m.layers[l].Out, indNR) }

// outWidth returns the row length of w.out and w.dx.
func (m *mlp[T]) outWidth() int { return max(indNR, roundUp(m.layers[0].In, indNR)) }

// work takes an idle workspace (or a new one) sized for n samples, with a
// worker for every goroutine the passes may use.
func (m *mlp[T]) work(n int) *mlpWork[T] {
	m.mu.Lock()
	var w *mlpWork[T]
	if k := len(m.free); k > 0 {
		w, m.free = m.free[k-1], m.free[:k-1]
	}
	m.mu.Unlock()
	if w == nil {
		w = &mlpWork[T]{y: make([][]T, len(m.layers)), g: make([][]T, len(m.layers)-1)}
	}
	rows := roundUp(n, indMR)
	if rows > w.rows {
		w.rows = rows
		w.x = make([]T, rows*m.layers[0].In)
		for l := range m.layers {
			w.y[l] = make([]T, rows*m.width(l))
		}
		for l := range w.g {
			w.g[l] = make([]T, rows*m.layers[l].Out)
		}
		w.out = make([]T, rows*m.outWidth())
		w.f = make([]T, rows)
		w.dx = make([]T, rows*m.outWidth())
		w.wrep, w.wgen = nil, 0
	}
	for len(w.ws) < maxWorkers {
		w.ws = append(w.ws, &mlpWorker[T]{})
	}
	return w
}

// release returns a workspace to the free list.
func (m *mlp[T]) release(w *mlpWork[T]) {
	m.mu.Lock()
	m.free = append(m.free, w)
	m.mu.Unlock()
}

// chunks returns the number of tasks of mlpChunk samples for rows samples.
func chunks(rows int) int { return (rows + mlpChunk - 1) / mlpChunk }

// chunk returns the samples of task t.
func chunk(t, rows int) (r0, r1 int) { return t * mlpChunk, min(rows, (t+1)*mlpChunk) }

// dataOf returns the data of an sdk tensor of T.
func dataOf[T float](t *sdk.Tensor) []T {
	var z T
	if _, ok := any(z).(float32); ok {
		return any(t.F32).([]T)
	}
	return any(t.F64).([]T)
}
