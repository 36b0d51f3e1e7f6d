//go:build !purego

package convnet

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
		ks = append(ks, namedKernel{"avx512", kernelAVX512, indAVX512, wgAVX512})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, namedKernel{"avx2", kernelAVX2, indAVX2Tile, wgAVX2Tile})
	}
	return append(ks, namedKernel{"go", kernelGo[float32], indGo[float32], wgGo[float32]})
}
