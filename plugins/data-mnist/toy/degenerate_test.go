package toy

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestPointsSupport checks that every draw is exactly one of the gmm's 8
// means and that each mean holds an eighth of the draws.
func TestPointsSupport(t *testing.T) {
	const n = 40_000
	g, pts := NewGMM(), NewPoints()
	var want [8][2]float64
	for k := range want {
		want[k][0], want[k][1] = g.Mean(k)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	var count [8]int
	p := make([]float64, 2)
	for i := range n {
		pts.Sample(rng, p)
		k := -1
		for j, m := range want {
			if p[0] == m[0] && p[1] == m[1] {
				k = j
			}
		}
		if k < 0 {
			t.Fatalf("draw %d at %v is none of the 8 points", i, p)
		}
		count[k]++
	}
	// Binomial(n, 1/8): sd = sqrt(n * 7/64) = 66; allow 5 sd.
	for k, c := range count {
		if d := math.Abs(float64(c) - n/8); d > 5*66 {
			t.Errorf("point %d drawn %d times, want %d +- %d", k, c, n/8, 5*66)
		}
	}
}

// TestSegmentSupport checks that y is exactly 0 and x is uniform on
// [-1, 1): within the segment, mean 0 and variance 1/3 to 5 standard errors.
func TestSegmentSupport(t *testing.T) {
	const n = 100_000
	rng := rand.New(rand.NewPCG(7, 8))
	s := NewSegment()
	p := make([]float64, 2)
	var sum, sum2, sum4 float64
	lo, hi := math.Inf(1), math.Inf(-1)
	for range n {
		s.Sample(rng, p)
		if p[1] != 0 || p[0] < -1 || p[0] >= 1 {
			t.Fatalf("draw %v off the segment [-1, 1) x {0}", p)
		}
		sum += p[0]
		sum2 += p[0] * p[0]
		sum4 += p[0] * p[0] * p[0] * p[0]
		lo, hi = min(lo, p[0]), max(hi, p[0])
	}
	mean, m2 := sum/n, sum2/n
	// sd of x is 1/sqrt(3); of x^2 sqrt(E x^4 - 1/9) = sqrt(1/5 - 1/9).
	if se := 1 / math.Sqrt(3*n); math.Abs(mean) > 5*se {
		t.Errorf("mean x %.5f, want 0 +- %.5f", mean, 5*se)
	}
	if se := math.Sqrt((1.0/5 - 1.0/9) / n); math.Abs(m2-1.0/3) > 5*se {
		t.Errorf("E x^2 %.5f, want 1/3 +- %.5f", m2, 5*se)
	}
	if lo > -0.999 || hi < 0.999 {
		t.Errorf("draws span [%v, %v], want nearly [-1, 1]", lo, hi)
	}
}

// TestDegenerateHaveNoDensity: the degenerate sets are Sets but not Dense.
func TestDegenerateHaveNoDensity(t *testing.T) {
	for _, name := range []string{"points", "segment"} {
		s, err := New(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := s.(Dense); ok {
			t.Errorf("%s claims a density in the plane", name)
		}
	}
	for _, name := range []string{"gmm", "rings"} {
		if s, _ := New(name); s == nil {
			t.Fatalf("%s: no set", name)
		} else if _, ok := s.(Dense); !ok {
			t.Errorf("%s has no density", name)
		}
	}
}
