//go:build !amd64 || purego

package convnet

// float32Kernels lists the float32 micro-kernels: the portable one only on
// this platform or with the purego build tag.
func float32Kernels() []namedKernel {
	return []namedKernel{{"go", kernelGo[float32], indGo[float32], wgGo[float32], nil}}
}
