package convnet

import (
	"math"
	"unsafe"
)

// convGeom is one convolution: n images of c x h x w, o filters of
// c x k x k (OIHW), stride s, zero padding p on every side, output
// n x o x oh x ow. Activations are stored NHWC (channels innermost): the
// output always, the input too unless nchw is set (the net's input, which
// arrives NCHW; its gradient is written NCHW as well). A linear layer is the
// 1x1 convolution of a 1x1 map, for which both layouts coincide.
type convGeom struct {
	n, c, h, w int
	o, k, s, p int
	oh, ow     int
	nchw       bool
}

// newConvGeom fills in the output size (in+2p-k)/s + 1.
func newConvGeom(n, c, h, w, o, k, s, p int) convGeom {
	return convGeom{n: n, c: c, h: h, w: w, o: o, k: k, s: s, p: p,
		oh: (h+2*p-k)/s + 1, ow: (w+2*p-k)/s + 1}
}

// kd is the length of one filter, c*k*k; q the output positions per image.
func (g convGeom) kd() int { return g.c * g.k * g.k }
func (g convGeom) q() int  { return g.oh * g.ow }

// hp and wp are the height and width of the zero-padded input.
func (g convGeom) hp() int { return g.h + 2*g.p }
func (g convGeom) wp() int { return g.w + 2*g.p }

// padded says whether the kernels read a padded NHWC copy of the input
// rather than the input itself.
func (g convGeom) padded() bool { return g.p > 0 || (g.nchw && g.c > 1) }

// chunk returns the images per task of the forward and input-gradient
// passes: enough for about 64 output positions. It depends on the shape
// only, so the work partition, and with it every rounding, is the same
// whatever the number of goroutines and their scheduling.
func (g convGeom) chunk() int { return max(1, 64/g.q()) }

// tasks returns the number of image groups of chunk images.
func (g convGeom) tasks() int { return (g.n + g.chunk() - 1) / g.chunk() }

// images returns the images of task i.
func (g convGeom) images(i int) (n0, n1 int) {
	return i * g.chunk(), min(g.n, (i+1)*g.chunk())
}

// convWork holds the buffers of the convolution ops across calls. It is
// shared by the ops of a plugin, which run one at a time.
type convWork[T float] struct {
	cacc     []T // the filter gradient's C blocks, one per task
	gz       []T // gz = dL/dz of the current derivative op
	gzOf     gzKey
	xp       []T // padded NHWC input of the whole batch (filter gradient)
	wpack    []T // filters packed for the indirect kernel
	toff     []int64
	colOff   []int
	zeros    []T
	biasPart []T          // sumBias: the sum of each block of rows
	biasAcc  []float64    // sumBias: the total
	wfirst   []float32    // inputGradFirst's filters, tap-major
	firstTap []int        // convInputGrad: the first tap reaching each input row and column
	orders   []*tileOrder // tile orders of the geometries and task sizes seen (tiles.go)
	ws       []*convWorker[T]
}

// gzKey identifies the gz in convWork: the run of the graph and the dL/dy
// and y it was computed from.
type gzKey struct {
	epoch uint64
	g, y  unsafe.Pointer
	n     int
}

// convWorker is one goroutine's scratch.
type convWorker[T float] struct {
	rows  []int            // offset of each output position's top-left input pixel
	pad   []T              // the task's images, padded (forward, input gradient)
	ptrs  []unsafe.Pointer // the pixel each position reads (filter gradient)
	bases []int64          // pixel offsets in the padded gz (inputGradFirst)
	apack []T              // the packed filter gradient's A, the task's rows
	pn    []int            // position pixels of a super-block (filter gradient)
	irows []inRow          // the input gradient's tile rows
	acc   []T              // positions x 32 results when the output is not written in place
	bbuf  []T              // the filter gradient's packed B panel
	dummy [indNR]T         // the output row of tile rows past the last position
	// the kernels' arguments, kept here so that a task does not allocate
	// them (a struct passed by pointer to a function value escapes)
	ind indCall
	wg  wgCall
}

// inRow is a tile row of the input gradient: its gz row, the offset of
// its image in dL/dx and the input pixel (iy, ix) of its tap (0, 0).
type inRow struct {
	a           unsafe.Pointer
	img, iy, ix int
}

// newCall returns the worker's indirect-kernel arguments, cleared.
func (w *convWorker[T]) newCall() *indCall {
	w.ind = indCall{}
	return &w.ind
}

// grow returns (*s)[:n], reallocated when too short.
func grow[T any](s *[]T, n int) []T {
	if cap(*s) < n {
		*s = make([]T, n)
	}
	return (*s)[:n]
}

// workers sizes the scratch of nw workers before they start, so that they
// never allocate concurrently: rows for np positions, acc for nacc values,
// and nb values of packed GEMM panel.
func (cw *convWork[T]) workers(nw, np, nacc, nb int) {
	for len(cw.ws) < nw {
		cw.ws = append(cw.ws, &convWorker[T]{})
	}
	for _, w := range cw.ws[:nw] {
		grow(&w.rows, np)
		grow(&w.acc, nacc)
		grow(&w.bbuf, nb)
	}
}

// filterCache keeps an op's filters packed for its kernel across calls:
// they change only when the plugin's weights do. The op sets gen to the
// plugin's weight generation before each call; the packing is reused while
// gen and the filter tensor are those it was made from.
type filterCache struct {
	gen  uint64 // the current weight generation, set by the op
	made uint64 // the generation the packing was made at
	p    unsafe.Pointer
	n    int
	buf  any // []T
}

// packedFilters returns a buffer of n values for the packed filters of wt
// and fresh = 1 if the caller must fill it, 0 if it holds them already.
// Without a cache (fc nil) it is the workspace's buffer, always to fill.
func packedFilters[T float](cw *convWork[T], fc *filterCache, wt []T, n int) ([]T, int) {
	if fc == nil {
		return grow(&cw.wpack, n), 1
	}
	key := unsafe.Pointer(&wt[0])
	buf, ok := fc.buf.([]T)
	if ok && len(buf) == n && fc.made == fc.gen && fc.p == key && fc.n == len(wt) {
		return buf, 0
	}
	if !ok || len(buf) != n {
		buf = make([]T, n)
		fc.buf = buf
	}
	fc.made, fc.p, fc.n = fc.gen, key, len(wt)
	return buf, 1
}

// padBuffers sizes every worker's pad to the padded images of one task.
func (cw *convWork[T]) padBuffers(nw int, g convGeom) {
	if !g.padded() {
		return
	}
	for _, w := range cw.ws[:nw] {
		w.pad = grow(&w.pad, g.chunk()*g.hp()*g.wp()*g.c)
	}
}

// materialize writes gz into cw.gz, one group of chunk samples per task,
// and returns it as a plain gradient. The three derivative ops of a layer
// need the same gz: within one run of a graph (epoch), it is computed once.
// Epoch 0 stands for no graph run: gz is computed and not remembered.
func (cw *convWork[T]) materialize(gz gradAt[T], n, chunk int, epoch uint64) gradAt[T] {
	plain, fill, done := cw.gzPlan(gz, epoch)
	if fill == nil {
		return plain
	}
	per := len(gz.g) / n
	parallel((n+chunk-1)/chunk, func(_, i int) {
		fill(i*chunk*per, min(n, (i+1)*chunk)*per)
	})
	done()
	return plain
}

// cachedGZ returns gz plain when it was computed in this epoch, else gz
// as it is (the caller applies the derivative as it reads).
func (cw *convWork[T]) cachedGZ(gz gradAt[T], epoch uint64) gradAt[T] {
	if gz.act && epoch != 0 && cw.gzOf == keyOf(gz, epoch) {
		return gradAt[T]{g: cw.gz[:len(gz.g)]}
	}
	return gz
}

// keyOf returns the key of gz (with act set) in the given epoch.
func keyOf[T float](gz gradAt[T], epoch uint64) gzKey {
	return gzKey{epoch, unsafe.Pointer(&gz.g[0]), unsafe.Pointer(&gz.y[0]), len(gz.g)}
}

// gzPlan is materialize in parts: it returns gz as a plain gradient and,
// unless gz is plain already or was computed in this epoch, fill(a, b),
// which computes its elements [a, b), and done, to be called when every
// element has been filled.
func (cw *convWork[T]) gzPlan(gz gradAt[T], epoch uint64) (plain gradAt[T], fill func(a, b int), done func()) {
	if !gz.act {
		return gz, nil, nil
	}
	key := keyOf(gz, epoch)
	if epoch != 0 && cw.gzOf == key {
		return gradAt[T]{g: cw.gz[:len(gz.g)]}, nil, nil
	}
	cw.gzOf = gzKey{}
	buf := grow(&cw.gz, len(gz.g))
	fill = func(a, b int) { gz.copyTo(buf[a:b], a) }
	done = func() {
		if epoch != 0 {
			cw.gzOf = key
		}
	}
	return gradAt[T]{g: buf}, fill, done
}

// tapOffsets returns, for every filter tap t = ky*k + kx, the byte offset
// of the input pixel it reads from the top-left pixel of the padded NHWC
// input, in cw.toff.
func (cw *convWork[T]) tapOffsets(g convGeom) []int64 {
	var z T
	size := int64(unsafe.Sizeof(z))
	t := grow(&cw.toff, g.k*g.k)
	for ky := 0; ky < g.k; ky++ {
		for kx := 0; kx < g.k; kx++ {
			t[ky*g.k+kx] = int64((ky*g.wp()+kx)*g.c) * size
		}
	}
	return t
}

// colOffsets returns, for every column (t, c) of the im2col matrix (filter
// tap t, input channel c), the offset of the element it reads from the
// top-left pixel of an output position in the padded input, in elements.
func (cw *convWork[T]) colOffsets(g convGeom) []int {
	co := grow(&cw.colOff, g.kd())
	for t := 0; t < g.k*g.k; t++ {
		ky, kx := t/g.k, t%g.k
		for c := 0; c < g.c; c++ {
			co[t*g.c+c] = (ky*g.wp()+kx)*g.c + c
		}
	}
	return co
}

// padImages writes images [n0, n1) of x into xp, from its start, NHWC
// with p rows and columns of zeros around each image.
func padImages[T float](g convGeom, xp, x []T, n0, n1 int) {
	wp, c := g.wp(), g.c
	img := g.hp() * wp * c
	for n := n0; n < n1; n++ {
		d := xp[(n-n0)*img:][:img]
		clear(d[:g.p*wp*c])
		clear(d[(g.p+g.h)*wp*c:])
		for iy := 0; iy < g.h; iy++ {
			row := d[(g.p+iy)*wp*c:][:wp*c]
			clear(row[:g.p*c])
			clear(row[(g.p+g.w)*c:])
			in := row[g.p*c:][:g.w*c]
			if !g.nchw || c == 1 {
				copy(in, x[(n*g.h+iy)*g.w*c:][:g.w*c])
				continue
			}
			for ch := 0; ch < c; ch++ {
				src := x[((n*c+ch)*g.h+iy)*g.w:][:g.w]
				for ix, v := range src {
					in[ix*c+ch] = v
				}
			}
		}
	}
}

// padGradImages is padImages for a gradient gz = dL/dz (NHWC), read
// through d: the LeakyReLU derivative is applied as each row is copied.
func padGradImages[T float](g convGeom, xp []T, d gradAt[T], n0, n1 int) {
	wp, c := g.wp(), g.c
	img := g.hp() * wp * c
	for n := n0; n < n1; n++ {
		dst := xp[(n-n0)*img:][:img]
		clear(dst[:g.p*wp*c])
		clear(dst[(g.p+g.h)*wp*c:])
		for iy := 0; iy < g.h; iy++ {
			row := dst[(g.p+iy)*wp*c:][:wp*c]
			clear(row[:g.p*c])
			clear(row[(g.p+g.w)*c:])
			d.copyTo(row[g.p*c:][:g.w*c], (n*g.h+iy)*g.w*c)
		}
	}
}

// unpadImages writes the interior of the padded images in xp, from its
// start, into images [n0, n1) of x (NHWC, or NCHW for the net's input).
func unpadImages[T float](g convGeom, x, xp []T, n0, n1 int) {
	wp, c := g.wp(), g.c
	img := g.hp() * wp * c
	for n := n0; n < n1; n++ {
		d := xp[(n-n0)*img:][:img]
		for iy := 0; iy < g.h; iy++ {
			in := d[((g.p+iy)*wp+g.p)*c:][:g.w*c]
			if !g.nchw || c == 1 {
				copy(x[(n*g.h+iy)*g.w*c:][:g.w*c], in)
				continue
			}
			for ch := 0; ch < c; ch++ {
				dst := x[((n*c+ch)*g.h+iy)*g.w:][:g.w]
				for ix := range dst {
					dst[ix] = in[ix*c+ch]
				}
			}
		}
	}
}

// gradAt is the gradient gz = dL/dz at a layer's pre-activation z, read from
// the gradient g = dL/dy at its output y = act(z) without being stored:
//
//	gz = g * (y > 0 ? 1 : slope)   with the LeakyReLU (PyTorch's rule)
//	gz = g                          without activation
//
// For slope >= 0, y > 0 exactly when z > 0.
type gradAt[T float] struct {
	g, y  []T
	slope T
	act   bool
}

// at returns gz[i].
func (d gradAt[T]) at(i int) T {
	if d.act && !(d.y[i] > 0) {
		return d.slope * d.g[i]
	}
	return d.g[i]
}

// copyTo writes gz[off : off+len(dst)] into dst, for float32 without
// branches (random signs would defeat the branch predictor): int32(bits) > 0
// exactly when v > 0, and the factor is picked by an integer conditional move.
func (d gradAt[T]) copyTo(dst []T, off int) {
	g := d.g[off:][:len(dst)]
	if !d.act {
		copy(dst, g)
		return
	}
	y := d.y[off:][:len(dst)]
	if d32, ok := any(dst).([]float32); ok {
		g32, y32 := any(g).([]float32), any(y).([]float32)
		k := leakyGradF32(d32, g32, y32, float32(d.slope))
		d32, g32, y32 = d32[k:], g32[k:], y32[k:]
		sb, one := math.Float32bits(float32(d.slope)), math.Float32bits(1)
		for i, v := range y32 {
			m := sb
			if int32(math.Float32bits(v)) > 0 {
				m = one
			}
			d32[i] = g32[i] * math.Float32frombits(m)
		}
		return
	}
	for i := range dst {
		dst[i] = d.at(off + i)
	}
}

// posPixels writes, for each output position k0, k0+1, ..., three values
// into pn: the offset of its image in the unpadded NHWC input and the row
// and column of its top-left input pixel (negative on the padding).
func posPixels(g convGeom, k0 int, pn []int) {
	q := g.q()
	n, r := k0/q, k0%q
	oy, ox := r/g.ow, r%g.ow
	for k := 0; k+2 < len(pn); k += 3 {
		pn[k], pn[k+1], pn[k+2] = n*g.h*g.w*g.c, oy*g.s-g.p, ox*g.s-g.p
		if ox++; ox == g.ow {
			ox = 0
			if oy++; oy == g.oh {
				oy = 0
				n++
			}
		}
	}
}

// posBases writes into bases the offset in the padded input of the
// top-left input pixel of each output position k0, k0+1, ...
func posBases(g convGeom, k0 int, bases []int) {
	q, hp, wp, sc := g.q(), g.hp(), g.wp(), g.s*g.c
	n, r := k0/q, k0%q
	oy, ox := r/g.ow, r%g.ow
	rowBase := (n*hp + oy*g.s) * wp * g.c
	for kk := range bases {
		bases[kk] = rowBase + ox*sc
		if ox++; ox == g.ow {
			ox = 0
			if oy++; oy == g.oh {
				oy = 0
				n++
			}
			rowBase = (n*hp + oy*g.s) * wp * g.c
		}
	}
}
