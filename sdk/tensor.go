package sdk

import (
	"errors"
	"fmt"
	"math"
)

// DType is the element type of a Tensor.
type DType int

const (
	// Float32 is IEEE-754 binary32, the default for every built-in plugin.
	Float32 DType = 1
	// Float64 is IEEE-754 binary64, used for numerical checks.
	Float64 DType = 2
)

// Size returns the size in bytes of one element.
func (d DType) Size() int {
	switch d {
	case Float32:
		return 4
	case Float64:
		return 8
	}
	return 0
}

func (d DType) String() string {
	switch d {
	case Float32:
		return "float32"
	case Float64:
		return "float64"
	}
	return fmt.Sprintf("dtype(%d)", int(d))
}

// ErrNonFinite reports a NaN or an infinity where a finite number is required.
var ErrNonFinite = errors.New("non-finite value")

// ErrShape reports a tensor whose shape or dtype is not the one expected.
var ErrShape = errors.New("shape mismatch")

// ErrUnsupported is returned by an optional operation that a plugin does not
// provide, for example LogDensity of a data set whose density is unknown.
var ErrUnsupported = errors.New("operation not supported by this plugin")

// Tensor is a dense row-major array of float32 or float64. Exactly one of F32
// and F64 holds the data, according to DType. The first dimension of a batch is
// the batch size.
type Tensor struct {
	DType DType
	Shape []int
	F32   []float32
	F64   []float64
}

// NewTensor returns a zero tensor of the given dtype and shape.
func NewTensor(dt DType, shape ...int) *Tensor {
	t := &Tensor{DType: dt, Shape: append([]int(nil), shape...)}
	n := NumElements(shape)
	switch dt {
	case Float32:
		t.F32 = make([]float32, n)
	case Float64:
		t.F64 = make([]float64, n)
	default:
		panic(fmt.Sprintf("sdk.NewTensor: invalid dtype %v", dt))
	}
	return t
}

// FromFloat32 wraps data (not copied) as a float32 tensor of the given shape.
// It panics if the length does not match the shape.
func FromFloat32(data []float32, shape ...int) *Tensor {
	if NumElements(shape) != len(data) {
		panic(fmt.Sprintf("sdk.FromFloat32: %d values for shape %v", len(data), shape))
	}
	return &Tensor{DType: Float32, Shape: append([]int(nil), shape...), F32: data}
}

// FromFloat64 wraps data (not copied) as a float64 tensor of the given shape.
// It panics if the length does not match the shape.
func FromFloat64(data []float64, shape ...int) *Tensor {
	if NumElements(shape) != len(data) {
		panic(fmt.Sprintf("sdk.FromFloat64: %d values for shape %v", len(data), shape))
	}
	return &Tensor{DType: Float64, Shape: append([]int(nil), shape...), F64: data}
}

// NumElements returns the product of the dimensions (1 for a scalar shape).
func NumElements(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Len returns the number of elements.
func (t *Tensor) Len() int {
	if t.DType == Float64 {
		return len(t.F64)
	}
	return len(t.F32)
}

// Batch returns the first dimension, or 0 for a scalar.
func (t *Tensor) Batch() int {
	if len(t.Shape) == 0 {
		return 0
	}
	return t.Shape[0]
}

// SampleShape returns the shape without the batch dimension.
func (t *Tensor) SampleShape() []int {
	if len(t.Shape) == 0 {
		return nil
	}
	return t.Shape[1:]
}

// At returns element i as float64 whatever the dtype.
func (t *Tensor) At(i int) float64 {
	if t.DType == Float64 {
		return t.F64[i]
	}
	return float64(t.F32[i])
}

// Set sets element i, converting to the tensor's dtype.
func (t *Tensor) Set(i int, v float64) {
	if t.DType == Float64 {
		t.F64[i] = v
		return
	}
	t.F32[i] = float32(v)
}

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	if t == nil {
		return nil
	}
	c := &Tensor{DType: t.DType, Shape: append([]int(nil), t.Shape...)}
	if t.F32 != nil {
		c.F32 = append([]float32(nil), t.F32...)
	}
	if t.F64 != nil {
		c.F64 = append([]float64(nil), t.F64...)
	}
	return c
}

// Validate checks that the dtype is known, that every dimension is
// non-negative and that the data length matches the shape.
func (t *Tensor) Validate() error {
	if t == nil {
		return fmt.Errorf("%w: nil tensor", ErrShape)
	}
	for _, d := range t.Shape {
		if d < 0 {
			return fmt.Errorf("%w: negative dimension in shape %v", ErrShape, t.Shape)
		}
	}
	n := NumElements(t.Shape)
	switch t.DType {
	case Float32:
		if len(t.F32) != n || t.F64 != nil {
			return fmt.Errorf("%w: float32 tensor of shape %v holds %d values, want %d", ErrShape, t.Shape, len(t.F32), n)
		}
	case Float64:
		if len(t.F64) != n || t.F32 != nil {
			return fmt.Errorf("%w: float64 tensor of shape %v holds %d values, want %d", ErrShape, t.Shape, len(t.F64), n)
		}
	default:
		return fmt.Errorf("%w: unknown dtype %v", ErrShape, t.DType)
	}
	return nil
}

// Expect checks the tensor against a dtype and a shape in which -1 matches any
// size. The error states what was expected and what was received.
func (t *Tensor) Expect(dt DType, shape ...int) error {
	if err := t.Validate(); err != nil {
		return err
	}
	ok := t.DType == dt && len(t.Shape) == len(shape)
	for i := 0; ok && i < len(shape); i++ {
		ok = shape[i] < 0 || shape[i] == t.Shape[i]
	}
	if !ok {
		return fmt.Errorf("%w: expected %v %s, received %v %s", ErrShape, dt, FormatShape(shape), t.DType, FormatShape(t.Shape))
	}
	return nil
}

// CheckFinite returns an error wrapping ErrNonFinite that gives the index of
// the first NaN or infinity, or nil if every value is finite.
func (t *Tensor) CheckFinite() error {
	if i := firstNonFinite32(t.F32); i >= 0 {
		return fmt.Errorf("%w: element %d of %s is %v", ErrNonFinite, i, FormatShape(t.Shape), t.F32[i])
	}
	if i := firstNonFinite64(t.F64); i >= 0 {
		return fmt.Errorf("%w: element %d of %s is %v", ErrNonFinite, i, FormatShape(t.Shape), t.F64[i])
	}
	return nil
}

// firstNonFinite32 returns the index of the first NaN or infinity in v, or
// -1. A float32 is not finite when its eight exponent bits are all ones;
// adding the exponent's lowest bit to them then carries into the sign bit.
// Or-ing that sum over a block marks the block if any of its values is not
// finite, with no branch per value; only a marked block is searched.
func firstNonFinite32(v []float32) int {
	const exp, one = 0x7f800000, 0x00800000
	for s := 0; s < len(v); s += finiteBlock {
		e := min(s+finiteBlock, len(v))
		var acc uint32
		for _, x := range v[s:e] {
			acc |= math.Float32bits(x)&exp + one
		}
		if acc&(exp+one) != 0 {
			for i := s; i < e; i++ {
				if math.Float32bits(v[i])&exp == exp {
					return i
				}
			}
		}
	}
	return -1
}

// firstNonFinite64 is firstNonFinite32 for float64.
func firstNonFinite64(v []float64) int {
	const exp, one = 0x7ff0000000000000, 0x0010000000000000
	for s := 0; s < len(v); s += finiteBlock {
		e := min(s+finiteBlock, len(v))
		var acc uint64
		for _, x := range v[s:e] {
			acc |= math.Float64bits(x)&exp + one
		}
		if acc&(exp+one) != 0 {
			for i := s; i < e; i++ {
				if math.Float64bits(v[i])&exp == exp {
					return i
				}
			}
		}
	}
	return -1
}

// finiteBlock is how many values CheckFinite tests between branches.
const finiteBlock = 512

// FormatShape renders a shape as [100 1 32 32], with -1 shown as ?.
func FormatShape(shape []int) string {
	s := "["
	for i, d := range shape {
		if i > 0 {
			s += " "
		}
		if d < 0 {
			s += "?"
		} else {
			s += fmt.Sprint(d)
		}
	}
	return s + "]"
}
