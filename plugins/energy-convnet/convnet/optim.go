package convnet

import (
	"math"

	"gorgonia.org/tensor"
)

// sgdStep applies plain SGD without momentum to every parameter:
//
//	theta <- theta - lr * g
//
// computed in float64 and rounded to the parameter's dtype.
func sgdStep(ps []param, grads []*tensor.Dense, lr float64) {
	for i, p := range ps {
		switch d := p.Value.Data().(type) {
		case []float32:
			g := grads[i].Data().([]float32)
			for j := range d {
				d[j] = float32(float64(d[j]) - lr*float64(g[j]))
			}
		case []float64:
			g := grads[i].Data().([]float64)
			for j := range d {
				d[j] -= lr * g[j]
			}
		}
	}
}

// adam is PyTorch's Adam (no weight decay, no amsgrad). For a gradient g,
// scaled as g = scale * raw, at step t (1-based):
//
//	m <- beta1*m + (1-beta1)*g
//	v <- beta2*v + (1-beta2)*g^2
//	theta <- theta - (lr/(1-beta1^t)) * m / (sqrt(v)/sqrt(1-beta2^t) + eps)
//
// The moments are held in the parameters' dtype, as PyTorch does; each
// element's arithmetic is done in float64 and rounded on store.
type adam struct {
	beta1, beta2, eps float64
	step              int
	m, v              []*tensor.Dense // exp_avg and exp_avg_sq per parameter
}

func newAdam(ps []param, beta1, beta2, eps float64) *adam {
	a := &adam{beta1: beta1, beta2: beta2, eps: eps}
	for _, p := range ps {
		a.m = append(a.m, tensor.New(tensor.Of(p.Value.Dtype()), tensor.WithShape(p.Shape...)))
		a.v = append(a.v, tensor.New(tensor.Of(p.Value.Dtype()), tensor.WithShape(p.Shape...)))
	}
	return a
}

// stepAll takes one Adam step on every parameter with gradient scale*grads.
func (a *adam) stepAll(ps []param, grads []*tensor.Dense, scale, lr float64) {
	a.step++
	bc1 := 1 - math.Pow(a.beta1, float64(a.step))
	bc2 := 1 - math.Pow(a.beta2, float64(a.step))
	for i, p := range ps {
		switch d := p.Value.Data().(type) {
		case []float32:
			adamStep(d, grads[i].Data().([]float32), a.m[i].Data().([]float32), a.v[i].Data().([]float32), scale, lr, a.beta1, a.beta2, a.eps, bc1, bc2)
		case []float64:
			adamStep(d, grads[i].Data().([]float64), a.m[i].Data().([]float64), a.v[i].Data().([]float64), scale, lr, a.beta1, a.beta2, a.eps, bc1, bc2)
		}
	}
}

// adamStep updates one parameter tensor; bc1 and bc2 are the bias corrections
// 1-beta1^t and 1-beta2^t.
func adamStep[T float32 | float64](theta, raw, m, v []T, scale, lr, b1, b2, eps, bc1, bc2 float64) {
	step := lr / bc1
	sq2 := math.Sqrt(bc2)
	for j := range theta {
		g := scale * float64(raw[j])
		m[j] = T(b1*float64(m[j]) + (1-b1)*g)
		v[j] = T(b2*float64(v[j]) + (1-b2)*g*g)
		denom := math.Sqrt(float64(v[j]))/sq2 + eps
		theta[j] = T(float64(theta[j]) - step*float64(m[j])/denom)
	}
}
