package convnet

import "unsafe"

// wgCall is one call of the direct filter-gradient micro-kernel, which
// computes an 8 x 32 tile of GW^T = Col^T GZ straight from the NHWC input
// and gz, without packing either:
//
//	c[r][j] (+)= sum_{k < kc} A(r, k) * B(k, j)
//	A(r, k) = the element at byte offset aoff + r*size from bases[k]
//	B(k, j) = b[k*bstride/size + j]       (32 filters of gz at position k)
//
// bases[k] points at the pixel position k reads for the tile's tap (or at
// zeros where the tap falls on the padding), aoff selects the tile's 8
// channels; c is the tile, row-major, bstride the byte stride of gz's
// rows. The assembly kernels read the fields at fixed offsets (noted in
// ind_amd64.s): do not reorder them.
type wgCall struct {
	aoff    int            // 0
	bases   unsafe.Pointer // 8: *unsafe.Pointer, kc of them
	kc      int            // 16
	b       unsafe.Pointer // 24
	bstride int            // 32
	c       unsafe.Pointer // 40: 8 x 32 values
	load    int            // 48: 1 to add to c, 0 to overwrite it
}

// wgGo is the portable direct filter-gradient kernel, for float32 and
// float64, reducing in the order of the assembly kernels.
func wgGo[T float](p *wgCall) {
	c := (*[indMR * indNR]T)(p.c)
	if p.load == 0 {
		clear(c[:])
	}
	bases := unsafe.Slice((*unsafe.Pointer)(p.bases), p.kc)
	for k, base := range bases {
		a := (*[indMR]T)(unsafe.Add(base, p.aoff))
		b := (*[indNR]T)(unsafe.Add(p.b, k*p.bstride))
		for r, av := range a {
			row := c[r*indNR:][:indNR]
			for j, bv := range b {
				row[j] += av * bv
			}
		}
	}
}

// wgKernelFor returns the direct filter-gradient kernel for T.
func wgKernelFor[T float]() func(*wgCall) {
	var z T
	if _, ok := any(z).(float32); ok {
		return kernelF32.wg
	}
	return wgGo[float64]
}
