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

// newTensorFromHeader allocates the tensor a header announces.
func newTensorFromHeader(dt sdk.DType, shape []int64, n int64) *sdk.Tensor {
	s := make([]int, len(shape))
	for i, d := range shape {
		s[i] = int(d)
	}
	t := &sdk.Tensor{DType: dt, Shape: s}
	if dt == sdk.Float32 {
		t.F32 = make([]float32, n)
	} else {
		t.F64 = make([]float64, n)
	}
	return t
}

// fill copies little-endian bytes into the tensor's data at byte offset off.
func fill(t *sdk.Tensor, off int64, data []byte) {
	if hostLittleEndian {
		copy(tensorBytes(t)[off:], data)
		return
	}
	size := int64(t.DType.Size())
	for i := int64(0); i < int64(len(data)); i += size {
		k := (off + i) / size
		if t.DType == sdk.Float32 {
			t.F32[k] = math.Float32frombits(binary.LittleEndian.Uint32(data[i:]))
		} else {
			t.F64[k] = math.Float64frombits(binary.LittleEndian.Uint64(data[i:]))
		}
	}
}
