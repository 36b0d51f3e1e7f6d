package convnet

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
	"gorgonia.org/tensor"
)

// graphTwin returns a plugin configured like configured(t, seed, a) whose
// toy net runs the gorgonia graphs: its dedicated path is removed.
func graphTwin(t *testing.T, seed uint64, a attrs) *Plugin {
	t.Helper()
	q := configured(t, seed, a)
	if q.direct == nil {
		t.Fatalf("%v: no dedicated toy path", a)
	}
	q.direct = nil
	return q
}

// toyBatch returns n toy samples uniform in [-3, 3)^2, the range of the toy
// data sets.
func toyBatch(p *Plugin, n int, seed uint64) *sdk.Tensor {
	x := randomBatch(p, n, seed)
	for i := 0; i < x.Len(); i++ {
		x.Set(i, 3*x.At(i))
	}
	return x
}

// asFloat64 returns a tensor's values as float64.
func asFloat64(x *sdk.Tensor) []float64 {
	v := make([]float64, x.Len())
	for i := range v {
		v[i] = x.At(i)
	}
	return v
}

// pathTolerance bounds the relative difference (relErr, an L2 ratio)
// between the dedicated path and the graphs. Both compute the same sums of
// products in the same dtype and differ only in the order of some
// additions (bias before or after the products, the weight gradients'
// reduction over samples in another blocking), so each value differs by
// rounding: at most about k*u times the sum of the magnitudes of its k
// terms, u the unit roundoff, and typically sqrt(k)*u. The longest
// reductions here are over 64 units and 450 samples, so with u = 6e-8
// (float32) sqrt(450)*u = 1.3e-6 and 450*u = 2.7e-5; 2e-5 leaves room for
// the cancellations of a difference of means without admitting a wrong
// term (which shows as an error of order 1). For float64, u = 1.1e-16 and
// the same argument gives 5e-14.
func pathTolerance(dtype string) float64 {
	if dtype == "float32" {
		return 2e-5
	}
	return 5e-14
}

// absGrad returns, from the update graph of q, the weight gradients of
// sum_i |c_i| F(x_i) for the coefficients of L (1/n and 1/m): the size the
// loss gradient's terms add up to before the positives and negatives
// cancel, which is what its rounding is relative to.
func absGrad(t *testing.T, q *Plugin, pos, neg *sdk.Tensor) [][]float64 {
	t.Helper()
	q.mu.Lock()
	defer q.mu.Unlock()
	n, m := pos.Batch(), neg.Batch()
	c, err := q.graph(graphKey{kindUpdate, n + m})
	if err != nil {
		t.Fatal(err)
	}
	loadInput(c.x, pos, 0)
	loadInput(c.x, neg, n)
	setCoefficients(c.coef, n, m)
	switch d := c.coef.Data().(type) {
	case []float32:
		for i := range d {
			d[i] = float32(math.Abs(float64(d[i])))
		}
	case []float64:
		for i := range d {
			d[i] = math.Abs(d[i])
		}
	}
	if err := c.run(); err != nil {
		t.Fatal(err)
	}
	var out [][]float64
	for _, g := range c.grads {
		out = append(out, append([]float64(nil), values(g.(*tensor.Dense))...))
	}
	return out
}

// norm returns the Euclidean norm of v.
func norm(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x * x
	}
	return math.Sqrt(s)
}

// TestToyMatchesGraph checks the toy net's dedicated path against the
// gorgonia graphs on the same weights and inputs: Energy, Grad and, over
// three steps, the update's loss gradient, its results and the weights it
// leaves. Batches of 1, 37 and 300 samples cover a partial tile and several
// tasks; updates use 150 positives and 300 negatives.
func TestToyMatchesGraph(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct{ dtype, opt string }{{"float64", "sgd"}, {"float64", "adam"}, {"float32", "sgd"}} {
		t.Run(c.dtype+"/"+c.opt, func(t *testing.T) {
			a := toy(c.dtype)
			a["optimizer"] = c.opt
			const seed = 31
			p, q := configured(t, seed, a), graphTwin(t, seed, a)
			tol := pathTolerance(c.dtype)
			var worst float64
			check := func(what string, got, want []float64) {
				t.Helper()
				e := relErr(got, want)
				worst = max(worst, e)
				if e > tol || math.IsNaN(e) {
					t.Errorf("%s: relative difference %.3g between the dedicated path and the graph (tolerance %g)", what, e, tol)
				}
			}
			for step := 0; step < 3; step++ {
				for _, n := range []int{1, 37, 300} {
					x := toyBatch(p, n, uint64(100*step+n))
					fp, err := p.Energy(ctx, x)
					if err != nil {
						t.Fatal(err)
					}
					fq, err := q.Energy(ctx, x)
					if err != nil {
						t.Fatal(err)
					}
					check(fmt.Sprintf("step %d, n %d: Energy", step, n), asFloat64(fp), asFloat64(fq))
					gfp, gp, err := p.Grad(ctx, x)
					if err != nil {
						t.Fatal(err)
					}
					gfq, gq, err := q.Grad(ctx, x)
					if err != nil {
						t.Fatal(err)
					}
					check(fmt.Sprintf("step %d, n %d: Grad F", step, n), asFloat64(gfp), asFloat64(gfq))
					check(fmt.Sprintf("step %d, n %d: Grad dF/dx", step, n), asFloat64(gp), asFloat64(gq))
				}
				pos, neg := toyBatch(p, 150, uint64(7*step+1)), toyBatch(p, 300, uint64(7*step+2))
				ga := absGrad(t, q, pos, neg) // before lossGrad: they share the graph's buffers
				p.mu.Lock()
				_, gp, err := p.lossGrad(pos, neg)
				p.mu.Unlock()
				if err != nil {
					t.Fatal(err)
				}
				q.mu.Lock()
				_, gq, err := q.lossGrad(pos, neg)
				q.mu.Unlock()
				if err != nil {
					t.Fatal(err)
				}
				for i, par := range p.params {
					// f.8.bias's gradient is a sum of +1/n and -1/m,
					// zero but for rounding: both paths sum it alike.
					if par.Name == "f.8.bias" {
						if a, b := values(gp[i])[0], values(gq[i])[0]; a != b {
							t.Errorf("step %d: %s gradient %v, graph %v", step, par.Name, a, b)
						}
						continue
					}
					// A difference of means: relative to the means' size.
					d := make([]float64, len(ga[i]))
					for j, v := range values(gp[i]) {
						d[j] = v - values(gq[i])[j]
					}
					e := norm(d) / norm(ga[i])
					worst = max(worst, e)
					if e > tol || math.IsNaN(e) {
						t.Errorf("step %d: gradient of %s: difference %.3g relative to the gradient of the summed energies (tolerance %g)", step, par.Name, e, tol)
					}
				}
				req := sdk.UpdateRequest{Pos: pos, Neg: neg, LR: 0.01, T: step + 1}
				rp, err := p.Update(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				rq, err := q.Update(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				check(fmt.Sprintf("step %d: MeanPos, MeanNeg, GradNorm", step),
					[]float64{rp.MeanPos, rp.MeanNeg, rp.GradNorm}, []float64{rq.MeanPos, rq.MeanNeg, rq.GradNorm})
				// d_st is a difference of means: its rounding is relative
				// to the means, not to itself.
				eps := a["epsilon"].(float64)
				if d, bound := math.Abs(rp.DST-rq.DST), tol*2/(eps*eps)*(math.Abs(rq.MeanPos)+math.Abs(rq.MeanNeg)); !(d <= bound) {
					t.Errorf("step %d: d_st %v, graph %v: difference %.3g above %.3g", step, rp.DST, rq.DST, d, bound)
				}
				sp, sq := snapshot(p), snapshot(q)
				for i, par := range p.params {
					check(fmt.Sprintf("step %d: %s after the update", step, par.Name), sp[i], sq[i])
				}
			}
			t.Logf("largest relative difference %.2g", worst)
		})
	}
}
