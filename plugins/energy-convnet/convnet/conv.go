package convnet

import "math"

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
	cacc  []T // the filter gradient's C blocks, one per task
	gz    []T // gz = dL/dz of the current derivative op
}

// materialize writes gz into cw.gz, one image group per task, and returns it
// as a plain gradient. One sequential pass over dL/dy and y is cheaper than
// applying the activation's derivative to the short strided runs the GEMM
// packs (two streams instead of one, a call per run).
func (cw *convWork[T]) materialize(gz gradAt[T], n, chunk int) gradAt[T] {
	if !gz.act {
		return gz
	}
	if len(cw.gz) < len(gz.g) {
		cw.gz = make([]T, len(gz.g))
	}
	per := len(gz.g) / n
	parallel((n+chunk-1)/chunk, func(_, i int) {
		a, b := i*chunk*per, min(n, (i+1)*chunk)*per
		gz.copyTo(cw.gz[a:b], a)
	})
	return gradAt[T]{g: cw.gz[:len(gz.g)]}
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
	outOff   [gemmNR]int // offset of (n, 0, oy, ox) in the output
	// runs[i] .. runs[i+1]-1 are positions with consecutive outOff (one
	// image), for i < nrun
	nrun int
	runs [gemmNR + 1]int
}

// tapTable fills, for every tap (ky, kx) of the filter and every position
// jj of t, off[(ky*k+kx)*gemmNR+jj], the offset the tap reads relative to
// its channel's plane, clamped inside the image, and mask[...] = 1 if the
// tap falls inside the image, 0 if it falls on the zero padding. A tap on
// the padding thus reads or writes a real element multiplied by 0, and the
// inner loops need no branches. off and mask hold k*k*gemmNR values.
func tapTable[T float](g convGeom, t *posTable, off []int32, mask []T) {
	for ky := 0; ky < g.k; ky++ {
		for kx := 0; kx < g.k; kx++ {
			o := off[(ky*g.k+kx)*gemmNR:][:gemmNR]
			m := mask[(ky*g.k+kx)*gemmNR:][:gemmNR]
			for jj := 0; jj < t.cnt; jj++ {
				iy, ix := t.iy0[jj]+ky, t.ix0[jj]+kx
				m[jj] = 1
				if uint(iy) >= uint(g.h) || uint(ix) >= uint(g.w) {
					m[jj] = 0
					iy, ix = min(max(iy, 0), g.h-1), min(max(ix, 0), g.w-1)
				}
				o[jj] = int32(t.base[jj] + iy*g.w + ix)
			}
		}
	}
}

// tapBuffers returns off and mask slices for tapTable, from the arrays
// when the filter has at most 16 taps.
func tapBuffers[T float](g convGeom, offArr *[16 * gemmNR]int32, maskArr *[16 * gemmNR]T) ([]int32, []T) {
	if n := g.k * g.k * gemmNR; n > len(offArr) {
		return make([]int32, n), make([]T, n)
	}
	return offArr[:], maskArr[:]
}

// fill describes positions j0 .. j0+cnt-1 of the batch (j = n*q + oy*ow + ox).
func (t *posTable) fill(g convGeom, j0, cnt int) {
	t.cnt = cnt
	t.nrun = 0
	q := g.q()
	n, r := j0/q, j0%q
	oy, ox := r/g.ow, r%g.ow
	for jj := 0; jj < cnt; jj++ {
		t.base[jj] = n * g.c * g.h * g.w
		t.iy0[jj], t.ix0[jj] = oy*g.s-g.p, ox*g.s-g.p
		t.outOff[jj] = n*g.o*q + oy*g.ow + ox
		if jj == 0 || t.outOff[jj] != t.outOff[jj-1]+1 {
			t.runs[t.nrun] = jj
			t.nrun++
		}
		if ox++; ox == g.ow {
			ox = 0
			if oy++; oy == g.oh {
				oy = 0
				n++
			}
		}
	}
	t.runs[t.nrun] = cnt
}

// packCol packs rows [k0, k0+kc) (filter taps (c, ky, kx)) and columns
// [j0, j0+nc) (output positions) of the im2col matrix of x into micro-panels.
func packCol[T float](g convGeom, dst, x []T, k0, kc, j0, nc int) {
	var t posTable
	var offArr [16 * gemmNR]int32
	var maskArr [16 * gemmNR]T
	offs, masks := tapBuffers(g, &offArr, &maskArr)
	hw := g.h * g.w
	kk2 := g.k * g.k
	for jt := 0; jt*gemmNR < nc; jt++ {
		cnt := min(gemmNR, nc-jt*gemmNR)
		t.fill(g, j0+jt*gemmNR, cnt)
		tapTable(g, &t, offs, masks)
		panel := dst[jt*kc*gemmNR:][:kc*gemmNR]
		c, tap := k0/kk2, k0%kk2
		for kk := 0; kk < kc; kk++ {
			row := panel[kk*gemmNR:][:gemmNR]
			xc := x[c*hw:]
			off := offs[tap*gemmNR:][:cnt]
			mask := masks[tap*gemmNR:][:cnt]
			for jj, o := range off {
				row[jj] = xc[o] * mask[jj]
			}
			clear(row[cnt:])
			if tap++; tap == kk2 {
				tap = 0
				c++
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
				for r := 0; r < t.nrun; r++ {
					j0, j1 := t.runs[r], t.runs[r+1]
					biasAct(y[t.outOff[j0]+oq:][:j1-j0], row[j0:j1], bo, slope, act)
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

// biasAct writes dst = act(src + b), act the LeakyReLU if act is set, else
// the identity. The float32 LeakyReLU selects its factor with an integer
// conditional move on the bits (int32(bits) > 0 exactly when v > 0), since
// signs are random and a branch would be mispredicted half the time.
func biasAct[T float](dst, src []T, b, slope T, act bool) {
	dst = dst[:len(src)]
	if !act {
		for i, v := range src {
			dst[i] = v + b
		}
		return
	}
	if d32, ok := any(dst).([]float32); ok {
		s32 := any(src).([]float32)
		b32, sb, one := float32(b), math.Float32bits(float32(slope)), math.Float32bits(1)
		for i, v := range s32 {
			v += b32
			m := sb
			if int32(math.Float32bits(v)) > 0 {
				m = one
			}
			d32[i] = v * math.Float32frombits(m)
		}
		return
	}
	for i, v := range src {
		v += b
		dst[i] = max(v, 0) + slope*min(v, 0)
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
//	gx[n,c,iy,ix] = sum over (o, i, j, y, x) with s*y-p+i = iy, s*x-p+j = ix
//	                of wt[o,c,i,j] * gz[n,o,y,x]
//
// as the GEMM GCol = W^T GZ followed by col2im, fused into the GEMM's store:
// each task owns whole images of gx and adds into them in a fixed order.
func convInputGrad[T float](g convGeom, cw *convWork[T], gz gradAt[T], wt, gx []T) {
	q, kd := g.q(), g.kd()
	gz = cw.materialize(gz, g.n, g.chunk())
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
				for r := 0; r < t.nrun; r++ {
					j0, j1 := t.runs[r], t.runs[r+1]
					gz.copyTo(row[j0:j1], t.outOff[j0]+oq)
				}
				clear(row[cnt:])
			}
		}
	}
	mt := gm.mPad() / gemmMR
	hw, kk2 := g.h*g.w, g.k*g.k
	gm.store = func(c []T, j0, nc int) {
		var t posTable
		var offArr [16 * gemmNR]int32
		var maskArr [16 * gemmNR]T
		offs, masks := tapBuffers(g, &offArr, &maskArr)
		for jt := 0; jt*gemmNR < nc; jt++ {
			cnt := min(gemmNR, nc-jt*gemmNR)
			t.fill(g, j0+jt*gemmNR, cnt)
			tapTable(g, &t, offs, masks)
			for i := 0; i < kd; i++ {
				ci, tap := i/kk2, i%kk2
				row := c[gemmTiles(i, jt*gemmNR, mt):][:cnt]
				gc := gx[ci*hw:]
				off := offs[tap*gemmNR:][:cnt]
				mask := masks[tap*gemmNR:][:cnt]
				for jj, v := range row {
					gc[off[jj]] += v * mask[jj]
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
func convWeightGrad[T float](g convGeom, cw *convWork[T], x []T, gz gradAt[T], gw []T) {
	q, kd := g.q(), g.kd()
	gz = cw.materialize(gz, g.n, g.chunk())
	total := g.n * q
	gm := &gemm[T]{m: g.o, n: kd, k: min(total, weightGradSuper)}
	cols := min(2*gemmNR, gm.nc()) // one column block per task
	tasks := (kd + cols - 1) / cols
	nw := numWorkers(tasks)
	cw.prepare(gm, nw)
	mPad := gm.mPad()
	if n := tasks * mPad * cols; len(cw.cacc) < n {
		cw.cacc = make([]T, n)
	}
	// packGZ packs A(o, r) = gz[n, o, y, x] for r = n*q + y*ow + x in
	// [k0, k0+gm.k), one reduction block per task.
	packGZ := func(k0 int) {
		parallel((gm.k+gemmKC-1)/gemmKC, func(_, b int) {
			pc := b * gemmKC
			kc := min(gemmKC, gm.k-pc)
			blk := cw.apack[pc*mPad:]
			var tmp [gemmKC]T
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
					n, r := (k0+pc)/q, (k0+pc)%q
					for kk := 0; kk < kc; { // runs of positions in one image
						run := min(kc-kk, q-r)
						gz.copyTo(tmp[kk:kk+run], (n*g.o+o)*q+r)
						if kk, r = kk+run, r+run; r == q {
							r = 0
							n++
						}
					}
					for kk, v := range tmp[:kc] {
						t[kk*gemmMR+ii] = v
					}
				}
			}
		})
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
	// The reduction runs over super-blocks of weightGradSuper positions, so
	// that only that much of gz is packed at a time; each task's C block
	// lives in cw.cacc across them. The blocks are multiples of gemmKC, so
	// every element is reduced in the same order as in one long GEMM.
	for k0 := 0; k0 < total; k0 += weightGradSuper {
		gm.k, gm.kOff = min(weightGradSuper, total-k0), k0
		gm.accum, gm.noStore = k0 > 0, k0+weightGradSuper < total
		packGZ(k0)
		parallel(tasks, func(w, i int) {
			bb, _ := cw.worker(w, 0, 0)
			gm.run(i*cols, min(kd, (i+1)*cols), bb, cw.cacc[i*mPad*cols:][:mPad*cols], kern)
		})
	}
}

// weightGradSuper is the number of output positions whose gz the filter
// gradient packs at a time (a multiple of gemmKC).
const weightGradSuper = 16 * gemmKC
