package convnet

import "unsafe"

// The filter-gradient pass: the direct kernel (wg.go) or the packed GEMM
// (gemm.go).

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
			call := &wk.wg // kept in the worker: not allocated per task
			*call = wgCall{bases: unsafe.Pointer(&ptrs[0]), kc: kc, bstride: g.o * size}
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
				kern(call)
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

// weightGradSuper is the number of output positions whose gz the filter
// gradient packs at a time (a multiple of gemmKC).
const weightGradSuper = 16 * gemmKC

// gatherRows writes dst[i*32 : i*32+32] = src[bases[i]+off : ... +32] for
// every i: the packing of 32 channels of one tap.
func gatherRows[T float](dst, src []T, bases []int, off int) {
	if d, ok := any(dst).([]float32); ok && gatherRowsF32(d, any(src).([]float32), bases, off) {
		return
	}
	for i, b := range bases {
		copy(dst[i*gemmNR:][:gemmNR], src[b+off:])
	}
}

// strideRows8 writes dst[i*8 : i*8+8] = src[i*stride : i*stride+8] for
// i < len(dst)/8: the packing of 8 filters of successive positions.
func strideRows8[T float](dst, src []T, stride int) {
	if d, ok := any(dst).([]float32); ok && strideRowsF32(d, any(src).([]float32), stride) {
		return
	}
	for i := 0; i < len(dst)/gemmMR; i++ {
		copy(dst[i*gemmMR:][:gemmMR], src[i*stride:])
	}
}
