package tv

import (
	"fmt"
	"math"
)

// CellMasses integrates a density over every cell of g by the midpoint rule
// on a sub x sub sub-grid: mass_c = (CellArea/sub^2) * sum_j dens_{c,j}, where
// dens holds the density at g.SubPoints(nil, sub) in that order. It writes
// the N*N masses into dst and returns it (allocating when dst is nil or too
// short).
func CellMasses(dst, dens []float64, g Grid, sub int) ([]float64, error) {
	per := sub * sub
	if len(dens) != g.N*g.N*per {
		return nil, fmt.Errorf("%w: %d density values for %d cells of %d points", ErrInput, len(dens), g.N*g.N, per)
	}
	dst = resize(dst, g.N*g.N)
	a := g.CellArea() / float64(sub*sub)
	for c := range dst {
		var s float64
		for _, v := range dens[c*per : (c+1)*per] {
			if !(v >= 0) || math.IsInf(v, 1) {
				return nil, fmt.Errorf("%w: density %v in cell %d", ErrInput, v, c)
			}
			s += v
		}
		dst[c] = a * s
	}
	return dst, nil
}

// Histogram counts the (x, y) pairs of xy per cell of g into dst (allocating
// when dst is nil or too short) and returns the counts and the number of
// points outside the box (NaN points count as outside).
func Histogram(dst, xy []float64, g Grid) (counts []float64, outside int) {
	counts = resize(dst, g.N*g.N)
	for i := range counts {
		counts[i] = 0
	}
	for i := 0; i+1 < len(xy); i += 2 {
		c, ok := g.Cell(xy[i], xy[i+1])
		if !ok {
			outside++
			continue
		}
		counts[c]++
	}
	return counts, outside
}

// SampleTV returns the total variation between the empirical distribution of
// the (x, y) pairs in xy and the true distribution given by its cell masses
// (from CellMasses on the same grid), with the outside of the box as one more
// cell:
//
//	TV = 0.5 * (sum_c |h_c - t_c| + |h_out - t_out|)
//
// where h_c = count_c/n over all n samples, t_c = mass_c / max(1, M) with
// M = sum_c mass_c, h_out the fraction of samples outside the box and
// t_out = 1 - sum_c t_c.
func SampleTV(xy, mass []float64, g Grid) (float64, error) {
	n := len(xy) / 2
	if n == 0 || len(xy)%2 != 0 {
		return 0, fmt.Errorf("%w: %d coordinates are not a non-empty list of (x, y) pairs", ErrInput, len(xy))
	}
	if len(mass) != g.N*g.N {
		return 0, fmt.Errorf("%w: %d cell masses for %d cells", ErrInput, len(mass), g.N*g.N)
	}
	M, err := total(mass)
	if err != nil {
		return 0, err
	}
	scale := 1.0
	if M > 1 {
		scale = 1 / M
	}
	counts, outside := Histogram(nil, xy, g)
	var s, in float64
	for c, m := range mass {
		t := m * scale
		in += t
		s += math.Abs(counts[c]/float64(n) - t)
	}
	tout := math.Max(0, 1-in)
	s += math.Abs(float64(outside)/float64(n) - tout)
	return 0.5 * s, nil
}
