//go:build !amd64 || purego

package convnet

// The portable code of gatherRows, strideRows8, gradAt.copyTo and
// sumRows does the work on these platforms.

func gatherRowsF32(dst, src []float32, bases []int, off int) bool { return false }

func strideRowsF32(dst, src []float32, stride int) bool { return false }

func leakyGradF32(dst, g, y []float32, slope float32) int { return 0 }

func sumRowsF32(dst, src []float32, c int) bool { return false }
