//go:build !purego

package convnet

import "golang.org/x/sys/cpu"

//go:noescape
func sumRowsAVX2(dst, src *float32, rows, c int)

// sumRowsF32 writes dst[j] = sum over rows of src[r*c+j] with AVX2 when c
// is a multiple of 8 and reports whether it did.
func sumRowsF32(dst, src []float32, c int) bool {
	rows := len(src) / c
	if !haveAVX2 || c%8 != 0 || rows == 0 {
		return false
	}
	_, _ = dst[c-1], src[rows*c-1]
	sumRowsAVX2(&dst[0], &src[0], rows, c)
	return true
}

//go:noescape
func leakyGradAVX2(dst, gs, y *float32, n int, slope float32)

// haveAVX2 says whether leakyGradF32 may use AVX2.
var haveAVX2 = cpu.X86.HasAVX2

// leakyGradF32 writes dst[i] = y[i] > 0 ? g[i] : slope*g[i], eight at a
// time with AVX2, and returns how many it wrote (a multiple of 8; the
// caller does the rest).
func leakyGradF32(dst, g, y []float32, slope float32) int {
	n := len(dst) &^ 7
	if !haveAVX2 || n == 0 {
		return 0
	}
	_, _ = g[n-1], y[n-1]
	leakyGradAVX2(&dst[0], &g[0], &y[0], n, slope)
	return n
}

//go:noescape
func gatherRows32(dst, src *float32, bases *int, n, off int)

//go:noescape
func strideRows8x(dst, src *float32, n, stride int)

// gatherRowsF32 is gatherRows for float32, in assembly (the Go compiler
// turns a 128-byte block move into a call to memmove); it reports whether
// it did the work.
func gatherRowsF32(dst, src []float32, bases []int, off int) bool {
	if len(bases) == 0 {
		return true
	}
	_ = dst[len(bases)*gemmNR-1]
	hi := 0
	for _, b := range bases {
		if b < 0 {
			panic("convnet: negative row base")
		}
		hi = max(hi, b)
	}
	_ = src[off]
	_ = src[hi+off+gemmNR-1]
	gatherRows32(&dst[0], &src[off], &bases[0], len(bases), 0)
	return true
}

// strideRowsF32 is strideRows8 for float32, in assembly; it reports
// whether it did the work.
func strideRowsF32(dst, src []float32, stride int) bool {
	n := len(dst) / gemmMR
	if n == 0 {
		return true
	}
	_ = src[(n-1)*stride+gemmMR-1]
	strideRows8x(&dst[0], &src[0], n, stride)
	return true
}
