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
	biasPart []T       // sumBias: the sum of each block of rows
	biasAcc  []float64 // sumBias: the total
	wfirst   []float32 // inputGradFirst's filters, tap-major
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
	acc   []T              // positions x 32 results when the output is not written in place
	bbuf  []T              // the filter gradient's packed B panel
	dummy [indNR]T         // the output row of tile rows past the last position
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

// indKC is the reduction length of one indirect kernel call in the
// forward pass: its B panel, indKC x 32 values, stays in the L1 cache.
const indKC = 256

// convForward writes the activation of the convolution of x with filters wt
// and bias b into y (NHWC):
//
//	z[n,y,x,o] = b[o] + sum_{c,i,j} wt[o,c,i,j] * x[n, s*y-p+i, s*x-p+j, c]
//	y = z, or LeakyReLU(z) = (z < 0 ? slope*z : z) when act
//
// by the indirect kernel: tiles of 8 output positions x 32 filters, reading
// the padded input in place through one pointer per position. The bias
// initialises the accumulators and the activation is applied in registers
// when the output has a multiple of 32 channels; otherwise each task
// accumulates into its own buffer and writes y from there. Tasks are fixed
// groups of images.
func convForward[T float](g convGeom, cw *convWork[T], x, wt, b []T, slope T, act bool, y []T, fc *filterCache) {
	q, kd, kk := g.q(), g.kd(), g.k*g.k
	ob := (g.o + indNR - 1) / indNR
	inPlace := g.o%indNR == 0
	// wp: for filter block o0 = 32*blk, row (t, c) of 32 filters.
	wp, fresh := packedFilters(cw, fc, wt, ob*kd*indNR)
	parallel(ob*fresh, func(_, blk int) {
		for t := 0; t < kk; t++ {
			for c := 0; c < g.c; c++ {
				row := wp[(blk*kd+t*g.c+c)*indNR:][:indNR]
				for j := range row {
					o := blk*indNR + j
					row[j] = 0
					if o < g.o {
						row[j] = wt[(o*g.c+c)*kk+t]
					}
				}
			}
		}
	})
	toff := cw.tapOffsets(g)
	tb := max(1, min(kk, indKC/g.c)) // taps per kernel call
	np := g.chunk() * q
	nacc := 0
	if !inPlace {
		nacc = np * indNR
	}
	tasks := g.tasks()
	cw.workers(numWorkers(tasks), np, nacc, 0)
	cw.padBuffers(numWorkers(tasks), g)
	kern := indKernelFor[T]()
	var sl32 float32
	if _, ok := any(slope).(float32); ok {
		sl32 = float32(slope)
	}
	parallel(tasks, func(w, i int) {
		wk := cw.ws[w]
		n0, n1 := g.images(i)
		j0 := n0 * q
		rows := wk.rows[:(n1-n0)*q]
		xp := x // the input as the kernel reads it, padded if need be
		if g.padded() {
			xp = wk.pad // the task's images only
			padImages(g, xp, x, n0, n1)
			posBases(g, 0, rows)
		} else {
			posBases(g, j0, rows)
		}
		var call indCall
		call.nc, call.slope, call.slope64 = g.c, sl32, float64(slope)
		for blk := 0; blk < ob; blk++ {
			bp := wp[blk*kd*indNR:]
			for t0 := 0; t0 < kk; t0 += tb {
				t1 := min(kk, t0+tb)
				call.toff, call.nt, call.b = unsafe.Pointer(&toff[t0]), t1-t0, ptr(bp, t0*g.c*indNR)
				call.act = 0
				switch {
				case t0 > 0:
					call.init = indLoad
				case inPlace:
					call.init, call.bias = indBias, ptr(b, blk*indNR)
				default:
					call.init = indZero
				}
				if inPlace && act && t1 == kk {
					call.act = 1
				}
				for p0 := 0; p0 < len(rows); p0 += indMR {
					for r := 0; r < indMR; r++ {
						l := p0 + r
						if l >= len(rows) {
							call.arow[r], call.crow[r] = ptr(xp, rows[p0]), ptr(wk.dummy[:], 0)
							continue
						}
						call.arow[r] = ptr(xp, rows[l])
						if inPlace {
							call.crow[r] = ptr(y, (j0+l)*g.o+blk*indNR)
						} else {
							call.crow[r] = ptr(wk.acc, l*indNR)
						}
					}
					kern(&call)
				}
			}
			if inPlace {
				continue
			}
			o0, o1 := blk*indNR, min(g.o, (blk+1)*indNR)
			for l := range rows {
				src := wk.acc[l*indNR:][:o1-o0]
				dst := y[(j0+l)*g.o+o0:][:o1-o0]
				for j, v := range src {
					dst[j] = v + b[o0+j]
				}
				if act {
					leaky(dst, slope)
				}
			}
		}
	})
}

// leaky applies the LeakyReLU in place, as the kernels do:
// max(v, 0) + slope*min(v, 0).
func leaky[T float](v []T, slope T) {
	for i, z := range v {
		v[i] = max(z, 0) + slope*min(z, 0)
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

// convInputGrad writes the gradient with respect to the input x,
//
//	gx[n,iy,ix,c] = sum over (o, i, j, y, x) with s*y-p+i = iy, s*x-p+j = ix
//	                of wt[o,c,i,j] * gz[n,y,x,o]
//
// as GCol = GZ W (rows: output positions; columns: (tap, channel)) with the
// indirect kernel, whose rows are gz's NHWC rows read in place, and col2im
// fused into its store: when the input has a multiple of 32 channels, each
// 32 columns are 32 channels of one tap, and the kernel adds its tile into
// the padded gradient at each position's pixel for that tap; otherwise the
// tile is added element by element. Each task owns whole images and adds
// in a fixed order.
func convInputGrad[T float](g convGeom, cw *convWork[T], gz gradAt[T], wt, gx []T, epoch uint64, fc *filterCache) {
	q, kd, kk := g.q(), g.kd(), g.k*g.k
	gz, fillGZ, doneGZ := cw.gzPlan(gz, epoch) // filled by each task for its images, while in cache
	if first := kernelF32.first; first != nil && g.c == 1 && g.s == 1 && g.o%16 == 0 {
		if gx32, ok := any(gx).([]float32); ok {
			inputGradFirst(g, any(cw).(*convWork[float32]), any(gz.g).([]float32), fillGZ,
				any(wt).([]float32), gx32, first)
			if doneGZ != nil {
				doneGZ()
			}
			return
		}
	}
	nb := (kd + indNR - 1) / indNR
	inPlace := g.c%indNR == 0
	// With inPlace and NHWC x, the kernel adds into gx itself, each block
	// (32 channels of one tap) at the pixel each position's tap reads, or
	// into a dummy row where the tap falls on the padding; otherwise into a
	// padded copy (gxp), whose interior is copied out at the end.
	unpadded := inPlace && !g.nchw
	// wp: for column block blk (columns (t, c) = 32*blk ...), row o.
	wp, fresh := packedFilters(cw, fc, wt, nb*g.o*indNR)
	parallel(nb*fresh, func(_, blk int) {
		for o := 0; o < g.o; o++ {
			row := wp[(blk*g.o+o)*indNR:][:indNR]
			for j := range row {
				col := blk*indNR + j
				row[j] = 0
				if col < kd {
					t, c := col/g.c, col%g.c
					row[j] = wt[(o*g.c+c)*kk+t]
				}
			}
		}
	})
	colOff := cw.colOffsets(g)
	np := g.chunk() * q
	tasks := g.tasks()
	cw.workers(numWorkers(tasks), np, indMR*indNR, 0)
	if unpadded {
		for _, w := range cw.ws[:numWorkers(tasks)] {
			w.pn = grow(&w.pn, 3*np)
		}
	} else {
		cw.padBuffers(numWorkers(tasks), g)
	}
	kern := indKernelFor[T]()
	zero := [1]int64{0}
	img := g.hp() * g.wp() * g.c
	img0 := g.h * g.w * g.c
	parallel(tasks, func(w, i int) {
		wk := cw.ws[w]
		n0, n1 := g.images(i)
		j0 := n0 * q
		if fillGZ != nil {
			fillGZ(j0*g.o, n1*q*g.o)
		}
		rows := wk.rows[:(n1-n0)*q]
		if unpadded {
			clear(gx[n0*img0 : n1*img0])
			var call indCall
			call.toff, call.nt, call.nc, call.init = unsafe.Pointer(&zero[0]), 1, g.o, indLoad
			pn := wk.pn[:3*len(rows)]
			posPixels(g, j0, pn)
			for blk := 0; blk < nb; blk++ {
				t, c0 := blk*indNR/g.c, blk*indNR%g.c
				ky, kx := t/g.k, t%g.k
				call.b = ptr(wp, blk*g.o*indNR)
				for p0 := 0; p0 < len(rows); p0 += indMR {
					for r := 0; r < indMR; r++ {
						l := p0 + r
						if l >= len(rows) {
							call.arow[r], call.crow[r] = ptr(gz.g, (j0+p0)*g.o), ptr(wk.dummy[:], 0)
							continue
						}
						call.arow[r] = ptr(gz.g, (j0+l)*g.o)
						iy, ix := pn[3*l+1]+ky, pn[3*l+2]+kx
						if uint(iy) < uint(g.h) && uint(ix) < uint(g.w) {
							call.crow[r] = ptr(gx, pn[3*l]+(iy*g.w+ix)*g.c+c0)
						} else {
							call.crow[r] = ptr(wk.dummy[:], 0)
						}
					}
					kern(&call)
				}
			}
			return
		}
		gxp := gx // the gradient as the kernel adds into it, padded if need be
		if g.padded() {
			gxp = wk.pad[:(n1-n0)*img] // the task's images only
			posBases(g, 0, rows)
		} else {
			gxp = gx[n0*img : n1*img]
			posBases(g, j0, rows)
			for l := range rows {
				rows[l] -= n0 * img
			}
		}
		clear(gxp)
		var call indCall
		call.toff, call.nt, call.nc = unsafe.Pointer(&zero[0]), 1, g.o
		tile := wk.acc[:indMR*indNR]
		for blk := 0; blk < nb; blk++ {
			col0 := blk * indNR
			call.b = ptr(wp, blk*g.o*indNR)
			call.init = indZero
			var off int // the block's tap and first channel, from a position's pixel
			if inPlace {
				call.init = indLoad
				off = colOff[col0]
			}
			for p0 := 0; p0 < len(rows); p0 += indMR {
				for r := 0; r < indMR; r++ {
					l := p0 + r
					switch {
					case l >= len(rows):
						call.arow[r], call.crow[r] = ptr(gz.g, (j0+p0)*g.o), ptr(wk.dummy[:], 0)
					case inPlace:
						call.arow[r], call.crow[r] = ptr(gz.g, (j0+l)*g.o), ptr(gxp, rows[l]+off)
					default:
						call.arow[r], call.crow[r] = ptr(gz.g, (j0+l)*g.o), ptr(tile, r*indNR)
					}
				}
				kern(&call)
				if inPlace {
					continue
				}
				for r := 0; r < indMR && p0+r < len(rows); r++ {
					base := rows[p0+r]
					for j, v := range tile[r*indNR:][:min(indNR, kd-col0)] {
						gxp[base+colOff[col0+j]] += v
					}
				}
			}
		}
		if g.padded() {
			unpadImages(g, gx, gxp, n0, n1)
		}
	})
	if doneGZ != nil {
		doneGZ()
	}
}

// inputGradFirst is convInputGrad for a layer with one input channel and
// stride 1 (the net's first layer), where the GEMM would use 1 of its 32
// columns per tap: each input pixel's gradient is a dot product of the
// filters with gz over the taps that reach it,
//
//	gx[n,iy,ix] = sum over (ky, kx, o) of wt[o,0,ky,kx] * gz[n, iy+p-ky, ix+p-kx, o],
//
// with gz zero-padded by k-1 on every side so that every tap reads inside.
// Tasks are groups of images; fill, if set, computes gz for them first.
func inputGradFirst(g convGeom, cw *convWork[float32], gz []float32, fill func(a, b int),
	wt, gx []float32, first func(out, gzp []float32, bases, toff []int64, w []float32, o int)) {
	q, kk, e := g.q(), g.k*g.k, g.k-1
	pg := convGeom{n: g.n, c: g.o, h: g.oh, w: g.ow, p: e} // gz as a padded image
	hp, wp := pg.hp(), pg.wp()
	w := grow(&cw.wfirst, kk*g.o) // w[t*o + j] = wt[j, 0, t]
	toff := grow(&cw.toff, kk)
	for t := 0; t < kk; t++ {
		ky, kx := t/g.k, t%g.k
		toff[t] = -int64((ky*wp+kx)*g.o) * 4
		for j := 0; j < g.o; j++ {
			w[t*g.o+j] = wt[j*kk+t]
		}
	}
	npix := g.chunk() * g.h * g.w
	tasks := g.tasks()
	nw := numWorkers(tasks)
	cw.workers(nw, 0, roundUp(npix, 4), 0)
	for _, wk := range cw.ws[:nw] {
		wk.pad = grow(&wk.pad, g.chunk()*hp*wp*g.o)
		wk.bases = grow(&wk.bases, roundUp(npix, 4))
	}
	parallel(tasks, func(wi, i int) {
		wk := cw.ws[wi]
		n0, n1 := g.images(i)
		if fill != nil {
			fill(n0*q*g.o, n1*q*g.o)
		}
		padImages(pg, wk.pad, gz, n0, n1)
		np := (n1 - n0) * g.h * g.w
		bases := wk.bases[:roundUp(np, 4)]
		l := 0
		for n := 0; n < n1-n0; n++ {
			for iy := 0; iy < g.h; iy++ {
				for ix := 0; ix < g.w; ix++ {
					bases[l] = int64(((n*hp+iy+g.p+e)*wp+ix+g.p+e)*g.o) * 4
					l++
				}
			}
		}
		for ; l < len(bases); l++ {
			bases[l] = bases[0]
		}
		out := wk.acc[:len(bases)]
		first(out, wk.pad, bases, toff, w, g.o)
		copy(gx[n0*g.h*g.w:n1*g.h*g.w], out[:np])
	})
}

// convWeightGrad writes the gradient with respect to the filters (OIHW),
//
//	gw[o,c,i,j] = sum over (n, y, x) of gz[n,y,x,o] * x[n, s*y-p+i, s*x-p+j, c]
//
// as a packed GEMM whose reduction runs over every output position of the
// batch in order. Usually that is GW = GZ^T Col (rows: filters; columns:
// (tap, channel)); with NHWC activations both operands are packed by plain
// copies, 8 filters of one position for A and 32 channels of one tap for B
// (when the input has a multiple of 32 channels). A layer with fewer
// (tap, channel) columns than filters (the first, with one input channel
// and 9 taps) runs the transpose, GW^T = Col^T GZ: the 9 taps pad to 16
// rows instead of 32 columns, and gz is packed, with the activation's
// derivative applied on the fly, as rows of 32 filters. Tasks are fixed
// blocks of columns, and of rows when there are few columns; each element
// is reduced by one task, so the partition does not change it.
func convWeightGrad[T float](g convGeom, cw *convWork[T], x []T, gz gradAt[T], gw []T, epoch uint64) {
	q, kd, kk := g.q(), g.kd(), g.k*g.k
	trans := kd < g.o
	if trans {
		gz = cw.cachedGZ(gz, epoch)
	} else {
		gz = cw.materialize(gz, g.n, g.chunk(), epoch)
	}
	if !trans && !g.nchw && g.c%indMR == 0 && g.o%indNR == 0 {
		weightGradDirect(g, cw, x, gz.g, gw)
		return
	}
	xp := x
	if g.padded() {
		img := g.hp() * g.wp() * g.c
		xp = grow(&cw.xp, g.n*img)
		parallel(g.tasks(), func(_, i int) {
			n0, n1 := g.images(i)
			padImages(g, xp[n0*img:], x, n0, n1)
		})
	}
	colOff := cw.colOffsets(g)
	total := g.n * q
	m, n := g.o, kd // rows: filters; columns: (tap, channel)
	if trans {
		m, n = kd, g.o
	}
	gm := &gemm[T]{m: m, n: n, k: min(total, weightGradSuper)}
	cols := min(2*gemmNR, gm.nc())
	ctasks := (n + cols - 1) / cols
	mPad := gm.mPad()
	mt := mPad / gemmMR
	rgroups := 1 // row groups per column block, for layers with few columns
	if ctasks == 1 {
		rgroups = min(mt, 2)
	}
	tasks := ctasks * rgroups
	nw := numWorkers(tasks)
	cw.workers(nw, 0, 0, gm.nc()*gemmKC)
	for _, w := range cw.ws[:nw] {
		w.apack = grow(&w.apack, mPad*gm.k)
	}
	cw.cacc = grow(&cw.cacc, ctasks*mPad*cols)
	// packA packs row tiles [it0, it1) of A for positions [k0, k0+k) into
	// apack (laid out as gemm.apack): A(o, r) = gz[r, o], or in the
	// transpose A(col, r) = xp[pixel of position r + colOff[col]].
	packA := func(apack []T, k0, k, it0, it1 int) {
		for pc := 0; pc < k; pc += gemmKC {
			kc := min(gemmKC, k-pc)
			a := apack[pc*mPad:]
			var bases [gemmKC]int
			if trans {
				posBases(g, k0+pc, bases[:kc])
			}
			for it := it0; it < it1; it++ {
				t := a[it*gemmMR*kc:][:gemmMR*kc]
				i0 := it * gemmMR
				cnt := min(gemmMR, m-i0)
				if trans {
					offs := colOff[i0:][:cnt]
					for kk, base := range bases[:kc] {
						dst := t[kk*gemmMR:][:gemmMR]
						src := xp[base:]
						for ii, co := range offs {
							dst[ii] = src[co]
						}
						clear(dst[cnt:])
					}
					continue
				}
				src := gz.g[(k0+pc)*g.o+i0:]
				if cnt == gemmMR {
					strideRows8(t[:kc*gemmMR], src, g.o)
					continue
				}
				for kk := 0; kk < kc; kk++ {
					dst := t[kk*gemmMR:][:gemmMR]
					copy(dst, src[kk*g.o:][:cnt])
					clear(dst[cnt:])
				}
			}
		}
	}
	// packB packs B(r, col) = xp[pixel of position r + colOff[col]], or in
	// the transpose B(r, o) = gz[r, o]; columns past nc are left as they
	// are (their results are not stored).
	gm.packB = func(dst []T, k0, kc, j0, nc int) {
		if trans {
			for jt := 0; jt*gemmNR < nc; jt++ {
				o0 := j0 + jt*gemmNR
				cnt := min(gemmNR, nc-jt*gemmNR)
				panel := dst[jt*kc*gemmNR:][:kc*gemmNR]
				if cnt == gemmNR && g.o == gemmNR { // gz rows are the panel
					gz.copyTo(panel, k0*g.o)
					continue
				}
				for kk := 0; kk < kc; kk++ {
					gz.copyTo(panel[kk*gemmNR:][:cnt], (k0+kk)*g.o+o0)
				}
			}
			return
		}
		var bases [gemmKC]int // each position's top-left pixel
		posBases(g, k0, bases[:kc])
		for jt := 0; jt*gemmNR < nc; jt++ {
			c0 := j0 + jt*gemmNR
			cnt := min(gemmNR, nc-jt*gemmNR)
			panel := dst[jt*kc*gemmNR:][:kc*gemmNR]
			if g.c%gemmNR == 0 { // 32 channels of one tap
				gatherRows(panel, xp, bases[:kc], colOff[c0])
				continue
			}
			for kk, base := range bases[:kc] {
				row := panel[kk*gemmNR:][:cnt]
				src := xp[base:]
				for jj, co := range colOff[c0:][:cnt] {
					row[jj] = src[co]
				}
			}
		}
	}
	gm.store = func(c []T, j0, nc, it0, it1 int) {
		for i := it0 * gemmMR; i < min(m, it1*gemmMR); i++ {
			for j := 0; j < nc; j++ {
				o, col := i, j0+j
				if trans {
					o, col = j0+j, i
				}
				gw[(o*g.c+col%g.c)*kk+col/g.c] = c[gemmTiles(i, j, mt)]
			}
		}
	}
	kern := kernelFor[T]()
	// Each task runs the reduction over super-blocks of weightGradSuper
	// positions, packing its own rows of A for each (a GEMM of its own, so
	// one parallel section per call); its column block's C lives in cw.cacc
	// across them. The blocks are multiples of gemmKC, so every element is
	// reduced in the same order as in one long GEMM.
	per := (mt + rgroups - 1) / rgroups
	parallel(tasks, func(w, i int) {
		ct, rg := i/rgroups, i%rgroups
		it0, it1 := rg*per, min(mt, (rg+1)*per)
		if it0 >= it1 {
			return
		}
		lg := *gm
		lg.apack = cw.ws[w].apack
		for k0 := 0; k0 < total; k0 += weightGradSuper {
			lg.k, lg.kOff = min(weightGradSuper, total-k0), k0
			lg.accum, lg.noStore = k0 > 0, k0+weightGradSuper < total
			packA(lg.apack, k0, lg.k, it0, it1)
			lg.run(ct*cols, min(n, (ct+1)*cols), it0, it1, cw.ws[w].bbuf, cw.cacc[ct*mPad*cols:][:mPad*cols], kern)
		}
	})
}

// weightGradDirect computes the filter gradient with the direct kernel
// (wgCall): tiles of GW^T, 8 (tap, channel) rows by 32 filters, each
// reduced over every output position in order, reading the NHWC input x
// and the plain gz in place: for each tap, a table points at the pixel each
// position reads, or at zeros where the tap falls on the padding, so no
// padded copy of the batch is made. The positions run in super-blocks of
// wgSuper whose data stays in cache while every tile takes its share; the
// tiles are split into fixed groups, one task each, so no element's sum is
// split and the partition does not change it. Needs the channels to be a
// multiple of 8 and the filters of 32.
func weightGradDirect[T float](g convGeom, cw *convWork[T], x, gz, gw []T) {
	var z T
	size := int(unsafe.Sizeof(z))
	kd, kk, total := g.kd(), g.k*g.k, g.n*g.q()
	rt, ct := kd/indMR, g.o/indNR
	ntile := rt * ct
	acc := grow(&cw.cacc, ntile*indMR*indNR)
	zeros := grow(&cw.zeros, g.c)
	clear(zeros)
	// A few tasks per worker, each streaming every super-block: which task
	// computes a tile does not change how it is reduced.
	tasks := min(ntile, 2*numWorkers(ntile))
	per := (ntile + tasks - 1) / tasks
	tasks = (ntile + per - 1) / per
	nw := numWorkers(tasks)
	for len(cw.ws) < nw {
		cw.ws = append(cw.ws, &convWorker[T]{})
	}
	for _, w := range cw.ws[:nw] {
		w.ptrs = grow(&w.ptrs, wgSuper)
		w.pn = grow(&w.pn, 3*wgSuper)
	}
	kern := wgKernelFor[T]()
	parallel(tasks, func(w, i int) {
		wk := cw.ws[w]
		for k0 := 0; k0 < total; k0 += wgSuper {
			kc := min(wgSuper, total-k0)
			pn := wk.pn[:3*kc]
			posPixels(g, k0, pn)
			ptrs := wk.ptrs[:kc]
			call := wgCall{bases: unsafe.Pointer(&ptrs[0]), kc: kc, bstride: g.o * size}
			if k0 > 0 {
				call.load = 1
			}
			tap := -1
			for tile := i * per; tile < min(ntile, (i+1)*per); tile++ {
				r0, o0 := tile/ct*indMR, tile%ct*indNR
				if t := r0 / g.c; t != tap { // the pixels this tap reads
					tap = t
					ky, kx := t/g.k, t%g.k
					for k := range ptrs {
						iy, ix := pn[3*k+1]+ky, pn[3*k+2]+kx
						if uint(iy) < uint(g.h) && uint(ix) < uint(g.w) {
							ptrs[k] = ptr(x, pn[3*k]+(iy*g.w+ix)*g.c)
						} else {
							ptrs[k] = unsafe.Pointer(&zeros[0])
						}
					}
				}
				call.aoff = r0 % g.c * size
				call.b = ptr(gz, k0*g.o+o0)
				call.c = ptr(acc, tile*indMR*indNR)
				kern(&call)
			}
		}
	})
	parallel(tasks, func(_, i int) {
		for tile := i * per; tile < min(ntile, (i+1)*per); tile++ {
			r0, o0 := tile/ct*indMR, tile%ct*indNR
			for r := 0; r < indMR; r++ {
				t, c := (r0+r)/g.c, (r0+r)%g.c
				for j, v := range acc[(tile*indMR+r)*indNR:][:indNR] {
					gw[((o0+j)*g.c+c)*kk+t] = v
				}
			}
		}
	})
}

// wgSuper is the number of output positions the direct filter gradient
// takes at a time.
const wgSuper = 256

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

// weightGradSuper is the number of output positions whose gz the filter
// gradient packs at a time (a multiple of gemmKC).
const weightGradSuper = 16 * gemmKC

// gatherRows writes dst[i*32 : i*32+32] = src[bases[i]+off : ... +32] for
// every i: the packing of 32 channels of one tap.
func gatherRows[T float](dst, src []T, bases []int, off int) {
	if d, ok := any(dst).([]float32); ok {
		gatherRowsF32(d, any(src).([]float32), bases, off)
		return
	}
	for i, b := range bases {
		copy(dst[i*gemmNR:][:gemmNR], src[b+off:])
	}
}

// strideRows8 writes dst[i*8 : i*8+8] = src[i*stride : i*stride+8] for
// i < len(dst)/8: the packing of 8 filters of successive positions.
func strideRows8[T float](dst, src []T, stride int) {
	if d, ok := any(dst).([]float32); ok {
		strideRowsF32(d, any(src).([]float32), stride)
		return
	}
	for i := 0; i < len(dst)/gemmMR; i++ {
		copy(dst[i*gemmMR:][:gemmMR], src[i*stride:])
	}
}
