package toy

import (
	"math"
	"math/rand/v2"
)

// Points is the finite point set of appendix C's toy analogue: Count points
// on the circle of radius Radius at angles 2*pi*k/Count, drawn with equal
// probability. It is the gmm with sd 0, a Dirac mixture like a finite
// training set of images, so it has no density in the plane.
type Points struct {
	Count  int
	Radius float64
}

// NewPoints returns the gmm's 8 means on the unit circle.
func NewPoints() *Points { return &Points{Count: 8, Radius: 1} }

// Name returns "points".
func (g *Points) Name() string { return "points" }

// Point returns point k.
func (g *Points) Point(k int) (x, y float64) {
	a := 2 * math.Pi * float64(k) / float64(g.Count)
	return g.Radius * math.Cos(a), g.Radius * math.Sin(a)
}

// Sample draws a point index uniformly and writes that point.
func (g *Points) Sample(rng *rand.Rand, dst []float64) {
	dst[0], dst[1] = g.Point(rng.IntN(g.Count))
}

// Box returns the gmm's plot box, +-(Radius + 0.6) (+-1.6).
func (g *Points) Box() [2][2]float64 {
	h := g.Radius + 0.6
	return [2][2]float64{{-h, h}, {-h, h}}
}

// Segment is a set with one constant coordinate: x uniform on
// [-HalfLength, HalfLength], y = 0. It has no density in the plane.
type Segment struct {
	HalfLength float64
}

// NewSegment returns the segment from (-1, 0) to (1, 0).
func NewSegment() *Segment { return &Segment{HalfLength: 1} }

// Name returns "segment".
func (g *Segment) Name() string { return "segment" }

// Sample draws x uniform on [-HalfLength, HalfLength) and sets y = 0.
func (g *Segment) Sample(rng *rand.Rand, dst []float64) {
	dst[0] = g.HalfLength * (2*rng.Float64() - 1)
	dst[1] = 0
}

// Box returns +-(HalfLength + 0.6) on both axes (+-1.6).
func (g *Segment) Box() [2][2]float64 {
	h := g.HalfLength + 0.6
	return [2][2]float64{{-h, h}, {-h, h}}
}
