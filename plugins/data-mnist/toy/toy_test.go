package toy

import (
	"math"
	"math/rand/v2"
	"testing"
)

// moments draws n points and returns the sample means of x, y, x^2, y^2, xy
// and |x|^2, with the standard error of each.
func moments(s Set, n int, seed uint64) (mean, se [6]float64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	var sum, sum2 [6]float64
	p := make([]float64, 2)
	for range n {
		s.Sample(rng, p)
		v := [6]float64{p[0], p[1], p[0] * p[0], p[1] * p[1], p[0] * p[1], p[0]*p[0] + p[1]*p[1]}
		for i := range v {
			sum[i] += v[i]
			sum2[i] += v[i] * v[i]
		}
	}
	for i := range sum {
		mean[i] = sum[i] / float64(n)
		se[i] = math.Sqrt((sum2[i]/float64(n) - mean[i]*mean[i]) / float64(n))
	}
	return mean, se
}

// TestMoments checks sample moments against the mixtures' exact moments.
// The tolerance is 5 standard errors of each sample mean (a false alarm
// about once in 3 million runs per moment; the seed is fixed anyway).
func TestMoments(t *testing.T) {
	n := 200_000
	if testing.Short() {
		n = 50_000
	}
	const s2 = 0.15 * 0.15
	// gmm: mean 0, covariance (1/2 + 0.15^2) I (equal modes on the unit circle).
	// rings: mean 0, covariance E|x|^2/2 I, E|x|^2 = mean_k (k^2 + 0.15^2).
	ringsR2 := (1+4+9+16)/4.0 + s2
	for _, tc := range []struct {
		set  Set
		want [6]float64
	}{
		{NewGMM(), [6]float64{0, 0, 0.5 + s2, 0.5 + s2, 0, 1 + 2*s2}},
		{NewRings(), [6]float64{0, 0, ringsR2 / 2, ringsR2 / 2, 0, ringsR2}},
	} {
		mean, se := moments(tc.set, n, 7)
		for i, name := range []string{"E x", "E y", "E x^2", "E y^2", "E xy", "E |x|^2"} {
			if d := math.Abs(mean[i] - tc.want[i]); d > 5*se[i] {
				t.Errorf("%s: %s = %.5f, want %.5f (difference %.2g > 5 se %.2g)", tc.set.Name(), name, mean[i], tc.want[i], d, 5*se[i])
			}
		}
	}
}

// TestRingProportions checks that each ring holds a quarter of the points.
func TestRingProportions(t *testing.T) {
	const n = 40_000
	rng := rand.New(rand.NewPCG(3, 4))
	r := NewRings()
	var count [5]int
	p := make([]float64, 2)
	for range n {
		r.Sample(rng, p)
		k := int(math.Round(math.Hypot(p[0], p[1])))
		count[min(max(k, 0), 4)]++
	}
	// Binomial(n, 1/4): sd = sqrt(n * 3/16) = 87; allow 5 sd.
	for k := 1; k <= 4; k++ {
		if d := math.Abs(float64(count[k]) - n/4); d > 5*87 {
			t.Errorf("ring %d holds %d points, want %d +- %d", k, count[k], n/4, 5*87)
		}
	}
}

// TestLogDensityIntegrates integrates exp(LogDensity) with the midpoint rule
// on a 800x800 grid over the plot box. The box leaves out about 1.6e-5 of
// the gmm's mass (4 sd tails of the four modes on the axes) and less of the
// rings'; the midpoint rule's error is of order (h/sd)^2/24 = 3e-5.
func TestLogDensityIntegrates(t *testing.T) {
	const m = 800
	for _, s := range []Dense{NewGMM(), NewRings()} {
		b := s.Box()
		lo, hi := b[0][0], b[0][1]
		if b[1] != b[0] {
			t.Fatalf("%s: box %v is not square; the sum below assumes it", s.Name(), b)
		}
		h := (hi - lo) / m
		var sum float64
		for i := range m {
			x := lo + (float64(i)+0.5)*h
			for j := range m {
				y := lo + (float64(j)+0.5)*h
				sum += math.Exp(s.LogDensity(x, y))
			}
		}
		got := sum * h * h
		t.Logf("%s: integral over the box %.7f", s.Name(), got)
		if math.Abs(got-1) > 2e-4 {
			t.Errorf("%s: integral over the box %.6f, want 1", s.Name(), got)
		}
	}
}

// TestLogDensityFormula compares with the densities written out directly:
// the gmm's mixture of normals and the reference's rings formula
// sum_k w_k N(r; k, 0.15^2) / (2 pi r), which omits the mirror term.
func TestLogDensityFormula(t *testing.T) {
	normal := func(x, mu, sd float64) float64 {
		return math.Exp(-(x-mu)*(x-mu)/(2*sd*sd)) / math.Sqrt(2*math.Pi*sd*sd)
	}
	g, r := NewGMM(), NewRings()
	for _, p := range [][2]float64{{1, 0}, {0.3, -0.2}, {-0.7, 0.7}, {1.5, 1.5}, {2.9, 0.1}, {-0.5, 3.8}} {
		var q float64
		for k := range 8 {
			a := 2 * math.Pi * float64(k) / 8
			q += normal(p[0], math.Cos(a), 0.15) * normal(p[1], math.Sin(a), 0.15) / 8
		}
		if got := g.LogDensity(p[0], p[1]); math.Abs(got-math.Log(q)) > 1e-9 {
			t.Errorf("gmm at %v: %v, want %v", p, got, math.Log(q))
		}
		rho := math.Hypot(p[0], p[1])
		q = 0
		for k := 1; k <= 4; k++ {
			q += normal(rho, float64(k), 0.15) / 4 / (2 * math.Pi * rho)
		}
		if got := r.LogDensity(p[0], p[1]); math.Abs(got-math.Log(q)) > 1e-9 {
			t.Errorf("rings at %v: %v, want %v", p, got, math.Log(q))
		}
	}
	// Far away both stay finite (log-sum-exp) and the origin of the rings is +Inf.
	if v := g.LogDensity(40, 40); math.IsInf(v, 0) || math.IsNaN(v) || v > -1e4 {
		t.Errorf("gmm far away: %v", v)
	}
	if v := r.LogDensity(0, 0); !math.IsInf(v, 1) {
		t.Errorf("rings at the origin: %v, want +Inf", v)
	}
}

func TestNewAndBox(t *testing.T) {
	for name, want := range map[string]float64{"gmm": 1.6, "rings": 4.6, "points": 1.6, "segment": 1.6} {
		s, err := New(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range s.Box() {
			if lo, hi := b[0], b[1]; math.Abs(hi-want) > 1e-12 || lo != -hi {
				t.Errorf("%s: box %v, want +-%v on each axis", name, s.Box(), want)
			}
		}
	}
	if _, err := New("moons"); err == nil || err.Error() != `toy: unknown set "moons" (want gmm, rings, points or segment)` {
		t.Errorf("got %v", err)
	}
}

func BenchmarkSample(b *testing.B) {
	for _, s := range []Set{NewGMM(), NewRings()} {
		b.Run(s.Name(), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			p := make([]float64, 2)
			for b.Loop() {
				s.Sample(rng, p)
			}
		})
	}
}
