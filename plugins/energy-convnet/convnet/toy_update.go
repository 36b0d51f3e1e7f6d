package convnet

import (
	"unsafe"

	"github.com/ebmflow/ebmflow/sdk"
	"gorgonia.org/tensor"
)

// lossGrad returns F of [pos; neg] and the weight gradients of
// L = mean F(pos) - mean F(neg): the gradient of sum_i c_i F(x_i) with
// c_i = 1/n for the n positives and -1/m for the m negatives (rounded to
// T, as the graph path does).
func (m *mlp[T]) lossGrad(pos, neg *sdk.Tensor) ([]float64, []*tensor.Dense) {
	n, nm := pos.Batch(), neg.Batch()
	nt := n + nm
	w := m.work(nt)
	defer m.release(w)
	in, aw := m.layers[0].In, roundUp(m.layers[0].In, indNR)
	copy(w.x, dataOf[T](pos))
	copy(w.x[n*in:], dataOf[T](neg))
	rows := roundUp(nt, indMR)
	clear(w.x[nt*in : rows*in])
	// The first layer's weight gradient reads the input 32 columns at a time.
	x32 := grow(&w.x32, rows*aw)
	parallel(chunks(rows), func(wi, t int) {
		r0, r1 := chunk(t, rows)
		m.forward(w, w.ws[wi], r0, r1)
		for i := r0; i < r1; i++ {
			row := x32[i*aw : (i+1)*aw]
			copy(row, w.x[i*in:(i+1)*in])
			clear(row[in:])
		}
	})
	f := make([]float64, nt)
	coef := grow(&w.coef, nt)
	for i := range f {
		f[i] = float64(w.f[i])
		coef[i] = T(coefficient(i, n, nm))
	}
	last := len(m.layers) - 1
	m.lastGrad(w, n, nt, rows)
	for l := last - 1; l >= 0; l-- {
		ly := m.layers[l]
		gz := w.g[l]
		bases := grow(&w.bases, nt)
		for i := range bases {
			bases[i] = ptr(gz, i*ly.Out)
		}
		a := x32
		if l > 0 {
			a = w.y[l-1]
		}
		// Weight-gradient tiles and, below the first layer, the gradient
		// at the layer below, per chunk of samples.
		tiles := ly.Out / indMR * (roundUp(ly.In, indNR) / indNR)
		down := 0
		if l > 0 {
			down = chunks(rows)
		}
		parallel(tiles+down, func(wi, t int) {
			k := w.ws[wi]
			if t < tiles {
				m.weightTile(k, l, t, bases, a)
				return
			}
			r0, r1 := chunk(t-tiles, rows)
			next := w.g[l-1][r0*ly.In : r1*ly.In]
			m.dense(k, r1-r0, gz[r0*ly.Out:r1*ly.Out], ly.Out, ly.Out, m.bw[l], nil, false, next, ly.In)
			m.actGrad(next, next, w.y[l-1][r0*ly.In:r1*ly.In])
		})
		m.biasGrad(w, l, nt)
	}
	return f, m.grads
}

// lastGrad writes the last layer's gradients, dL/dW = sum_i c_i y_i (the
// direct kernel over the samples, c_i read from column 0 of rows of 8) and
// dL/db = sum_i c_i (summed as biasGrad sums, which is how the graph path
// sums it), and the gradient at the last hidden layer's pre-activation,
// c_i W * act'(y_i), into w.g. The coefficients take two values, c_0 for
// the positives and c_nt-1 for the negatives.
func (m *mlp[T]) lastGrad(w *mlpWork[T], n, nt, rows int) {
	last := len(m.layers) - 1
	h := m.layers[last].In
	yh, gz := w.y[last-1], w.g[last-1][:rows*h]
	cpos, cneg := grow(&w.part, 2*h)[:h], w.part[h:2*h]
	for j, v := range m.wlast {
		cpos[j], cneg[j] = w.coef[0]*v, w.coef[nt-1]*v
	}
	c8 := grow(&w.c8, nt*indMR)
	clear(c8)
	bases := grow(&w.bases, nt)
	for i, c := range w.coef[:nt] {
		row := cpos
		if i >= n {
			row = cneg
		}
		copy(gz[i*h:(i+1)*h], row)
		c8[i*indMR] = c
		bases[i] = ptr(c8, i*indMR)
	}
	clear(gz[nt*h:])
	var z T
	size := int(unsafe.Sizeof(z))
	k := w.ws[0]
	for p := 0; p < h/indNR; p++ {
		k.wcall = wgCall{bases: unsafe.Pointer(&bases[0]), kc: nt, b: ptr(yh, p*indNR),
			bstride: h * size, c: unsafe.Pointer(&k.tile[0])}
		m.wg(&k.wcall)
		copy(m.gdata[2*last][p*indNR:(p+1)*indNR], k.tile[:indNR])
	}
	sumBlocks(m.gdata[2*last+1], w.coef[:nt], 1, w)
	m.actGrad(gz, gz, yh[:rows*h])
}

// weightTile writes tile t of dL/dW_l: dL/dW_l[o][c] = sum_i gz[i][o] a[i][c]
// for 8 units o (read from gz's rows through bases, one per sample) and 32
// inputs c (a's rows hold roundUp(In, 32) values), reduced over the samples
// in order by the direct kernel.
func (m *mlp[T]) weightTile(k *mlpWorker[T], l, t int, bases []unsafe.Pointer, a []T) {
	ly := m.layers[l]
	aw := roundUp(ly.In, indNR)
	np := aw / indNR
	ot, p := t/np, t%np
	var z T
	size := int(unsafe.Sizeof(z))
	_ = a[len(bases)*aw-1]
	k.wcall = wgCall{aoff: ot * indMR * size, bases: unsafe.Pointer(&bases[0]), kc: len(bases),
		b: ptr(a, p*indNR), bstride: aw * size, c: unsafe.Pointer(&k.tile[0])}
	m.wg(&k.wcall)
	gw := m.gdata[2*l]
	nc := min(indNR, ly.In-p*indNR)
	for r := 0; r < indMR; r++ {
		copy(gw[(ot*indMR+r)*ly.In+p*indNR:][:nc], k.tile[r*indNR:])
	}
}

// biasGrad writes dL/db_l[o] = sum_{i < nt} gz[i][o].
func (m *mlp[T]) biasGrad(w *mlpWork[T], l, nt int) {
	c := m.layers[l].Out
	sumBlocks(m.gdata[2*l+1], w.g[l][:nt*c], c, w)
}

// sumBlocks writes db[j] = sum of the rows of src (c values each) as
// sumBias does: blocks of biasBlock rows summed in T, the block sums added
// in float64 and rounded to T.
func sumBlocks[T float](db, src []T, c int, w *mlpWork[T]) {
	part := grow(&w.part, c)
	acc := grow(&w.acc, c)
	clear(acc)
	rows := len(src) / c
	for r0 := 0; r0 < rows; r0 += biasBlock {
		r1 := min(rows, r0+biasBlock)
		sumRows(part, src[r0*c:r1*c], c)
		for j, v := range part {
			acc[j] += float64(v)
		}
	}
	for j, v := range acc {
		db[j] = T(v)
	}
}
