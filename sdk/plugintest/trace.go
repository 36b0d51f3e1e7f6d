package plugintest

import (
	"bytes"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/ebmflow/ebmflow/sdk"
)

// item is one result of a call sequence, compared bit for bit.
type item struct {
	label string
	t     *sdk.Tensor
	f     []float64
	b     []byte
}

// trace is what a call sequence returned, in order.
type trace []item

func (tr *trace) tensor(label string, x *sdk.Tensor) { *tr = append(*tr, item{label: label, t: x}) }
func (tr *trace) floats(label string, v ...float64)  { *tr = append(*tr, item{label: label, f: v}) }
func (tr *trace) bytes(label string, b []byte)       { *tr = append(*tr, item{label: label, b: b}) }

// state appends a saved state: its meta blob and its tensors by name.
func (tr *trace) state(label string, st *sdk.State) {
	if st == nil {
		st = &sdk.State{}
	}
	tr.bytes(label+" meta", st.Meta)
	for _, name := range slices.Sorted(maps.Keys(st.Tensors)) {
		tr.tensor(label+" tensor "+name, st.Tensors[name])
	}
}

// diff returns a description of the first difference between a and b, or
// "" if they are identical bit for bit.
func diff(a, b trace) string {
	for i := range min(len(a), len(b)) {
		x, y := a[i], b[i]
		if x.label != y.label {
			return fmt.Sprintf("result %d is %s in one run and %s in the other", i, x.label, y.label)
		}
		if d := diffItem(x, y); d != "" {
			return x.label + ": " + d
		}
	}
	if len(a) != len(b) {
		return fmt.Sprintf("%d results against %d", len(a), len(b))
	}
	return ""
}

func diffItem(x, y item) string {
	if !bytes.Equal(x.b, y.b) {
		return fmt.Sprintf("%d bytes %q... against %d bytes %q...", len(x.b), head(x.b), len(y.b), head(y.b))
	}
	if len(x.f) != len(y.f) {
		return fmt.Sprintf("%d numbers against %d", len(x.f), len(y.f))
	}
	for i := range x.f {
		if math.Float64bits(x.f[i]) != math.Float64bits(y.f[i]) {
			return fmt.Sprintf("number %d is %v against %v", i, x.f[i], y.f[i])
		}
	}
	if (x.t == nil) != (y.t == nil) {
		return "a tensor in one run, none in the other"
	}
	if x.t == nil {
		return ""
	}
	if x.t.DType != y.t.DType || !slices.Equal(x.t.Shape, y.t.Shape) {
		return fmt.Sprintf("%v %s against %v %s", x.t.DType, sdk.FormatShape(x.t.Shape), y.t.DType, sdk.FormatShape(y.t.Shape))
	}
	for i := range x.t.F32 {
		if math.Float32bits(x.t.F32[i]) != math.Float32bits(y.t.F32[i]) {
			return fmt.Sprintf("element %d is %v against %v", i, x.t.F32[i], y.t.F32[i])
		}
	}
	for i := range x.t.F64 {
		if math.Float64bits(x.t.F64[i]) != math.Float64bits(y.t.F64[i]) {
			return fmt.Sprintf("element %d is %v against %v", i, x.t.F64[i], y.t.F64[i])
		}
	}
	return ""
}

func head(b []byte) []byte { return b[:min(len(b), 40)] }

// input returns a deterministic batch of values uniform in [-1, 1]: the
// same label and index give the same tensor in every process.
func (e *env) input(label string, i int, shape ...int) *sdk.Tensor {
	r := sdk.NewStream(e.s.Seed, fmt.Sprintf("plugintest/%s/%d", label, i))
	x := sdk.NewTensor(e.s.DType, shape...)
	for j := range x.Len() {
		x.Set(j, 2*r.Float64()-1)
	}
	return x
}

// batchShape prepends the batch size to a per-sample shape.
func batchShape(n int, sample []int) []int { return append([]int{n}, sample...) }

// syntheticRecord is a training record of an oscillating series: d_st
// alternates in sign around zero and r_t wanders in [0.08, 0.15].
func syntheticRecord(t int) sdk.Record {
	ft := float64(t)
	dst := 0.5*math.Sin(0.7*ft) + 0.2*math.Cos(2.3*ft)
	r := 0.115 + 0.035*math.Sin(0.31*ft)
	return sdk.Record{T: t, LR: 0.01, DST: dst, R: r, MeanPos: -0.1 + 0.01*dst, MeanNeg: -0.1}
}

// finite returns an error naming the first non-finite value.
func finite(label string, v ...float64) error {
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("%s: value %d is %v", label, i, x)
		}
	}
	return nil
}

// expectShape checks a result tensor's shape and finiteness.
func expectShape(label string, x *sdk.Tensor, shape []int) error {
	if x == nil {
		return fmt.Errorf("%s: no tensor", label)
	}
	if err := x.Validate(); err != nil {
		return fmt.Errorf("%s: %w", label, err)
	}
	if !slices.Equal(x.Shape, shape) {
		return fmt.Errorf("%s: shape %s, want %s", label, sdk.FormatShape(x.Shape), sdk.FormatShape(shape))
	}
	if err := x.CheckFinite(); err != nil {
		return fmt.Errorf("%s: %w", label, err)
	}
	return nil
}
