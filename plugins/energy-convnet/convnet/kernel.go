package convnet

// namedKernel is a set of float32 micro-kernels, the packed GEMM's (fn)
// the indirect convolution's (ind) and the direct filter gradient's (wg),
// with the name reported in logs and
// benchmarks ("avx512", "avx2" or "go").
type namedKernel struct {
	name string
	fn   func(kc int, a, b, c []float32, load bool)
	ind  func(*indCall)
	wg   func(*wgCall)
	// first, if not nil, is the input gradient of a one-channel,
	// stride-1 layer (inputGradFirst); the other kernels do it otherwise.
	first func(out, gzp []float32, bases, toff []int64, w []float32, o int)
}

// kernelF32 is the float32 micro-kernel in use: the fastest the CPU runs,
// chosen at start-up from golang.org/x/sys/cpu. float64 (used for numerical
// checks) always runs the portable kernelGo.
var kernelF32 = float32Kernels()[0]

// kernelFor returns the micro-kernel for T.
func kernelFor[T float]() func(kc int, a, b, c []T, load bool) {
	var z T
	switch any(z).(type) {
	case float32:
		return any(kernelF32.fn).(func(int, []T, []T, []T, bool))
	}
	return kernelGo[T]
}

// KernelName returns the name of the float32 micro-kernel in use: "avx512",
// "avx2" or "go".
func KernelName() string { return kernelF32.name }
