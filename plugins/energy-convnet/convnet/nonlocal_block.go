package convnet

import "unsafe"

// nlBlock is one non-local block of the nonlocal net on maps of s x s
// pixels (p = s*s positions, q = p/4 after pooling) with c channels and i
// inside. Its three 1x1 convolutions of the input, theta, phi and g, run as
// one convolution to 3i channels (wcat, rows theta | phi | g), whose output
// t3 holds, per position, theta, then phi, then g; phi and g are pooled
// together into pg (per pooled position: phi, then g). Per image:
//
//	att = softmax_rows(theta phi^T)   [p, q]
//	y   = att g                       [p, i]
//	z   = W y + bW + x                [p, c]   (1x1 convolution, residual)
type nlBlock[T float] struct {
	l0            int // index of the block's first layer (g.0) in the arch
	c, i, s, p, q int
	wcat, bcat    []T // theta, phi and g filters [3i, c] and biases [3i]
	gwcat, gbcat  []T // their gradients
	// filter caches of the concatenated and W convolutions
	fcCat, fcCatB, fcW, fcWB filterCache

	t3, pg, att, y, z []T // forward (per batch)
	pidx              []int32
	gy, gt3, gx       []T            // backward (per batch)
	ws                []*attnWork[T] // per worker
	// toff0 is the one tap of a product whose A rows are contiguous;
	// toffT the p taps that read a column of a p x q row-major matrix
	toff0, toffT []int64
}

// newNLBlock returns the block whose first layer is layers[l0].
func newNLBlock[T float](layers []layer, l0 int) *nlBlock[T] {
	lg := layers[l0+nlG]
	c, i, s := lg.In, lg.Out, lg.InSize
	b := &nlBlock[T]{l0: l0, c: c, i: i, s: s, p: s * s, q: s * s / 4}
	b.wcat, b.bcat = make([]T, 3*i*c), make([]T, 3*i)
	b.gwcat, b.gbcat = make([]T, 3*i*c), make([]T, 3*i)
	b.ws = make([]*attnWork[T], maxWorkers)
	for w := range b.ws {
		b.ws[w] = &attnWork[T]{ga: make([]T, b.p*b.q), gpg: make([]T, b.q*2*i)}
	}
	var z T
	b.toff0 = []int64{0}
	for t := 0; t < b.p; t++ {
		b.toffT = append(b.toffT, int64(t*b.q)*int64(unsafe.Sizeof(z)))
	}
	return b
}

// parts returns the layer indices of theta, phi and g, the order of the
// rows of wcat.
func (b *nlBlock[T]) parts() [3]int {
	return [3]int{b.l0 + nlTheta, b.l0 + nlPhi, b.l0 + nlG}
}

// pack concatenates the theta, phi and g filters and biases.
func (b *nlBlock[T]) pack(ps []param) {
	ic := b.i * b.c
	for k, l := range b.parts() {
		copy(b.wcat[k*ic:(k+1)*ic], ps[2*l].Value.Data().([]T))
		copy(b.bcat[k*b.i:(k+1)*b.i], ps[2*l+1].Value.Data().([]T))
	}
}

// size cuts the buffers for a batch of n.
func (b *nlBlock[T]) size(n int) {
	p, q, c, i := b.p, b.q, b.c, b.i
	b.t3, b.gt3 = grow(&b.t3, n*p*3*i), grow(&b.gt3, n*p*3*i)
	b.pg, b.pidx = grow(&b.pg, n*q*2*i), grow(&b.pidx, n*q*2*i)
	b.att = grow(&b.att, n*p*q)
	b.y, b.gy = grow(&b.y, n*p*i), grow(&b.gy, n*p*i)
	b.z, b.gx = grow(&b.z, n*p*c), grow(&b.gx, n*p*c)
}

// geoms returns the geometries of the concatenated and W convolutions.
func (b *nlBlock[T]) geoms(n int) (cat, w convGeom) {
	return newConvGeom(n, b.c, b.s, b.s, 3*b.i, 1, 1, 0), newConvGeom(n, b.i, b.s, b.s, b.c, 1, 1, 0)
}

// forward maps x (NHWC [n, s, s, c]) to the block's output b.z.
func (b *nlBlock[T]) forward(m *nonlocal[T], n int, x []T) []T {
	cat, wg := b.geoms(n)
	b.fcCat.gen, b.fcW.gen = m.wgen, m.wgen
	convForward(cat, m.cw, x, b.wcat, b.bcat, 0, false, b.t3, &b.fcCat)
	i3 := 3 * b.i
	parallel(n, func(w, k int) {
		maxPool2(b.t3, b.s, i3, b.i, 2*b.i, b.pg, b.pidx, k, k+1)
		b.attend(k, b.ws[w])
	})
	lw := b.l0 + nlW
	convForward(wg, m.cw, b.y, m.w(lw), m.b(lw), 0, false, b.z, &b.fcW)
	img := b.p * b.c
	perImages(n, func(n0, n1 int) {
		z, xs := b.z[n0*img:n1*img], x[n0*img:n1*img]
		for j, v := range xs {
			z[j] += v
		}
	})
	return b.z
}

// backward takes gz = dL/dz and returns dL/dx (b.gx), after forward on x;
// with weights set it writes the block's weight gradients into m.grads.
func (b *nlBlock[T]) backward(m *nonlocal[T], n int, x, gz []T, weights bool) []T {
	cat, wg := b.geoms(n)
	b.fcCatB.gen, b.fcWB.gen = m.wgen, m.wgen
	lw := b.l0 + nlW
	dz := gradAt[T]{g: gz}
	if weights {
		convWeightGrad(wg, m.cw, b.y, dz, m.gw(lw), 0)
		sumBias(m.gb(lw), dz, b.c, m.cw)
	}
	convInputGrad(wg, m.cw, dz, m.w(lw), b.gy, 0, &b.fcWB)
	parallel(n, func(w, k int) { b.attendGrad(k, b.ws[w]) })
	dt3 := gradAt[T]{g: b.gt3}
	if weights {
		convWeightGrad(cat, m.cw, x, dt3, b.gwcat, 0)
		sumBias(b.gbcat, dt3, 3*b.i, m.cw)
		ic := b.i * b.c
		for k, l := range b.parts() {
			copy(m.gw(l), b.gwcat[k*ic:(k+1)*ic])
			copy(m.gb(l), b.gbcat[k*b.i:(k+1)*b.i])
		}
	}
	convInputGrad(cat, m.cw, dt3, b.wcat, b.gx, 0, &b.fcCatB)
	img := b.p * b.c
	perImages(n, func(n0, n1 int) {
		gx, g := b.gx[n0*img:n1*img], gz[n0*img:n1*img]
		for j, v := range g {
			gx[j] += v
		}
	})
	return b.gx
}
