package convnet

import (
	"math"

	"github.com/ebmflow/ebmflow/sdk"
	"gorgonia.org/tensor"
)

// param is one learnable tensor: its state_dict name and its value. The value
// is shared by every compiled graph (bound with gorgonia.WithValue), so an
// in-place update is seen by all of them.
type param struct {
	Name  string
	Shape []int
	Value *tensor.Dense
}

// newParams allocates zero weights and biases in state_dict order:
// f.0.weight, f.0.bias, f.2.weight, f.2.bias, ...
func newParams(a arch, dt tensor.Dtype) []param {
	var ps []param
	for _, l := range a.Layers {
		ws := l.weightShape()
		ps = append(ps,
			param{Name: l.Name + ".weight", Shape: ws, Value: tensor.New(tensor.Of(dt), tensor.WithShape(ws...))},
			param{Name: l.Name + ".bias", Shape: []int{l.Out}, Value: tensor.New(tensor.Of(dt), tensor.WithShape(l.Out))},
		)
	}
	return ps
}

// initParams draws PyTorch's default initialisation of Conv2d and Linear:
// weights from kaiming_uniform(a = sqrt(5)), which is U(-b, b) with
//
//	b = gain * sqrt(3/fan_in),  gain = sqrt(2/(1 + a^2)) = sqrt(1/3),
//
// that is b = 1/sqrt(fan_in), and biases from U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
// Layers are drawn in order, each weight (row-major) before its bias, as
// u = -b + 2b*U with U = rng.Float64(). A layer marked Zero (the
// non-local blocks' W) is set to zero and draws nothing.
func initParams(ps []param, a arch, rng *sdk.Stream) {
	for i, l := range a.Layers {
		if l.Zero {
			fillUniform(ps[2*i].Value, 0, nil)
			fillUniform(ps[2*i+1].Value, 0, nil)
			continue
		}
		b := 1 / math.Sqrt(float64(l.fanIn()))
		fillUniform(ps[2*i].Value, b, rng)
		fillUniform(ps[2*i+1].Value, b, rng)
	}
}

// fillUniform fills t with draws from U(-b, b); with b = 0 it sets t to
// zero and draws nothing (rng may then be nil).
func fillUniform(t *tensor.Dense, b float64, rng *sdk.Stream) {
	if b == 0 {
		switch d := t.Data().(type) {
		case []float32:
			clear(d)
		case []float64:
			clear(d)
		}
		return
	}
	switch d := t.Data().(type) {
	case []float32:
		for i := range d {
			d[i] = float32(-b + 2*b*rng.Float64())
		}
	case []float64:
		for i := range d {
			d[i] = -b + 2*b*rng.Float64()
		}
	}
}

// values returns the data of t as float64 (a copy for float32).
func values(t *tensor.Dense) []float64 {
	switch d := t.Data().(type) {
	case []float64:
		return d
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	}
	return nil
}

// toSDK copies a dense tensor into a new sdk.Tensor.
func toSDK(t *tensor.Dense) *sdk.Tensor {
	shape := append([]int(nil), t.Shape()...)
	switch d := t.Data().(type) {
	case []float32:
		return sdk.FromFloat32(append([]float32(nil), d...), shape...)
	case []float64:
		return sdk.FromFloat64(append([]float64(nil), d...), shape...)
	}
	return nil
}

// copyToSDK copies src's data into dst, which has the same dtype and size.
func copyToSDK(dst *sdk.Tensor, src *tensor.Dense) {
	switch d := src.Data().(type) {
	case []float32:
		copy(dst.F32, d)
	case []float64:
		copy(dst.F64, d)
	}
}

// copyFromSDK copies src's data into dst, which has the same dtype and size.
func copyFromSDK(dst *tensor.Dense, src *sdk.Tensor) {
	switch d := dst.Data().(type) {
	case []float32:
		copy(d, src.F32)
	case []float64:
		copy(d, src.F64)
	}
}

// gorgoniaDType maps an sdk dtype to a tensor dtype.
func gorgoniaDType(dt sdk.DType) tensor.Dtype {
	if dt == sdk.Float64 {
		return tensor.Float64
	}
	return tensor.Float32
}
