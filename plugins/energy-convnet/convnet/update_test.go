package convnet

import (
	"context"
	"math"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

// snapshot copies every parameter as float64.
func snapshot(p *Plugin) [][]float64 {
	var out [][]float64
	for _, q := range p.params {
		out = append(out, append([]float64(nil), values(q.Value)...))
	}
	return out
}

// independentGrad recomputes L = mean F(pos) - mean F(neg) and its weight
// gradient on a fresh plugin with the same seed, so the expected value does
// not share buffers or graphs with the plugin under test.
func independentGrad(t *testing.T, a attrs, seed uint64, pos, neg *sdk.Tensor) (float64, [][]float64) {
	t.Helper()
	q := configured(t, seed, a)
	q.mu.Lock()
	defer q.mu.Unlock()
	f, grads, err := q.lossGrad(pos, neg)
	if err != nil {
		t.Fatal(err)
	}
	n := pos.Batch()
	var g [][]float64
	for _, d := range grads {
		g = append(g, append([]float64(nil), values(d)...))
	}
	return mean(f[:n]) - mean(f[n:]), g
}

func TestUpdateSGD(t *testing.T) {
	for _, a := range []attrs{smallVanilla(32, "float64"), toy("float64"), smallNonlocal("float64")} {
		t.Run(name(a), func(t *testing.T) {
			const lr, seed = 0.05, 21
			p := configured(t, seed, a)
			pos, neg := randomBatch(p, 4, 1), randomBatch(p, 3, 2)
			l, g := independentGrad(t, a, seed, pos, neg)
			before := snapshot(p)
			res, err := p.Update(context.Background(), sdk.UpdateRequest{Pos: pos, Neg: neg, LR: lr, T: 1})
			if err != nil {
				t.Fatal(err)
			}
			eps := a["epsilon"].(float64)
			if want := 2 / (eps * eps) * l; math.Abs(res.DST-want) > 1e-12*math.Abs(want) {
				t.Errorf("DST %v, want %v", res.DST, want)
			}
			if math.Abs(res.MeanPos-res.MeanNeg-l) > 1e-13 {
				t.Errorf("MeanPos-MeanNeg = %v, want %v", res.MeanPos-res.MeanNeg, l)
			}
			var ss float64
			after := snapshot(p)
			for i := range before {
				for j := range before[i] {
					ss += g[i][j] * g[i][j]
					if want := before[i][j] - lr*g[i][j]; after[i][j] != want {
						t.Fatalf("%s[%d] = %v, want theta - lr*g = %v", p.params[i].Name, j, after[i][j], want)
					}
				}
			}
			if math.Abs(res.GradNorm-math.Sqrt(ss)) > 1e-12*math.Sqrt(ss) {
				t.Errorf("GradNorm %v, want %v", res.GradNorm, math.Sqrt(ss))
			}
		})
	}
}

func TestUpdateAdam(t *testing.T) {
	a := toy("float64")
	a["optimizer"] = "adam"
	a["adam_beta1"], a["adam_beta2"], a["adam_eps"] = 0.8, 0.99, 1e-6
	const lr, seed = 1e-3, 22
	p := configured(t, seed, a)
	eps := a["epsilon"].(float64)
	scale := 2 / (eps * eps)
	theta := snapshot(p)
	var m, v [][]float64
	for _, w := range theta {
		m = append(m, make([]float64, len(w)))
		v = append(v, make([]float64, len(w)))
	}
	// A hand-written Adam (PyTorch's algorithm) on the gradient of d_st,
	// driven by gradients recomputed on a fresh plugin holding the same
	// weights.
	for step := 1; step <= 3; step++ {
		pos, neg := randomBatch(p, 5, uint64(10*step)), randomBatch(p, 4, uint64(10*step+1))
		st, err := p.SaveState(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		q := configured(t, seed, a)
		if err := q.LoadState(context.Background(), st); err != nil {
			t.Fatal(err)
		}
		q.mu.Lock()
		_, grads, err := q.lossGrad(pos, neg)
		q.mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		res, err := p.Update(context.Background(), sdk.UpdateRequest{Pos: pos, Neg: neg, LR: lr, T: step})
		if err != nil {
			t.Fatal(err)
		}
		var ss float64
		for i := range theta {
			g := values(grads[i])
			for j := range theta[i] {
				gj := scale * g[j]
				ss += gj * gj
				m[i][j] = 0.8*m[i][j] + 0.2*gj
				v[i][j] = 0.99*v[i][j] + 0.01*gj*gj
				mhat := m[i][j] / (1 - math.Pow(0.8, float64(step)))
				vhat := v[i][j] / (1 - math.Pow(0.99, float64(step)))
				theta[i][j] -= lr * mhat / (math.Sqrt(vhat) + 1e-6)
			}
		}
		if math.Abs(res.GradNorm-math.Sqrt(ss)) > 1e-12*math.Sqrt(ss) {
			t.Errorf("step %d: GradNorm %v, want %v", step, res.GradNorm, math.Sqrt(ss))
		}
		got := snapshot(p)
		// The two forms of the bias correction differ by rounding only.
		for i := range theta {
			for j := range theta[i] {
				if d := math.Abs(got[i][j] - theta[i][j]); d > 1e-12 {
					t.Fatalf("step %d: %s[%d] = %v, hand-written Adam gives %v", step, p.params[i].Name, j, got[i][j], theta[i][j])
				}
			}
		}
	}
}

func TestUpdateFloat32Runs(t *testing.T) {
	p := configured(t, 3, smallVanilla(28, "float32"))
	pos, neg := randomBatch(p, 2, 1), randomBatch(p, 2, 2)
	before := snapshot(p)
	res, err := p.Update(context.Background(), sdk.UpdateRequest{Pos: pos, Neg: neg, LR: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	if res.GradNorm <= 0 {
		t.Errorf("GradNorm %v, want > 0", res.GradNorm)
	}
	changed := 0
	for i, w := range snapshot(p) {
		for j := range w {
			if w[j] != before[i][j] {
				changed++
			}
		}
	}
	if changed == 0 {
		t.Error("no weight changed")
	}
}
