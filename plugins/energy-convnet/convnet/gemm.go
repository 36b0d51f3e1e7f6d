package convnet

import (
	"runtime"
	"sync/atomic"
)

// Register-tile and cache-block sizes of the packed GEMM. A micro-kernel call
// computes one gemmMR x gemmNR tile of C over at most gemmKC reduction steps.
const (
	gemmMR = 8
	gemmNR = 32
	gemmKC = 256
	// gemmCBuf bounds the C block a worker holds (elements), so that the block
	// and the packed B panel stay in the L2 cache.
	gemmCBuf = 64 << 10
)

// float is the element type of the kernels.
type float interface{ float32 | float64 }

// gemm describes C = A B for C of size m x n and a reduction of length k, in
// the Goto/BLIS style: A is packed once, up front, into apack; B is packed
// by packB one KC x NC block at a time into micro-panels of gemmNR columns;
// finished column blocks of C are handed to store. The reduction for each
// element of C runs over k in order (blocks of gemmKC, each in ascending k),
// whatever the partitioning of the columns, so the result does not depend on
// how columns are split across workers.
type gemm[T float] struct {
	m, n, k int
	// apack holds A: for each reduction block starting at pc (length kc),
	// at offset pc*mPad, the row tiles one after another, each kc x gemmMR
	// values in reduction-major order (a[kk*gemmMR+ii]), rows past m zero.
	apack []T
	// packB writes columns [j0, j0+nc) of rows [k0, k0+kc) of B into dst as
	// micro-panels of gemmNR columns, each kc x gemmNR values in
	// reduction-major order (b[kk*gemmNR+jj]); columns past nc must be zero
	// (or anything: their results are never stored).
	packB func(dst []T, k0, kc, j0, nc int)
	// store receives a finished block of columns [j0, j0+nc) of C, laid out
	// as gemmTiles describes, of which row tiles [it0, it1) were computed.
	store func(c []T, j0, nc, it0, it1 int)
	// kOff is added to the reduction index handed to packB: the GEMM is
	// then rows [kOff, kOff+k) of a longer reduction. With accum set the
	// micro-kernels add to the C block passed to run instead of starting from
	// zero; with noStore set store is not called (the block is unfinished).
	kOff           int
	accum, noStore bool
}

// mPad returns m rounded up to whole row tiles.
func (g *gemm[T]) mPad() int { return roundUp(g.m, gemmMR) }

// nc returns the width of the column blocks.
func (g *gemm[T]) nc() int {
	return max(gemmNR, min(512, gemmCBuf/g.mPad()/gemmNR*gemmNR))
}

// gemmTiles locates element (i, j) of a C block: tiles are gemmMR x gemmNR,
// row-major inside, stored column tile by column tile, row tiles within:
//
//	offset = ((j/NR)*mTiles + i/MR)*MR*NR + (i%MR)*NR + j%NR
func gemmTiles(i, j, mTiles int) int {
	return ((j/gemmNR)*mTiles+i/gemmMR)*gemmMR*gemmNR + (i%gemmMR)*gemmNR + j%gemmNR
}

// run computes row tiles [it0, it1) of the columns [j0, j1) of C with the
// worker's packed-B buffer bbuf (nc()*gemmKC values) into the C block cbuf
// (mPad()*nc() values).
func (g *gemm[T]) run(j0, j1, it0, it1 int, bbuf, cbuf []T, kern func(kc int, a, b, c []T, load bool)) {
	mPad := g.mPad()
	mt := mPad / gemmMR
	w := g.nc()
	for jc := j0; jc < j1; jc += w {
		nc := min(w, j1-jc)
		nt := (nc + gemmNR - 1) / gemmNR
		c := cbuf[:mt*nt*gemmMR*gemmNR]
		for pc := 0; pc < g.k; pc += gemmKC {
			kc := min(gemmKC, g.k-pc)
			b := bbuf[:nt*kc*gemmNR]
			g.packB(b, g.kOff+pc, kc, jc, nc)
			ablk := g.apack[pc*mPad:]
			for jt := 0; jt < nt; jt++ {
				bp := b[jt*kc*gemmNR : (jt+1)*kc*gemmNR]
				for it := it0; it < it1; it++ {
					ct := c[(jt*mt+it)*gemmMR*gemmNR:][:gemmMR*gemmNR]
					kern(kc, ablk[it*gemmMR*kc:][:gemmMR*kc], bp, ct, pc > 0 || g.accum)
				}
			}
		}
		if g.k == 0 && !g.accum {
			clear(c)
		}
		if !g.noStore {
			g.store(c, jc, nc, it0, it1)
		}
	}
}

// kernelGo is the portable micro-kernel: c (+)= a b for one tile, with a
// kc x MR and b kc x NR, reduction-major; load says whether to add to c.
func kernelGo[T float](kc int, a, b, c []T, load bool) {
	if !load {
		clear(c[:gemmMR*gemmNR])
	}
	for kk := 0; kk < kc; kk++ {
		ak := a[kk*gemmMR : kk*gemmMR+gemmMR]
		bk := b[kk*gemmNR : kk*gemmNR+gemmNR]
		for i, ai := range ak {
			ci := c[i*gemmNR : i*gemmNR+gemmNR]
			for j, bj := range bk {
				ci[j] += ai * bj
			}
		}
	}
}

// roundUp rounds n up to a multiple of m.
func roundUp(n, m int) int { return (n + m - 1) / m * m }

// maxWorkers bounds the goroutines one operation uses.
const maxWorkers = 16

// numWorkers returns how many goroutines to use for n independent tasks.
func numWorkers(n int) int {
	return max(1, min(n, runtime.GOMAXPROCS(0), maxWorkers))
}

// parallel runs task(w, i) for every i in [0, n) on up to numWorkers(n)
// goroutines; w in [0, numWorkers(n)) names the goroutine, so that it can
// use its own scratch buffers. Tasks are handed out in order from a shared
// counter; which goroutine runs a task does not change what it computes.
//
// The calling goroutine is worker 0 and waits only for tasks that another
// worker has taken, not for the other workers to start: a worker that
// starts late (its core busy, as when a linked sampler spins on the other
// core of a two-core machine) finds no task left and ends at once, without
// holding up the caller.
func parallel(n int, task func(w, i int)) {
	nw := numWorkers(n)
	if nw == 1 {
		for i := 0; i < n; i++ {
			task(0, i)
		}
		return
	}
	var next, done atomic.Int64
	finished := make(chan struct{})
	work := func(w int) {
		for {
			i := int(next.Add(1) - 1)
			if i >= n {
				return
			}
			task(w, i)
			if done.Add(1) == int64(n) {
				close(finished)
			}
		}
	}
	for w := 1; w < nw; w++ {
		go work(w)
	}
	work(0)
	<-finished
}
