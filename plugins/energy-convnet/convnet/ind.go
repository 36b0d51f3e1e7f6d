package convnet

import "unsafe"

// indNR is the column width of the indirect kernel's tile, indMR its rows.
const (
	indMR = 8
	indNR = 32
)

// Initial values of an indirect tile (indCall.init).
const (
	indZero = iota // start from zero
	indBias        // start from the 32 values at bias, in every row
	indLoad        // start from the values in the output rows (accumulate)
)

// indCall is one call of the indirect convolution micro-kernel, which
// computes an 8 x 32 tile straight from the activations, without packing
// them (the "indirect convolution" of Dukhan, 2019):
//
//	acc[r][j] = init(r, j) + sum_{t < nt} sum_{c < nc} A(r, t, c) * b[(t*nc + c)*32 + j]
//	A(r, t, c) = the element at byte offset toff[t] + c*size from arow[r]
//	crow[r][j] = act ? LeakyReLU(acc[r][j]) : acc[r][j]
//
// For a convolution over an NHWC image, arow[r] points at the top-left
// input pixel of output position r, toff[t] is the byte offset of filter
// tap t from there and nc the number of input channels, so every read is a
// broadcast of an element already in memory in the order the reduction
// needs it. The assembly kernels read the fields at fixed offsets (noted in
// ind_amd64.s): do not reorder them.
type indCall struct {
	arow    [indMR]unsafe.Pointer // 0: A rows (element 0 of row r)
	crow    [indMR]unsafe.Pointer // 64: output rows, 32 elements each
	toff    unsafe.Pointer        // 128: *int64, nt byte offsets
	nt      int                   // 136
	nc      int                   // 144
	b       unsafe.Pointer        // 152: packed B, nt*nc rows of 32
	bias    unsafe.Pointer        // 160: 32 values (init == indBias)
	init    int                   // 168
	act     int                   // 176: 1 for LeakyReLU
	slope   float32               // 184: the LeakyReLU slope for float32
	_       float32
	slope64 float64 // 192: the slope for float64
}

// indGo is the portable indirect kernel, for float32 and float64. Each
// element is reduced in the order of the assembly kernels (taps, then
// channels, ascending); the assembly fuses the multiply-add, this one
// rounds twice.
func indGo[T float](p *indCall) {
	var acc [indMR][indNR]T
	for r := range acc {
		switch p.init {
		case indBias:
			acc[r] = *(*[indNR]T)(p.bias)
		case indLoad:
			acc[r] = *(*[indNR]T)(p.crow[r])
		}
	}
	var z T
	toff := unsafe.Slice((*int64)(p.toff), p.nt)
	b := unsafe.Slice((*T)(p.b), p.nt*p.nc*indNR)
	for r := range acc {
		ar := &acc[r]
		k := 0
		for _, off := range toff {
			a := unsafe.Slice((*T)(unsafe.Add(p.arow[r], int(off))), p.nc)
			for _, av := range a {
				bk := (*[indNR]T)(b[k*indNR:])
				for j, bv := range bk {
					ar[j] += av * bv
				}
				k++
			}
		}
	}
	slope := T(p.slope64)
	if _, ok := any(z).(float32); ok {
		slope = T(p.slope)
	}
	for r := range acc {
		out := (*[indNR]T)(p.crow[r])
		for j, v := range acc[r] {
			if p.act != 0 {
				v = max(v, 0) + slope*min(v, 0)
			}
			out[j] = v
		}
	}
}

// indKernelFor returns the indirect kernel for T: the float32 one in use
// (kernelF32), or the portable kernel for float64.
func indKernelFor[T float]() func(*indCall) {
	var z T
	if _, ok := any(z).(float32); ok {
		return kernelF32.ind
	}
	return indGo[float64]
}

// ptr returns a pointer to s[i] as an unsafe.Pointer.
func ptr[T float](s []T, i int) unsafe.Pointer { return unsafe.Pointer(&s[i]) }
