package toy

import (
	"math"
	"math/rand/v2"
)

// GMM is a mixture of Modes equal isotropic Gaussians with standard deviation
// SD whose means lie on the circle of radius Radius at angles 2*pi*k/Modes:
//
//	q(x) = (1/K) sum_k N(x; mu_k, SD^2 I),  mu_k = Radius (cos 2pi k/K, sin 2pi k/K).
//
// Its mean is 0 and its covariance (Radius^2/2 + SD^2) I for K >= 3.
type GMM struct {
	Modes  int
	Radius float64
	SD     float64
}

// NewGMM returns the paper's set: 8 modes on the unit circle, sd 0.15.
func NewGMM() *GMM { return &GMM{Modes: 8, Radius: 1, SD: 0.15} }

// Name returns "gmm".
func (g *GMM) Name() string { return "gmm" }

// Mean returns the mean of mode k.
func (g *GMM) Mean(k int) (x, y float64) {
	a := 2 * math.Pi * float64(k) / float64(g.Modes)
	return g.Radius * math.Cos(a), g.Radius * math.Sin(a)
}

// Sample draws a mode uniformly, then the point x = mu_k + SD*z, z ~ N(0, I).
func (g *GMM) Sample(rng *rand.Rand, dst []float64) {
	mx, my := g.Mean(rng.IntN(g.Modes))
	dst[0] = mx + g.SD*rng.NormFloat64()
	dst[1] = my + g.SD*rng.NormFloat64()
}

// LogDensity returns log q(x, y) = logsumexp_k(-|x - mu_k|^2/(2 SD^2)) -
// log(2 pi SD^2) - log K.
func (g *GMM) LogDensity(x, y float64) float64 {
	var buf [16]float64
	terms := buf[:0]
	s2 := g.SD * g.SD
	for k := range g.Modes {
		mx, my := g.Mean(k)
		dx, dy := x-mx, y-my
		terms = append(terms, -(dx*dx+dy*dy)/(2*s2))
	}
	return logSumExp(terms) - math.Log(2*math.Pi*s2) - math.Log(float64(g.Modes))
}

// Box returns +-(Radius + 4 SD) on both axes, the reference's plot box
// (+-1.6).
func (g *GMM) Box() [2][2]float64 {
	h := g.Radius + 4*g.SD
	return [2][2]float64{{-h, h}, {-h, h}}
}
