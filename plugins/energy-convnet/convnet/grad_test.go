package convnet

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

// fdStep is the central-difference step. In float64 its truncation error,
// O(h^2 F”'), and its rounding error, O(1e-16 |F| / h), are both far below
// the 1e-5 tolerance; LeakyReLU kinks are crossed with probability O(h).
const fdStep = 1e-6

// relErr returns ||a - b|| / max(||a||, ||b||).
func relErr(a, b []float64) float64 {
	var d, na, nb float64
	for i := range a {
		d += (a[i] - b[i]) * (a[i] - b[i])
		na += a[i] * a[i]
		nb += b[i] * b[i]
	}
	return math.Sqrt(d) / math.Max(math.Sqrt(na), math.Sqrt(nb))
}

// sumEnergy returns sum_i F(x_i).
func sumEnergy(t *testing.T, p *Plugin, x *sdk.Tensor) float64 {
	t.Helper()
	f, err := p.Energy(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	var s float64
	for _, v := range f.F64 {
		s += v
	}
	return s
}

func TestGradFiniteDifference(t *testing.T) {
	for _, a := range []attrs{smallVanilla(28, "float64"), smallVanilla(32, "float64"), smallVanilla(64, "float64"), rgbVanilla("float64"), toy("float64")} {
		t.Run(name(a), func(t *testing.T) {
			p := configured(t, 11, a)
			x := randomBatch(p, 3, 5)
			f, g, err := p.Grad(context.Background(), x)
			if err != nil {
				t.Fatal(err)
			}
			// F from Grad equals F from Energy.
			fe, err := p.Energy(context.Background(), x)
			if err != nil {
				t.Fatal(err)
			}
			if e := relErr(f.F64, fe.F64); e > 1e-14 {
				t.Errorf("F from Grad and Energy differ: relative error %g", e)
			}
			// Check up to 120 coordinates spread over the batch.
			rng := rand.New(rand.NewPCG(3, 4))
			k := min(120, x.Len())
			var an, fd []float64
			for _, i := range rng.Perm(x.Len())[:k] {
				x0 := x.F64[i]
				x.F64[i] = x0 + fdStep
				fp := sumEnergy(t, p, x)
				x.F64[i] = x0 - fdStep
				fm := sumEnergy(t, p, x)
				x.F64[i] = x0
				an = append(an, g.F64[i])
				fd = append(fd, (fp-fm)/(2*fdStep))
			}
			e := relErr(an, fd)
			t.Logf("dF/dx: relative error %.2g over %d coordinates", e, k)
			if e > 1e-5 {
				t.Errorf("dF/dx: relative error %g against central differences", e)
			}
		})
	}
}

// loss returns mean F(pos) - mean F(neg) through Energy.
func loss(t *testing.T, p *Plugin, pos, neg *sdk.Tensor) float64 {
	t.Helper()
	return sumEnergy(t, p, pos)/float64(pos.Batch()) - sumEnergy(t, p, neg)/float64(neg.Batch())
}

func TestWeightGradFiniteDifference(t *testing.T) {
	for _, a := range []attrs{smallVanilla(28, "float64"), smallVanilla(32, "float64"), smallVanilla(64, "float64"), rgbVanilla("float64"), toy("float64")} {
		t.Run(name(a), func(t *testing.T) {
			p := configured(t, 12, a)
			pos, neg := randomBatch(p, 3, 1), randomBatch(p, 2, 2)
			p.mu.Lock()
			_, grads, err := p.lossGrad(pos, neg)
			p.mu.Unlock()
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(5, 6))
			var worst float64
			defer func() { t.Logf("weights: worst relative error %.2g", worst) }()
			for i, q := range p.params {
				w := q.Value.Data().([]float64)
				g := grads[i].Data().([]float64)
				k := min(25, len(w))
				an, fd := fdWeights(t, p, pos, neg, w, g, rng.Perm(len(w))[:k])
				// The final bias shifts F(x+) and F(x-) alike, so its
				// gradient is exactly 0 and the difference quotient is
				// rounding noise of order 1e-16*|L|/h: compare it absolutely.
				if q.Name == "f.8.bias" {
					if math.Abs(g[0]) > 1e-12 || math.Abs(fd[0]) > 1e-8 {
						t.Errorf("%s: gradient %g, difference quotient %g, want 0", q.Name, g[0], fd[0])
					}
					continue
				}
				e := relErr(an, fd)
				worst = max(worst, e)
				if e > 1e-5 {
					t.Errorf("%s: relative error %g against central differences", q.Name, e)
				}
			}
		})
	}
}
