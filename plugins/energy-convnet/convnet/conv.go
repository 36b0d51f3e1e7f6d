package convnet

// convGeom is one convolution in NCHW layout: n images of c x h x w, o filters
// of c x k x k (OIHW), stride s, zero padding p on every side, output
// n x o x oh x ow. A linear layer is the 1x1 convolution of a 1x1 map.
type convGeom struct {
	n, c, h, w int
	o, k, s, p int
	oh, ow     int
}

// newConvGeom fills in the output size (in+2p-k)/s + 1.
func newConvGeom(n, c, h, w, o, k, s, p int) convGeom {
	return convGeom{n: n, c: c, h: h, w: w, o: o, k: k, s: s, p: p,
		oh: (h+2*p-k)/s + 1, ow: (w+2*p-k)/s + 1}
}

// kd is the length of one filter, c*k*k; q the output positions per image.
func (g convGeom) kd() int { return g.c * g.k * g.k }
func (g convGeom) q() int  { return g.oh * g.ow }

// chunk returns the images per task of the forward and input-gradient
// passes: enough for about 128 output positions. It depends on the shape
// only, so the work partition, and with it every rounding, is the same
// whatever the number of goroutines and their scheduling.
func (g convGeom) chunk() int { return max(1, 128/g.q()) }

// convWork holds the buffers of one convolution op across calls: the packed
// A operand and each worker's packed-B panel and C block.
type convWork[T float] struct {
	apack []T
	bbuf  [][]T
	cbuf  [][]T
}

// worker returns worker w's scratch buffers, grown to hold nb and nc values.
func (cw *convWork[T]) worker(w, nb, nc int) ([]T, []T) {
	for len(cw.bbuf) <= w {
		cw.bbuf = append(cw.bbuf, nil)
		cw.cbuf = append(cw.cbuf, nil)
	}
	if len(cw.bbuf[w]) < nb {
		cw.bbuf[w] = make([]T, nb)
	}
	if len(cw.cbuf[w]) < nc {
		cw.cbuf[w] = make([]T, nc)
	}
	return cw.bbuf[w], cw.cbuf[w]
}

// prepare sizes apack and every worker's scratch for gm before the workers
// start, so that they never allocate concurrently.
func (cw *convWork[T]) prepare(gm *gemm[T], workers int) {
	if n := gm.mPad() * gm.k; len(cw.apack) < n {
		cw.apack = make([]T, n)
	}
	gm.apack = cw.apack
	nb, nc := gm.scratch()
	for w := 0; w < workers; w++ {
		cw.worker(w, nb, nc)
	}
}

// packA packs the m x k matrix a(i, r) = src[i*rs + r*cs] into dst in the
// layout of gemm.apack.
func packA[T float](dst, src []T, m, k, rs, cs int) {
	mPad := roundUp(m, gemmMR)
	for pc := 0; pc < k; pc += gemmKC {
		kc := min(gemmKC, k-pc)
		blk := dst[pc*mPad:]
		for it := 0; it < mPad/gemmMR; it++ {
			t := blk[it*gemmMR*kc:][:gemmMR*kc]
			for ii := 0; ii < gemmMR; ii++ {
				i := it*gemmMR + ii
				if i >= m {
					for kk := 0; kk < kc; kk++ {
						t[kk*gemmMR+ii] = 0
					}
					continue
				}
				off := i*rs + pc*cs
				for kk := 0; kk < kc; kk++ {
					t[kk*gemmMR+ii] = src[off+kk*cs]
				}
			}
		}
	}
}

// posTable holds, for up to gemmNR output positions, the offset of the image
// in the input, and the input row and column of the filter's top-left tap.
type posTable struct {
	cnt      int
	base     [gemmNR]int
	iy0, ix0 [gemmNR]int
	colOff   [gemmNR]int // base + iy0*w + ix0: add c*h*w + ky*w + kx for tap (c, ky, kx)
	outOff   [gemmNR]int // offset of (n, 0, oy, ox) in the output
	// the range of iy0 and ix0 over the positions
	minY, maxY, minX, maxX int
}

// inside reports whether tap (ky, kx) falls inside the image for every
// position of the table, so that colOff needs no bounds check.
func (t *posTable) inside(g convGeom, ky, kx int) bool {
	return t.minY+ky >= 0 && t.maxY+ky < g.h && t.minX+kx >= 0 && t.maxX+kx < g.w
}

// fill describes positions j0 .. j0+cnt-1 of the batch (j = n*q + oy*ow + ox).
func (t *posTable) fill(g convGeom, j0, cnt int) {
	t.cnt = cnt
	q := g.q()
	n, r := j0/q, j0%q
	oy, ox := r/g.ow, r%g.ow
	t.minY, t.minX = oy*g.s-g.p, ox*g.s-g.p
	t.maxY, t.maxX = t.minY, t.minX
	for jj := 0; jj < cnt; jj++ {
		iy, ix := oy*g.s-g.p, ox*g.s-g.p
		t.base[jj] = n * g.c * g.h * g.w
		t.iy0[jj], t.ix0[jj] = iy, ix
		t.colOff[jj] = t.base[jj] + iy*g.w + ix
		t.outOff[jj] = n*g.o*q + oy*g.ow + ox
		t.minY, t.maxY = min(t.minY, iy), max(t.maxY, iy)
		t.minX, t.maxX = min(t.minX, ix), max(t.maxX, ix)
		if ox++; ox == g.ow {
			ox = 0
			if oy++; oy == g.oh {
				oy = 0
				n++
			}
		}
	}
}

// packCol packs rows [k0, k0+kc) (filter taps (c, ky, kx)) and columns
// [j0, j0+nc) (output positions) of the im2col matrix of x into micro-panels.
func packCol[T float](g convGeom, dst, x []T, k0, kc, j0, nc int) {
	var t posTable
	hw := g.h * g.w
	kk2 := g.k * g.k
	for jt := 0; jt*gemmNR < nc; jt++ {
		cnt := min(gemmNR, nc-jt*gemmNR)
		t.fill(g, j0+jt*gemmNR, cnt)
		panel := dst[jt*kc*gemmNR:][:kc*gemmNR]
		c, ky, kx := k0/kk2, k0%kk2/g.k, k0%g.k
		for kk := 0; kk < kc; kk++ {
			row := panel[kk*gemmNR:][:gemmNR]
			cb := c * hw
			if t.inside(g, ky, kx) {
				ro := cb + ky*g.w + kx
				for jj, off := range t.colOff[:cnt] {
					row[jj] = x[off+ro]
				}
			} else {
				for jj := 0; jj < cnt; jj++ {
					iy, ix := t.iy0[jj]+ky, t.ix0[jj]+kx
					if uint(iy) < uint(g.h) && uint(ix) < uint(g.w) {
						row[jj] = x[t.base[jj]+cb+iy*g.w+ix]
					} else {
						row[jj] = 0
					}
				}
			}
			clear(row[cnt:])
			if kx++; kx == g.k {
				kx = 0
				if ky++; ky == g.k {
					ky = 0
					c++
				}
			}
		}
	}
}

// convForward writes the activation of the convolution of x with filters wt
// and bias b:
//
//	z[n,o,y,x] = b[o] + sum_{c,i,j} wt[o,c,i,j] * x[n, c, s*y-p+i, s*x-p+j]
//	y = z, or LeakyReLU(z) = (z < 0 ? slope*z : z) when act
//
// as the GEMM Z^T = W Col (W the o x kd filter matrix, Col the kd x (n*q)
// im2col matrix packed on the fly), NCHW output written by the GEMM's store
// with the bias and activation fused. Tasks are fixed groups of images.
func convForward[T float](g convGeom, cw *convWork[T], x, wt, b []T, slope T, act bool, y []T) {
	q, kd := g.q(), g.kd()
	gm := &gemm[T]{m: g.o, n: g.n * q, k: kd}
	chunk := g.chunk()
	tasks := (g.n + chunk - 1) / chunk
	nw := numWorkers(tasks)
	cw.prepare(gm, nw)
	packA(cw.apack, wt, g.o, kd, kd, 1)
	gm.packB = func(dst []T, k0, kc, j0, nc int) { packCol(g, dst, x, k0, kc, j0, nc) }
	mt := gm.mPad() / gemmMR
	gm.store = func(c []T, j0, nc int) {
		var t posTable
		for jt := 0; jt*gemmNR < nc; jt++ {
			cnt := min(gemmNR, nc-jt*gemmNR)
			t.fill(g, j0+jt*gemmNR, cnt)
			for o := 0; o < g.o; o++ {
				row := c[gemmTiles(o, jt*gemmNR, mt):][:cnt]
				bo, oq := b[o], o*q
				if act {
					for jj, v := range row {
						v += bo
						y[t.outOff[jj]+oq] = max(v, 0) + slope*min(v, 0)
					}
				} else {
					for jj, v := range row {
						y[t.outOff[jj]+oq] = v + bo
					}
				}
			}
		}
	}
	kern := kernelFor[T]()
	parallel(tasks, func(w, i int) {
		bb, cb := cw.worker(w, 0, 0)
		n0, n1 := i*chunk, min(g.n, (i+1)*chunk)
		gm.run(n0*q, n1*q, bb, cb, kern)
	})
}

// convInputGrad writes the gradient with respect to the input x,
//
//	gx[n,c,iy,ix] = sum over (o, i, j, y, x) with s*y-p+i = iy, s*x-p+j = ix
//	                of wt[o,c,i,j] * gz[n,o,y,x]
//
// as the GEMM GCol = W^T GZ followed by col2im, fused into the GEMM's store:
// each task owns whole images of gx and adds into them in a fixed order.
func convInputGrad[T float](g convGeom, cw *convWork[T], gz, wt, gx []T) {
	q, kd := g.q(), g.kd()
	gm := &gemm[T]{m: kd, n: g.n * q, k: g.o}
	chunk := g.chunk()
	tasks := (g.n + chunk - 1) / chunk
	nw := numWorkers(tasks)
	cw.prepare(gm, nw)
	packA(cw.apack, wt, kd, g.o, 1, kd)
	gm.packB = func(dst []T, k0, kc, j0, nc int) {
		var t posTable
		for jt := 0; jt*gemmNR < nc; jt++ {
			cnt := min(gemmNR, nc-jt*gemmNR)
			t.fill(g, j0+jt*gemmNR, cnt)
			panel := dst[jt*kc*gemmNR:][:kc*gemmNR]
			for kk := 0; kk < kc; kk++ {
				row := panel[kk*gemmNR:][:gemmNR]
				oq := (k0 + kk) * q
				for jj := 0; jj < cnt; jj++ {
					row[jj] = gz[t.outOff[jj]+oq]
				}
				clear(row[cnt:])
			}
		}
	}
	mt := gm.mPad() / gemmMR
	hw, kk2 := g.h*g.w, g.k*g.k
	gm.store = func(c []T, j0, nc int) {
		var t posTable
		for jt := 0; jt*gemmNR < nc; jt++ {
			cnt := min(gemmNR, nc-jt*gemmNR)
			t.fill(g, j0+jt*gemmNR, cnt)
			for i := 0; i < kd; i++ {
				ci, ky, kx := i/kk2, i%kk2/g.k, i%g.k
				row := c[gemmTiles(i, jt*gemmNR, mt):][:cnt]
				cb := ci * hw
				if t.inside(g, ky, kx) {
					ro := cb + ky*g.w + kx
					for jj, v := range row {
						gx[t.colOff[jj]+ro] += v
					}
					continue
				}
				for jj, v := range row {
					iy, ix := t.iy0[jj]+ky, t.ix0[jj]+kx
					if uint(iy) < uint(g.h) && uint(ix) < uint(g.w) {
						gx[t.base[jj]+cb+iy*g.w+ix] += v
					}
				}
			}
		}
	}
	kern := kernelFor[T]()
	per := g.c * hw
	parallel(tasks, func(w, i int) {
		bb, cb := cw.worker(w, 0, 0)
		n0, n1 := i*chunk, min(g.n, (i+1)*chunk)
		clear(gx[n0*per : n1*per])
		gm.run(n0*q, n1*q, bb, cb, kern)
	})
}

// convWeightGrad writes the gradient with respect to the filters,
//
//	gw[o,c,i,j] = sum over (n, y, x) of gz[n,o,y,x] * x[n, c, s*y-p+i, s*x-p+j]
//
// as the GEMM GW = GZ Col^T, the reduction running over every output
// position of the batch in order. Tasks are fixed blocks of filter taps and
// each element is reduced by one task, so the partition does not change it.
func convWeightGrad[T float](g convGeom, cw *convWork[T], x, gz, gw []T) {
	q, kd := g.q(), g.kd()
	gm := &gemm[T]{m: g.o, n: kd, k: g.n * q}
	const cols = 2 * gemmNR
	tasks := (kd + cols - 1) / cols
	nw := numWorkers(tasks)
	cw.prepare(gm, nw)
	// A(o, r) = gz[n, o, y, x] for r = n*q + y*ow + x.
	mPad := gm.mPad()
	for pc := 0; pc < gm.k; pc += gemmKC {
		kc := min(gemmKC, gm.k-pc)
		blk := cw.apack[pc*mPad:]
		for it := 0; it < mPad/gemmMR; it++ {
			t := blk[it*gemmMR*kc:][:gemmMR*kc]
			for ii := 0; ii < gemmMR; ii++ {
				o := it*gemmMR + ii
				if o >= g.o {
					for kk := 0; kk < kc; kk++ {
						t[kk*gemmMR+ii] = 0
					}
					continue
				}
				n, r := pc/q, pc%q
				for kk := 0; kk < kc; kk++ {
					t[kk*gemmMR+ii] = gz[(n*g.o+o)*q+r]
					if r++; r == q {
						r = 0
						n++
					}
				}
			}
		}
	}
	hw, kk2 := g.h*g.w, g.k*g.k
	gm.packB = func(dst []T, k0, kc, j0, nc int) {
		var cOff, ky, kx, tap [gemmNR]int
		for jt := 0; jt*gemmNR < nc; jt++ {
			cnt := min(gemmNR, nc-jt*gemmNR)
			for jj := 0; jj < cnt; jj++ {
				i := j0 + jt*gemmNR + jj
				cOff[jj], ky[jj], kx[jj] = i/kk2*hw, i%kk2/g.k, i%g.k
				tap[jj] = cOff[jj] + ky[jj]*g.w + kx[jj]
			}
			panel := dst[jt*kc*gemmNR:][:kc*gemmNR]
			n, r := k0/q, k0%q
			for kk := 0; kk < kc; kk++ {
				row := panel[kk*gemmNR:][:gemmNR]
				base := n * g.c * hw
				iy0, ix0 := r/g.ow*g.s-g.p, r%g.ow*g.s-g.p
				if iy0 >= 0 && ix0 >= 0 && iy0+g.k <= g.h && ix0+g.k <= g.w {
					off := base + iy0*g.w + ix0
					for jj, d := range tap[:cnt] {
						row[jj] = x[off+d]
					}
					clear(row[cnt:])
					if r++; r == q {
						r = 0
						n++
					}
					continue
				}
				for jj := 0; jj < cnt; jj++ {
					iy, ix := iy0+ky[jj], ix0+kx[jj]
					if uint(iy) < uint(g.h) && uint(ix) < uint(g.w) {
						row[jj] = x[base+cOff[jj]+iy*g.w+ix]
					} else {
						row[jj] = 0
					}
				}
				clear(row[cnt:])
				if r++; r == q {
					r = 0
					n++
				}
			}
		}
	}
	mt := mPad / gemmMR
	gm.store = func(c []T, j0, nc int) {
		for o := 0; o < g.o; o++ {
			for j := 0; j < nc; j++ {
				gw[o*kd+j0+j] = c[gemmTiles(o, j, mt)]
			}
		}
	}
	kern := kernelFor[T]()
	parallel(tasks, func(w, i int) {
		bb, cb := cw.worker(w, 0, 0)
		gm.run(i*cols, min(kd, (i+1)*cols), bb, cb, kern)
	})
}
