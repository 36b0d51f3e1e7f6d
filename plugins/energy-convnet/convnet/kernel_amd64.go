//go:build !purego

package convnet

//go:generate go run gen_asm.go

import "golang.org/x/sys/cpu"

//go:noescape
func kernAVX512(kc int, a, b, c *float32, load bool)

//go:noescape
func kernAVX2(kc int, a, b, c *float32, load bool)

//go:noescape
func indAVX512(p *indCall)

//go:noescape
func indAVX2(p *indCall, part int)

//go:noescape
func wgAVX512(p *wgCall)

//go:noescape
func firstGradAVX512(out *float32, gzp *float32, bases *int64, n int, toff *int64, nt int, w *float32, o int)

// firstGradAVX512s checks the slices' bounds for firstGradAVX512: n =
// len(out), a multiple of 4; every bases[i]+toff[t] must leave o values
// of gzp in range (the caller's padding sees to it; checked here).
func firstGradAVX512s(out, gzp []float32, bases, toff []int64, w []float32, o int) {
	n := len(out)
	if n%4 != 0 || len(bases) < n || len(toff) == 0 || len(w) < len(toff)*o || o%16 != 0 {
		panic("convnet: firstGradAVX512: bad arguments")
	}
	lo, hi := int64(0), int64(0)
	for _, t := range toff {
		lo, hi = min(lo, t), max(hi, t)
	}
	for _, b := range bases[:n] {
		if b+lo < 0 || int(b+hi)/4+o > len(gzp) {
			panic("convnet: firstGradAVX512: offset out of range")
		}
	}
	if n == 0 {
		return
	}
	firstGradAVX512(&out[0], &gzp[0], &bases[0], n, &toff[0], len(toff), &w[0], o)
}

//go:noescape
func wgAVX2(p *wgCall, part int)

// wgAVX2Tile runs the AVX2 filter-gradient kernel on the four quarters of
// the tile.
func wgAVX2Tile(p *wgCall) {
	for part := 0; part < 4; part++ {
		wgAVX2(p, part)
	}
}

// indAVX2Tile runs the AVX2 indirect kernel on the four quarters of the tile.
func indAVX2Tile(p *indCall) {
	for part := 0; part < 4; part++ {
		indAVX2(p, part)
	}
}

// kernelAVX512 and kernelAVX2 are the assembly micro-kernels with the
// contract of kernelGo; the slices must hold kc*gemmMR, kc*gemmNR and
// gemmMR*gemmNR values and kc must be at least 1.
func kernelAVX512(kc int, a, b, c []float32, load bool) {
	_, _, _ = a[kc*gemmMR-1], b[kc*gemmNR-1], c[gemmMR*gemmNR-1]
	kernAVX512(kc, &a[0], &b[0], &c[0], load)
}

func kernelAVX2(kc int, a, b, c []float32, load bool) {
	_, _, _ = a[kc*gemmMR-1], b[kc*gemmNR-1], c[gemmMR*gemmNR-1]
	kernAVX2(kc, &a[0], &b[0], &c[0], load)
}

// float32Kernels lists the float32 micro-kernels this CPU can run, fastest
// first, by name; the last is always the portable one.
func float32Kernels() []namedKernel {
	var ks []namedKernel
	if cpu.X86.HasAVX512F {
		ks = append(ks, namedKernel{"avx512", kernelAVX512, indAVX512, wgAVX512, firstGradAVX512s})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, namedKernel{"avx2", kernelAVX2, indAVX2Tile, wgAVX2Tile, nil})
	}
	return append(ks, namedKernel{"go", kernelGo[float32], indGo[float32], wgGo[float32], nil})
}
