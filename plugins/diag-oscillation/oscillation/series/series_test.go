package series

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// The expected values below come from hand calculation on the short series
// x = [1 3 2 5 4] (mean 3, deviations -2 0 -1 2 1, sum of squares 10) and
// y = [2 1 4 3 5] (mean 3, deviations -1 -2 1 0 2, sum of squares 10).
func TestACFHand(t *testing.T) {
	x := []float64{1, 3, 2, 5, 4}
	// lag 1: (-2)(0)+(0)(-1)+(-1)(2)+(2)(1) = 0; lag 2: 2+0-1 = 1;
	// lag 3: (-2)(2)+(0)(1) = -4; lag 4: (-2)(1) = -2; lag 5: no pairs.
	want := []float64{1, 0, 0.1, -0.4, -0.2, 0}
	got := ACF(nil, x, 5)
	for k := range want {
		if !near(got[k], want[k], 1e-15) {
			t.Errorf("acf(%d) = %v, want %v", k, got[k], want[k])
		}
	}
}

func TestCCFHand(t *testing.T) {
	x := []float64{1, 3, 2, 5, 4}
	y := []float64{2, 1, 4, 3, 5}
	// ccf(k) = sum_t dx_t dy_{t+k} / 10:
	// k=-2: (-1)(-1)+(2)(-2)+(1)(1) = -2     k=-1: 0+2+2+0 = 4
	// k=0:  2+0-1+0+2 = 3                     k=1:  4+0+0+4 = 8
	// k=2:  (-2)(1)+(0)(0)+(-1)(2) = -4
	want := map[int]float64{-2: -0.2, -1: 0.4, 0: 0.3, 1: 0.8, 2: -0.4}
	got := CCF(nil, x, y, 2)
	if len(got) != 5 {
		t.Fatalf("len = %d, want 5", len(got))
	}
	for k, w := range want {
		if !near(got[k+2], w, 1e-15) {
			t.Errorf("ccf(%d) = %v, want %v", k, got[k+2], w)
		}
	}
}

func TestCCFAutoIsACF(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float64, 300)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	a := ACF(nil, x, 10)
	c := CCF(nil, x, x, 10)
	for k := 0; k <= 10; k++ {
		if !near(c[10+k], a[k], 1e-12) || !near(c[10-k], a[k], 1e-12) {
			t.Errorf("lag %d: ccf %v %v, acf %v", k, c[10+k], c[10-k], a[k])
		}
	}
}

func TestACFConstant(t *testing.T) {
	got := ACF(nil, []float64{2, 2, 2}, 2)
	if got[0] != 1 || got[1] != 0 || got[2] != 0 {
		t.Errorf("acf of a constant = %v, want [1 0 0]", got)
	}
	if c := CCF(nil, []float64{2, 2, 2}, []float64{1, 2, 3}, 1); c[0] != 0 || c[1] != 0 || c[2] != 0 {
		t.Errorf("ccf with a constant = %v, want zeros", c)
	}
}

func TestACFAR1(t *testing.T) {
	if testing.Short() {
		t.Skip("long series")
	}
	// An AR(1) series x_t = phi x_{t-1} + z_t has acf(k) = phi^k.
	const phi, n = -0.6, 200000
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float64, n)
	for i := 1; i < n; i++ {
		x[i] = phi*x[i-1] + rng.NormFloat64()
	}
	a := ACF(nil, x, 3)
	for k := 1; k <= 3; k++ {
		if w := math.Pow(phi, float64(k)); !near(a[k], w, 0.01) {
			t.Errorf("acf(%d) = %v, want %v +- 0.01", k, a[k], w)
		}
	}
}

func TestDescribeHand(t *testing.T) {
	// x = [0 0 3]: mean 1, deviations -1 -1 2, m2 = 6/3 = 2, m3 = (-1-1+8)/3 = 2,
	// g1 = 2 / 2^1.5 = 1/sqrt(2); one of three values is positive.
	m := Describe([]float64{0, 3, 0}, nil)
	if m.N != 3 || m.Mean != 1 || !near(m.SD, math.Sqrt2, 1e-15) || m.Median != 0 ||
		!near(m.Skewness, 1/math.Sqrt2, 1e-15) || !near(m.FracPositive, 1.0/3, 1e-15) {
		t.Errorf("Describe = %+v", m)
	}
	if got := Median([]float64{4, 1, 3, 2}, nil); got != 2.5 {
		t.Errorf("median of 1..4 = %v, want 2.5", got)
	}
	if (Describe(nil, nil) != Moments{}) {
		t.Error("Describe(nil) is not zero")
	}
}

func TestFitTrendHand(t *testing.T) {
	// x = [1 2 4]: ibar = 1, xbar = 7/3, sxy = 4/3 + 5/3 = 3, sii = 2, so
	// b = 1.5, a = 5/6; residuals 1/6, -1/3, 1/6, rss = 1/6, s = sqrt(1/6);
	// drift = 1.5 * 2 / sqrt(1/6) = 3 sqrt(6).
	tr := FitTrend([]float64{1, 2, 4})
	if !near(tr.Slope, 1.5, 1e-14) || !near(tr.Intercept, 5.0/6, 1e-14) ||
		!near(tr.ResidualSD, math.Sqrt(1.0/6), 1e-14) || !near(tr.Drift, 3*math.Sqrt(6), 1e-12) {
		t.Errorf("FitTrend = %+v", tr)
	}
	if tr := FitTrend([]float64{1, 2, 3}); tr.Drift != math.MaxFloat64 {
		t.Errorf("exact line: drift %v, want MaxFloat64", tr.Drift)
	}
}

func TestDecimate(t *testing.T) {
	ts := []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	ys := []float64{5, 9, 1, 4, 4, 7, 2, 8, 0, 3}
	// Two buckets [0,5) and [5,10): max 9 at 1 then min 1 at 2; min 0 at 8
	// after max 8 at 7.
	dt, dy := Decimate(ts, ys, 4)
	wantT := []float64{1, 2, 7, 8}
	wantY := []float64{9, 1, 8, 0}
	for i := range wantT {
		if dt[i] != wantT[i] || dy[i] != wantY[i] {
			t.Fatalf("Decimate = %v %v, want %v %v", dt, dy, wantT, wantY)
		}
	}
	if dt, _ := Decimate(ts, ys, 20); len(dt) != 10 {
		t.Errorf("short series changed length to %d", len(dt))
	}
}

func BenchmarkACF(b *testing.B) {
	for _, n := range []int{500, 2000, 8000} {
		rng := rand.New(rand.NewPCG(5, 6))
		x := make([]float64, n)
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		dst := make([]float64, 16)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			for b.Loop() {
				dst = ACF(dst, x, 15)
			}
		})
	}
}

func TestMSERFindsTransient(t *testing.T) {
	s := rand.New(rand.NewPCG(9, 10))
	x := make([]float64, 1000)
	for i := range x {
		x[i] = s.NormFloat64()
		if i < 150 {
			x[i] += 8 // a transient of 150 values
		}
	}
	if d := MSER(x); d < 145 || d > 200 {
		t.Errorf("MSER cut %d, want about 150", d)
	}
	for i := range x {
		x[i] = s.NormFloat64()
	}
	if d := MSER(x); d > 250 {
		t.Errorf("stationary series: MSER cut %d", d)
	}
}
