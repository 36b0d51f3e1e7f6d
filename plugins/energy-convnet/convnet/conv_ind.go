package convnet

import (
	"math"
	"unsafe"
)

// The forward and input-gradient passes, with the indirect kernel (ind.go).

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
	full, last := cw.taskOrders(g)
	parallel(tasks, func(w, i int) {
		wk := cw.ws[w]
		n0, n1 := g.images(i)
		j0 := n0 * q
		ord := full
		if n1-n0 != full.m {
			ord = last
		}
		rows := wk.rows[:(n1-n0)*q]
		xp := x // the input as the kernel reads it, padded if need be
		if g.padded() {
			xp = wk.pad // the task's images only
			padImages(g, xp, x, n0, n1)
			posBases(g, 0, rows)
		} else {
			posBases(g, j0, rows)
		}
		call := wk.newCall()
		call.nc, call.slope, call.slope64 = g.c, sl32, float64(slope)
		for blk := 0; blk < ob; blk++ {
			bp := wp[blk*kd*indNR:]
			for t0 := 0; t0 < kk; t0 += tb {
				t1 := min(kk, t0+tb)
				for p0 := 0; p0 < len(rows); p0 += indMR {
					box := ord.boxes[p0/indMR]
					for r := 0; r < indMR; r++ {
						l := p0 + r
						if l >= len(rows) {
							call.arow[r], call.crow[r] = ptr(xp, rows[ord.perm[p0]]), ptr(wk.dummy[:], 0)
							continue
						}
						pl := ord.perm[l]
						call.arow[r] = ptr(xp, rows[pl])
						if inPlace {
							call.crow[r] = ptr(y, (j0+pl)*g.o+blk*indNR)
						} else {
							call.crow[r] = ptr(wk.acc, pl*indNR)
						}
					}
					// the runs of the box's taps in [t0, t1): one per tap row,
					// or one for all when the box spans whole rows
					first, end := box.y0*g.k+box.x0, (box.y1-1)*g.k+box.x1
					wide := box.x0 == 0 && box.x1 == g.k
					for ky := max(box.y0, t0/g.k); ky < box.y1 && ky*g.k < t1; ky++ {
						a, e := max(t0, ky*g.k+box.x0), min(t1, ky*g.k+box.x1)
						if wide {
							e = min(t1, box.y1*g.k)
							ky = box.y1
						}
						if a >= e {
							continue
						}
						call.toff, call.nt, call.b = unsafe.Pointer(&toff[a]), e-a, ptr(bp, a*g.c*indNR)
						call.act = 0
						switch {
						case a > first:
							call.init = indLoad
						case inPlace:
							call.init, call.bias = indBias, ptr(b, blk*indNR)
						default:
							call.init = indZero
						}
						if inPlace && act && e == end {
							call.act = 1
						}
						kern(call)
					}
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
	convInputGradAct(g, cw, gz, wt, gx, epoch, fc, nil, 0)
}

// convInputGradAct is convInputGrad followed, when xa is not nil, by the
// derivative of the LeakyReLU whose output is the input x (xa = x):
//
//	gx = dL/dx * (x > 0 ? 1 : slope)
//
// the gz of the layer before, applied by each task to its images while
// they are in cache, so that the layer before need not make another pass
// over dL/dx and its output.
func convInputGradAct[T float](g convGeom, cw *convWork[T], gz gradAt[T], wt, gx []T, epoch uint64, fc *filterCache, xa []T, slope T) {
	q, kd, kk := g.q(), g.kd(), g.k*g.k
	img0 := g.h * g.w * g.c
	applyAct := func(n0, n1 int) {
		if xa != nil {
			seg := gx[n0*img0 : n1*img0]
			gradAt[T]{g: seg, y: xa[n0*img0 : n1*img0], slope: slope, act: true}.copyTo(seg, 0)
		}
	}
	if first := kernelF32.first; first != nil && xa == nil && g.c == 1 && g.s == 1 && g.o%16 == 0 {
		if gx32, ok := any(gx).([]float32); ok {
			// gz is applied as it is padded, not stored: only this pass
			// reads it (the filter gradient runs in Update, not here)
			src := cw.cachedGZ(gz, epoch)
			inputGradFirst(g, any(cw).(*convWork[float32]), any(src).(gradAt[float32]),
				any(wt).([]float32), gx32, first)
			return
		}
	}
	gz, fillGZ, doneGZ := cw.gzPlan(gz, epoch) // filled by each task for its images, while in cache
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
			w.irows = grow(&w.irows, roundUp(np, indMR))
		}
	} else {
		cw.padBuffers(numWorkers(tasks), g)
	}
	kern := indKernelFor[T]()
	zero := [1]int64{0}
	full, last := cw.taskOrders(g)
	// ft: the first tap row (ft[iy]) and column (ft[h+ix]) that reaches each
	// input pixel in the blocks' order; a pixel's first block writes it
	// rather than adding to it, so that gx need not be cleared, when every
	// pixel is reached (covered)
	ft := grow(&cw.firstTap, g.h+g.w)
	covered := firstTaps(ft[:g.h], g.s, g.p, g.k, g.oh) && firstTaps(ft[g.h:], g.s, g.p, g.k, g.ow)
	img := g.hp() * g.wp() * g.c
	parallel(tasks, func(w, i int) {
		wk := cw.ws[w]
		n0, n1 := g.images(i)
		j0 := n0 * q
		if fillGZ != nil {
			fillGZ(j0*g.o, n1*q*g.o)
		}
		rows := wk.rows[:(n1-n0)*q]
		if unpadded {
			if !covered {
				clear(gx[n0*img0 : n1*img0])
			}
			call := wk.newCall()
			call.toff, call.nt, call.nc = unsafe.Pointer(&zero[0]), 1, g.o
			pn := wk.pn[:3*len(rows)]
			posPixels(g, j0, pn)
			ord := full
			if n1-n0 != full.m {
				ord = last
			}
			// the tile rows in tile order: gz row, image and top-left pixel
			// (a row past the last position reaches no pixel)
			irows := wk.irows[:roundUp(len(rows), indMR)]
			for l := range irows {
				if l >= len(rows) {
					irows[l] = inRow{a: ptr(gz.g, (j0+ord.perm[l/indMR*indMR])*g.o), iy: math.MinInt32}
					continue
				}
				pl := ord.perm[l]
				irows[l] = inRow{a: ptr(gz.g, (j0+pl)*g.o), img: pn[3*pl], iy: pn[3*pl+1], ix: pn[3*pl+2]}
			}
			for blk := 0; blk < nb; blk++ {
				t, c0 := blk*indNR/g.c, blk*indNR%g.c
				ky, kx := t/g.k, t%g.k
				call.b = ptr(wp, blk*g.o*indNR)
				for p0 := 0; p0 < len(rows); p0 += indMR {
					// a tile whose rows all read this tap from the padding
					// adds nothing to gx
					if box := ord.boxes[p0/indMR]; ky < box.y0 || ky >= box.y1 || kx < box.x0 || kx >= box.x1 {
						continue
					}
					// rows whose pixel this tap reaches first (first) and after
					// another one (later)
					var first [indMR]bool
					nfirst, nlater := 0, 0
					for r, ir := range irows[p0 : p0+indMR] {
						call.arow[r] = ir.a
						iy, ix := ir.iy+ky, ir.ix+kx
						if uint(iy) < uint(g.h) && uint(ix) < uint(g.w) {
							call.crow[r] = ptr(gx, ir.img+(iy*g.w+ix)*g.c+c0)
							if first[r] = covered && ft[iy] == ky && ft[g.h+ix] == kx; first[r] {
								nfirst++
							} else {
								nlater++
							}
						} else {
							call.crow[r] = ptr(wk.dummy[:], 0)
						}
					}
					call.init = indLoad
					switch {
					case nlater == 0:
						call.init = indZero // every row's first write
					case nfirst > 0:
						for r, f := range first { // start those rows from zero
							if f {
								clear(unsafe.Slice((*T)(call.crow[r]), indNR))
							}
						}
					}
					kern(call)
				}
			}
			applyAct(n0, n1)
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
		call := wk.newCall()
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
				kern(call)
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
		applyAct(n0, n1)
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
// Tasks are groups of images; each pads gz for its images, applying the
// LeakyReLU derivative as it copies (gz is not stored).
func inputGradFirst(g convGeom, cw *convWork[float32], gz gradAt[float32],
	wt, gx []float32, first func(out, gzp []float32, bases, toff []int64, w []float32, o int)) {
	kk, e := g.k*g.k, g.k-1
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
		padGradImages(pg, wk.pad, gz, n0, n1)
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

// firstTaps sets ft[i], for each input coordinate i along an axis, to the
// smallest tap that reaches it from an output coordinate in [0, n), or -1,
// and reports whether every coordinate is reached.
func firstTaps(ft []int, s, p, k, n int) bool {
	all := true
	for i := range ft {
		ft[i] = -1
		for t := 0; t < k; t++ {
			if d := i + p - t; d >= 0 && d%s == 0 && d/s < n {
				ft[i] = t
				break
			}
		}
		all = all && ft[i] >= 0
	}
	return all
}
