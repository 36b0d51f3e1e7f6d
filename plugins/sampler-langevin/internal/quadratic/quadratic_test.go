package quadratic

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/ebmflow/ebmflow/plugins/sampler-langevin/langevin"
	"github.com/ebmflow/ebmflow/sdk"
)

func cfg(t *testing.T, vals map[string]any) *sdk.Config {
	t.Helper()
	c := &sdk.Config{Stage: "energy", Seed: 1, Values: map[string]json.RawMessage{}}
	for k, v := range vals {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		c.Values[k] = b
	}
	return c
}

func newQuad(t *testing.T, vals map[string]any) *Quadratic {
	t.Helper()
	q := New()
	if _, diags := q.Configure(context.Background(), cfg(t, vals)); diags.HasErrors() {
		t.Fatal(diags.Err())
	}
	return q
}

// TestGradFiniteDifference checks dF/dx against central differences of F
// (float64, step 1e-6; the error of a central difference on a quadratic is
// rounding only, about 1e-9 here).
func TestGradFiniteDifference(t *testing.T) {
	q := newQuad(t, map[string]any{"epsilon": 0.1, "a": 1.7, "shape": []int{2, 2}, "mu": []float64{1, -1, 0.5, 2}, "dtype": "float64"})
	rng := sdk.NewStream(3, "test")
	x := sdk.NewTensor(sdk.Float64, 3, 2, 2)
	for i := range x.F64 {
		x.F64[i] = rng.NormFloat64()
	}
	f, g, err := q.Grad(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	fe, err := q.Energy(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	const h = 1e-6
	for i := range x.F64 {
		n := i / 4
		xp, xm := x.Clone(), x.Clone()
		xp.F64[i] += h
		xm.F64[i] -= h
		fp, _ := q.Energy(context.Background(), xp)
		fm, _ := q.Energy(context.Background(), xm)
		fd := (fp.F64[n] - fm.F64[n]) / (2 * h)
		if math.Abs(fd-g.F64[i]) > 1e-6 {
			t.Errorf("dF/dx[%d] = %v, finite difference %v", i, g.F64[i], fd)
		}
		if f.F64[n] != fe.F64[n] {
			t.Errorf("Grad's F[%d] = %v, Energy's %v", n, f.F64[n], fe.F64[n])
		}
	}
	if _, _, err := q.Grad(context.Background(), sdk.NewTensor(sdk.Float32, 3, 2, 2)); !errors.Is(err, sdk.ErrShape) {
		t.Errorf("float32 input to a float64 energy: error %v, want ErrShape", err)
	}
}

// TestUpdate checks d_st and the gradient norm on a hand-computed case:
// a = 2, mu = 0, eps = 0.5, x+ = {(1, 0)}, x- = {(0, 2), (0, 0)}.
// F(x+) = 1, mean F(x-) = (4 + 0)/2 = 2, d_st = 8 * (1 - 2) = -8,
// d/dmu = a(mean x- - mean x+) = 2 * ((0, 1) - (1, 0)), norm 2*sqrt(2).
func TestUpdate(t *testing.T) {
	q := newQuad(t, map[string]any{"epsilon": 0.5, "a": 2})
	res, err := q.Update(context.Background(), sdk.UpdateRequest{
		Pos: sdk.FromFloat32([]float32{1, 0}, 1, 2),
		Neg: sdk.FromFloat32([]float32{0, 2, 0, 0}, 2, 2),
		LR:  0.1, T: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := sdk.UpdateResult{DST: -8, MeanPos: 1, MeanNeg: 2, GradNorm: 2 * math.Sqrt2}
	if math.Abs(res.DST-want.DST) > 1e-12 || res.MeanPos != want.MeanPos || res.MeanNeg != want.MeanNeg ||
		math.Abs(res.GradNorm-want.GradNorm) > 1e-12 {
		t.Errorf("update = %+v, want %+v", res, want)
	}
}

func TestSaveLoad(t *testing.T) {
	a := newQuad(t, map[string]any{"epsilon": 0.5, "a": 3, "mu": []float64{4, 5}})
	st, err := a.SaveState(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b := newQuad(t, map[string]any{"epsilon": 0.5})
	if err := b.LoadState(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	x := sdk.FromFloat32([]float32{1, 1}, 1, 2)
	fa, _ := a.Energy(context.Background(), x)
	fb, _ := b.Energy(context.Background(), x)
	if fa.F32[0] != fb.F32[0] || fa.F32[0] != 3.0/2*(9+16) {
		t.Errorf("after load F = %v, original %v, want 37.5", fb.F32[0], fa.F32[0])
	}
	c := newQuad(t, map[string]any{"epsilon": 0.5, "shape": []int{3}})
	if err := c.LoadState(context.Background(), st); err == nil {
		t.Errorf("state of a [2] energy loaded into a [3] one")
	}
}

func TestConfigureErrors(t *testing.T) {
	for _, vals := range []map[string]any{
		{"epsilon": 0},
		{"epsilon": 0.1, "a": -1},
		{"epsilon": 0.1, "shape": []float64{2.5}},
		{"epsilon": 0.1, "mu": []float64{1, 2, 3}},
		{"epsilon": 0.1, "dtype": "int8"},
	} {
		if _, diags := New().Configure(context.Background(), cfg(t, vals)); !diags.HasErrors() {
			t.Errorf("%v: no error diagnostic", vals)
		}
	}
}

// TestWithLangevin drives the Langevin sampler on this energy in-process and
// checks the chain mean against mu: a = 1 makes each step x' = mu + eps*z,
// so after one step the 1000 chains have mean mu with standard error
// eps/sqrt(1000); the tolerance is 5 standard errors.
func TestWithLangevin(t *testing.T) {
	q := New()
	shapes, diags := q.Configure(context.Background(), cfg(t, map[string]any{"epsilon": 0.1, "a": 1, "mu": []float64{3, -3}}))
	if diags.HasErrors() || !equal(shapes["input"], []int{2}) {
		t.Fatalf("configure: shapes %v, %v", shapes, diags.Err())
	}
	sc := &sdk.Config{Stage: "neg", Seed: 9, Upstream: map[string]sdk.Shapes{"energy": shapes},
		Values: map[string]json.RawMessage{"epsilon": json.RawMessage("0.1"), "steps": json.RawMessage("3"), "batch": json.RawMessage("1000")}}
	sc.SetLink("energy", q)
	s := langevin.New()
	if _, diags := s.Configure(context.Background(), sc); diags.HasErrors() {
		t.Fatal(diags.Err())
	}
	res, err := s.Sample(context.Background(), sdk.SampleRequest{})
	if err != nil {
		t.Fatal(err)
	}
	tol := 5 * 0.1 / math.Sqrt(1000)
	for j, want := range []float64{3, -3} {
		var m float64
		for i := 0; i < 1000; i++ {
			m += res.X.At(i*2 + j)
		}
		m /= 1000
		if math.Abs(m-want) > tol {
			t.Errorf("coordinate %d: chain mean %v, want %v +- %v", j, m, want, tol)
		}
	}
	up, err := q.Update(context.Background(), sdk.UpdateRequest{Pos: res.X, Neg: res.X, T: 1})
	if err != nil || up.DST != 0 {
		t.Errorf("update with x+ = x-: d_st %v, error %v; want 0", up.DST, err)
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
