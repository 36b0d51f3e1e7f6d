package convnet

import (
	"unsafe"

	"github.com/ebmflow/ebmflow/sdk"
)

// energy returns F per sample.
func (m *mlp[T]) energy(x *sdk.Tensor) *sdk.Tensor {
	n := x.Batch()
	w := m.work(n)
	defer m.release(w)
	rows := m.load(w, n, x)
	parallel(chunks(rows), func(wi, t int) {
		r0, r1 := chunk(t, rows)
		m.forward(w, w.ws[wi], r0, r1)
	})
	return m.energies(w, x.DType, n)
}

// grad writes F per sample into f and dF/dx into dfdx (x's dtype; f of
// shape [n], dfdx of x's shape).
func (m *mlp[T]) grad(x, f, dfdx *sdk.Tensor) {
	n := x.Batch()
	w := m.work(n)
	defer m.release(w)
	rows := m.load(w, n, x)
	// dF/dy of the last hidden layer is its weight row, for every sample.
	last := len(m.layers) - 1
	h := m.layers[last].In
	if w.wgen != m.gen || len(w.wrep) < rows*h {
		w.wrep = grow(&w.wrep, w.rows*h)
		for r := 0; r < w.rows; r++ {
			copy(w.wrep[r*h:], m.wlast)
		}
		w.wgen = m.gen
	}
	parallel(chunks(rows), func(wi, t int) {
		k := w.ws[wi]
		r0, r1 := chunk(t, rows)
		m.forward(w, k, r0, r1)
		gz := w.g[last-1][r0*h : r1*h]
		m.actGrad(gz, w.wrep[r0*h:r1*h], w.y[last-1][r0*h:r1*h])
		m.inputGrad(w, k, r0, r1, last-1)
	})
	copy(dataOf[T](f), w.f[:n])
	in, ow := m.layers[0].In, m.outWidth()
	dv := dataOf[T](dfdx)
	for i := 0; i < n; i++ {
		copy(dv[i*in:(i+1)*in], w.dx[i*ow:])
	}
}

// load copies the n samples of x into w.x, zeroes the padding rows and
// returns the padded number of rows.
func (m *mlp[T]) load(w *mlpWork[T], n int, x *sdk.Tensor) int {
	in, rows := m.layers[0].In, roundUp(n, indMR)
	copy(w.x, dataOf[T](x))
	clear(w.x[n*in : rows*in])
	return rows
}

// energies returns F of the first n samples.
func (m *mlp[T]) energies(w *mlpWork[T], dt sdk.DType, n int) *sdk.Tensor {
	f := sdk.NewTensor(dt, n)
	copy(dataOf[T](f), w.f)
	return f
}

// dot writes out[i] = sum_j a[i*aw+j] * v[j] for rows i (a multiple of 4)
// with m.dots, on worker k.
func (m *mlp[T]) dot(k *mlpWorker[T], rows int, a []T, aw int, v, out []T) {
	bases := grow(&k.bases, rows)
	for i := range bases {
		bases[i] = int64(i * aw * 4)
	}
	m.dots(any(out[:rows]).([]float32), any(a).([]float32), bases, k.toff[:], any(v).([]float32), len(v))
}

// actGrad writes gz = g * act'(y) (gz may be g).
func (m *mlp[T]) actGrad(gz, g, y []T) {
	gradAt[T]{g: g, y: y, slope: T(m.slope64), act: true}.copyTo(gz, 0)
}

// dense computes c = a B (+ bias, then LeakyReLU if act) for rows rows of
// a (a multiple of 8), on worker k: a has rows of aw values, of which the
// first nc are the reduction; b holds nc x 32 panels, one per 32 columns of
// c, which has rows of cw values. bias nil starts from zero.
func (m *mlp[T]) dense(k *mlpWorker[T], rows int, a []T, aw, nc int, b, bias []T, act bool, c []T, cw int) {
	call := &k.call
	*call = indCall{toff: unsafe.Pointer(&k.toff[0]), nt: 1, nc: nc, init: indZero,
		slope: m.slope32, slope64: m.slope64}
	if act {
		call.act = 1
	}
	if bias != nil {
		call.init = indBias
	}
	_, _, _ = a[(rows-1)*aw+nc-1], c[rows*cw-1], b[cw*nc-1]
	for r0 := 0; r0 < rows; r0 += indMR {
		for r := 0; r < indMR; r++ {
			call.arow[r] = ptr(a, (r0+r)*aw)
		}
		for p := 0; p < cw/indNR; p++ {
			call.b = ptr(b, p*nc*indNR)
			if bias != nil {
				call.bias = ptr(bias, p*indNR)
			}
			for r := 0; r < indMR; r++ {
				call.crow[r] = ptr(c, (r0+r)*cw+p*indNR)
			}
			m.ind(call)
		}
	}
}

// forward runs the layers on samples [r0, r1) of w.x, leaving F in w.f.
func (m *mlp[T]) forward(w *mlpWork[T], k *mlpWorker[T], r0, r1 int) {
	in, inW := w.x[r0*m.layers[0].In:], m.layers[0].In
	last := len(m.layers) - 1
	for li, l := range m.layers[:last] {
		out, ow := w.y[li][r0*m.width(li):], m.width(li)
		m.dense(k, r1-r0, in, inW, l.In, m.fw[li], m.bias[li], true, out, ow)
		in, inW = out, ow
	}
	f := w.f[r0:r1]
	if m.dots != nil {
		m.dot(k, r1-r0, in, inW, m.wlast, f)
		b := m.bias[last][0]
		for i := range f {
			f[i] += b
		}
		return
	}
	ow := m.outWidth()
	out := w.out[r0*ow : r1*ow]
	m.dense(k, r1-r0, in, inW, m.layers[last].In, m.fw[last], m.bias[last], false, out, ow)
	for i := range f {
		f[i] = out[i*ow]
	}
}

// inputGrad propagates the gradient at the pre-activation of hidden layer
// li, in w.g[li], for samples [r0, r1), down to the net's input, which it
// leaves in w.dx (rows of outWidth() values, the first In of each used).
func (m *mlp[T]) inputGrad(w *mlpWork[T], k *mlpWorker[T], r0, r1, li int) {
	rows := r1 - r0
	for l := li; l >= 1; l-- {
		ly := m.layers[l]
		gz := w.g[l][r0*ly.Out : r1*ly.Out]
		next := w.g[l-1][r0*ly.In : r1*ly.In]
		m.dense(k, rows, gz, ly.Out, ly.Out, m.bw[l], nil, false, next, ly.In)
		m.actGrad(next, next, w.y[l-1][r0*ly.In:r1*ly.In])
	}
	l0, ow := m.layers[0], m.outWidth()
	gz, dx := w.g[0][r0*l0.Out:r1*l0.Out], w.dx[r0*ow:r1*ow]
	if m.dots == nil {
		m.dense(k, rows, gz, l0.Out, l0.Out, m.bw[0], nil, false, dx, ow)
		return
	}
	d := grow(&k.dout, rows)
	for c := 0; c < l0.In; c++ {
		m.dot(k, rows, gz, l0.Out, m.w0t[c*l0.Out:(c+1)*l0.Out], d)
		for i, v := range d {
			dx[i*ow+c] = v
		}
	}
}
