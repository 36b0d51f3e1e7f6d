package toy

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Set is a 2-D distribution with exact samples.
type Set interface {
	// Name is "gmm", "rings", "points" or "segment".
	Name() string
	// Sample draws one point from the distribution into dst[0:2].
	Sample(rng *rand.Rand, dst []float64)
	// Box returns the plot box: [lo, hi] of x, then of y.
	Box() [2][2]float64
}

// Dense is a Set with an exact density in the plane (gmm and rings; the
// degenerate sets points and segment have none).
type Dense interface {
	Set
	// LogDensity returns log q(x, y), a density in the plane.
	LogDensity(x, y float64) float64
}

// New returns the named set with the paper's parameters.
func New(name string) (Set, error) {
	switch name {
	case "gmm":
		return NewGMM(), nil
	case "rings":
		return NewRings(), nil
	case "points":
		return NewPoints(), nil
	case "segment":
		return NewSegment(), nil
	}
	return nil, fmt.Errorf("toy: unknown set %q (want gmm, rings, points or segment)", name)
}

// logSumExp returns log(sum_i exp(v_i)) without overflow.
func logSumExp(v []float64) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		m = max(m, x)
	}
	if math.IsInf(m, 0) {
		return m
	}
	var s float64
	for _, x := range v {
		s += math.Exp(x - m)
	}
	return m + math.Log(s)
}
