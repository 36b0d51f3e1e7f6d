package convnet

// The nonlocal net's passes over a batch of n images in m.x (NCHW).

// imageTasks is the number of images per task of the element-wise passes
// (pooling, layout changes).
const imageTasks = 4

// perImages runs fn on groups of imageTasks images of a batch of n, in
// parallel.
func perImages(n int, fn func(n0, n1 int)) {
	parallel((n+imageTasks-1)/imageTasks, func(_, t int) {
		fn(t*imageTasks, min(n, (t+1)*imageTasks))
	})
}

// forward computes every activation and F per sample (m.f).
func (m *nonlocal[T]) forward(n int) {
	nf, cw, sl := m.nf, m.cw, m.slope
	conv := func(l int, x, y []T, act bool) {
		convForward(m.geom(l, n), cw, x, m.w(l), m.b(l), sl, act, y, m.cache(&m.fwd, l))
	}
	conv(nlConv0, m.x, m.a0, true)
	perImages(n, func(n0, n1 int) { maxPool2(m.a0, 32, nf, 0, nf, m.h0, m.idx0, n0, n1) })
	z1 := m.blocks[0].forward(m, n, m.h0)
	conv(nlConv4, z1, m.a4, true)
	perImages(n, func(n0, n1 int) { maxPool2(m.a4, 16, 2*nf, 0, 2*nf, m.h4, m.idx4, n0, n1) })
	z2 := m.blocks[1].forward(m, n, m.h4)
	conv(nlConv8, z2, m.a8, true)
	perImages(n, func(n0, n1 int) {
		maxPool2(m.a8, 8, 4*nf, 0, 4*nf, m.h8, m.idx8, n0, n1)
		toNCHW(m.flat, m.h8, nlFlat, 4*nf, n0, n1)
	})
	conv(nlFC0, m.flat, m.a11, true)
	conv(nlFC2, m.a11, m.f, false)
}

// backward propagates the coefficients m.coef (dL/dF per sample) back
// through the net after forward: with weights set it writes the weight
// gradients into m.grads, else dL/dx into m.dx.
func (m *nonlocal[T]) backward(n int, weights bool) {
	nf, cw, sl := m.nf, m.cw, m.slope
	// inGrad writes dL/dx of layer l from gz = dL/dz at its pre-activation;
	// wGrad its weight and bias gradients from its input x.
	inGrad := func(l int, gz, gx []T) {
		convInputGrad(m.geom(l, n), cw, gradAt[T]{g: gz}, m.w(l), gx, 0, m.cache(&m.bwd, l))
	}
	wGrad := func(l int, x, gz []T) {
		if weights {
			convWeightGrad(m.geom(l, n), cw, x, gradAt[T]{g: gz}, m.gw(l), 0)
			sumBias(m.gb(l), gradAt[T]{g: gz}, m.layers[l].Out, cw)
		}
	}
	// fc.2 and fc.0
	wGrad(nlFC2, m.a11, m.coef)
	inGrad(nlFC2, m.coef, m.g11)
	gradAt[T]{g: m.g11, y: m.a11, slope: sl, act: true}.copyTo(m.g11, 0)
	wGrad(nlFC0, m.flat, m.g11)
	inGrad(nlFC0, m.g11, m.gflat)
	// convs.8 and its pooling
	perImages(n, func(n0, n1 int) {
		fromNCHW(m.gh8, m.gflat, nlFlat, 4*nf, n0, n1)
		unpoolAct(m.ga8, m.gh8, m.idx8, m.a8, sl, 8, 4*nf, n0, n1)
	})
	b2 := m.blocks[1]
	wGrad(nlConv8, b2.z, m.ga8)
	inGrad(nlConv8, m.ga8, m.gz2)
	gh4 := b2.backward(m, n, m.h4, m.gz2, weights)
	// convs.4
	perImages(n, func(n0, n1 int) {
		unpoolAct(m.ga4, gh4, m.idx4, m.a4, sl, 16, 2*nf, n0, n1)
	})
	b1 := m.blocks[0]
	wGrad(nlConv4, b1.z, m.ga4)
	inGrad(nlConv4, m.ga4, m.gz1)
	gh0 := b1.backward(m, n, m.h0, m.gz1, weights)
	// convs.0
	perImages(n, func(n0, n1 int) {
		unpoolAct(m.ga0, gh0, m.idx0, m.a0, sl, 32, nf, n0, n1)
	})
	if weights {
		wGrad(nlConv0, m.x, m.ga0)
		return
	}
	inGrad(nlConv0, m.ga0, m.dx)
}
