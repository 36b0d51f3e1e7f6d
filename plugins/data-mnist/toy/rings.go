package toy

import (
	"math"
	"math/rand/v2"
)

// Rings is a mixture of Rings concentric rings in equal proportion. Ring k
// (k = 1..Rings) has radius k*Spacing: a point's radius is r ~ N(k*Spacing,
// SD^2) and its angle is uniform on [0, 2pi). Its density in the plane at
// radius rho = |x| is
//
//	q(x) = sum_k w_k [N(rho; mu_k, SD^2) + N(-rho; mu_k, SD^2)] / (2 pi rho),  w_k = 1/Rings.
//
// The second term accounts for the (rare) negative radial draws, which land
// at radius -r on the opposite side; it is below exp(-22) relative to the
// first for the paper's parameters, so q is the reference's formula
// sum_k w_k N(rho; k, 0.15^2) / (2 pi rho) to within 1e-9, and exact for the
// sampler. q is integrable but infinite at the origin.
type Rings struct {
	Rings   int
	Spacing float64
	SD      float64
}

// NewRings returns the paper's set: 4 rings at radii 1..4, radial sd 0.15.
func NewRings() *Rings { return &Rings{Rings: 4, Spacing: 1, SD: 0.15} }

// Name returns "rings".
func (g *Rings) Name() string { return "rings" }

// Sample draws a ring k uniformly, r ~ N(k*Spacing, SD^2) and an angle
// uniform on [0, 2pi).
func (g *Rings) Sample(rng *rand.Rand, dst []float64) {
	k := 1 + rng.IntN(g.Rings)
	r := float64(k)*g.Spacing + g.SD*rng.NormFloat64()
	a := 2 * math.Pi * rng.Float64()
	dst[0] = r * math.Cos(a)
	dst[1] = r * math.Sin(a)
}

// LogDensity returns log q(x, y), q as in the type's comment.
func (g *Rings) LogDensity(x, y float64) float64 {
	rho := math.Hypot(x, y)
	if rho == 0 {
		return math.Inf(1)
	}
	var buf [32]float64
	terms := buf[:0]
	s2 := g.SD * g.SD
	for k := 1; k <= g.Rings; k++ {
		mu := float64(k) * g.Spacing
		terms = append(terms, -(rho-mu)*(rho-mu)/(2*s2), -(rho+mu)*(rho+mu)/(2*s2))
	}
	logNorm := 0.5 * math.Log(2*math.Pi*s2)
	return logSumExp(terms) - logNorm - math.Log(float64(g.Rings)) - math.Log(2*math.Pi*rho)
}

// Box returns +-(Rings*Spacing + 4 SD) on both axes, the reference's plot
// box (+-4.6).
func (g *Rings) Box() [2][2]float64 {
	h := float64(g.Rings)*g.Spacing + 4*g.SD
	return [2][2]float64{{-h, h}, {-h, h}}
}
