package wire

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"

	"github.com/ebmflow/ebmflow/internal/pb"
	"github.com/ebmflow/ebmflow/sdk"
)

// hostLittleEndian is true on little-endian machines, where tensor data is
// viewed as bytes without conversion.
var hostLittleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

func toPBDType(d sdk.DType) pb.DType {
	switch d {
	case sdk.Float32:
		return pb.DType_FLOAT32
	case sdk.Float64:
		return pb.DType_FLOAT64
	}
	return pb.DType_DTYPE_UNSPECIFIED
}

func fromPBDType(d pb.DType) (sdk.DType, bool) {
	switch d {
	case pb.DType_FLOAT32:
		return sdk.Float32, true
	case pb.DType_FLOAT64:
		return sdk.Float64, true
	}
	return 0, false
}

// tensorBytes returns the tensor's data as little-endian bytes. On a
// little-endian host it is a view of the tensor's memory, not a copy.
func tensorBytes(t *sdk.Tensor) []byte {
	switch t.DType {
	case sdk.Float32:
		if len(t.F32) == 0 {
			return nil
		}
		if hostLittleEndian {
			return unsafe.Slice((*byte)(unsafe.Pointer(&t.F32[0])), 4*len(t.F32))
		}
		b := make([]byte, 4*len(t.F32))
		for i, v := range t.F32 {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		return b
	case sdk.Float64:
		if len(t.F64) == 0 {
			return nil
		}
		if hostLittleEndian {
			return unsafe.Slice((*byte)(unsafe.Pointer(&t.F64[0])), 8*len(t.F64))
		}
		b := make([]byte, 8*len(t.F64))
		for i, v := range t.F64 {
			binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
		}
		return b
	}
	return nil
}

// shapeBytes checks a header's dtype and shape and returns the tensor's
// element count and byte length, refusing overflow and sizes above limit.
func shapeBytes(dt sdk.DType, shape []int64, limit int64) (n int64, err error) {
	n = 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension %d in shape %v", d, shape)
		}
		if d != 0 && n > math.MaxInt64/d {
			return 0, fmt.Errorf("shape %v overflows", shape)
		}
		n *= d
	}
	size := int64(dt.Size())
	if n > math.MaxInt64/size || n*size > limit {
		return 0, fmt.Errorf("%w: tensor of shape %v (%s) exceeds the limit of %d bytes", ErrTooLarge, shape, dt, limit)
	}
	return n, nil
}

// grow returns buf with room for need bytes (of which the first got are
// kept), at most want: storage doubles as data arrives, so a claimed size
// costs nothing before its bytes do. The storage is 8-byte aligned.
func grow(buf []byte, got, need, want int64) []byte {
	if int64(len(buf)) >= need {
		return buf
	}
	nb := AlignedBytes(min(want, max(2*int64(len(buf)), need)))
	copy(nb, buf[:got])
	return nb
}

// AlignedBytes returns n zero bytes of 8-byte aligned storage (nil for 0).
func AlignedBytes(n int64) []byte {
	if n == 0 {
		return nil
	}
	w := make([]uint64, (n+7)/8)
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(w))), n)
}

// TensorOver makes a tensor of n elements over data (8-byte aligned,
// little-endian, of exactly the tensor's length), converting in place on a
// big-endian host.
func TensorOver(dt sdk.DType, shape []int64, n int64, data []byte) *sdk.Tensor {
	s := make([]int, len(shape))
	for i, d := range shape {
		s[i] = int(d)
	}
	t := &sdk.Tensor{DType: dt, Shape: s}
	p := unsafe.Pointer(unsafe.SliceData(data))
	switch {
	case dt == sdk.Float32 && n > 0:
		t.F32 = unsafe.Slice((*float32)(p), n)
	case dt == sdk.Float32:
		t.F32 = []float32{}
	case n > 0:
		t.F64 = unsafe.Slice((*float64)(p), n)
	default:
		t.F64 = []float64{}
	}
	if !hostLittleEndian {
		for i := int64(0); i < n; i++ {
			if dt == sdk.Float32 {
				t.F32[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
			} else {
				t.F64[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:]))
			}
		}
	}
	return t
}

// CheckHeader checks a tensor header from a peer: a known dtype, a shape
// without negative or overflowing dimensions, at most limit bytes, and a
// byte length equal to the shape's. It returns the element count.
func CheckHeader(dt sdk.DType, shape []int64, byteLen, limit int64) (int64, error) {
	if dt != sdk.Float32 && dt != sdk.Float64 {
		return 0, fmt.Errorf("%w: unknown dtype %d", ErrMalformed, int(dt))
	}
	n, err := shapeBytes(dt, shape, limit)
	if err != nil {
		return 0, err
	}
	if byteLen != n*int64(dt.Size()) {
		return 0, fmt.Errorf("%w: shape %v (%s) claims %d bytes, its shape needs %d", ErrMalformed, shape, dt, byteLen, n*int64(dt.Size()))
	}
	return n, nil
}

// TensorBytes is the tensor's data as little-endian bytes (a view on a
// little-endian host).
func TensorBytes(t *sdk.Tensor) []byte { return tensorBytes(t) }

// HostLittleEndian reports whether tensor memory is little-endian as is.
func HostLittleEndian() bool { return hostLittleEndian }
