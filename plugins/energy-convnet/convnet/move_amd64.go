//go:build !purego

package convnet

//go:noescape
func gatherRows32(dst, src *float32, bases *int, n, off int)

//go:noescape
func strideRows8x(dst, src *float32, n, stride int)

// gatherRowsF32 is gatherRows for float32, in assembly: the Go compiler
// turns a 128-byte block move into a call to memmove.
func gatherRowsF32(dst, src []float32, bases []int, off int) {
	if len(bases) == 0 {
		return
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
}

// strideRowsF32 is strideRows8 for float32, in assembly.
func strideRowsF32(dst, src []float32, stride int) {
	n := len(dst) / gemmMR
	if n == 0 {
		return
	}
	_ = src[(n-1)*stride+gemmMR-1]
	strideRows8x(&dst[0], &src[0], n, stride)
}
