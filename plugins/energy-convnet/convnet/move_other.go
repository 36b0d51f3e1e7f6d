//go:build !amd64 || purego

package convnet

func gatherRowsF32(dst, src []float32, bases []int, off int) {
	for i, b := range bases {
		copy(dst[i*gemmNR:][:gemmNR], src[b+off:][:gemmNR])
	}
}

func strideRowsF32(dst, src []float32, stride int) {
	for i := 0; i < len(dst)/gemmMR; i++ {
		copy(dst[i*gemmMR:][:gemmMR], src[i*stride:][:gemmMR])
	}
}

func leakyGradF32(dst, g, y []float32, slope float32) int { return 0 }

func sumRowsF32(dst, src []float32, c int) bool { return false }
