package quality

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/floats"

	"github.com/ebmflow/ebmflow/sdk"
)

// ErrSize reports a set too small or of the wrong dimension.
var ErrSize = errors.New("quality: set size")

// Set is n points of R^d, row-major, with their squared norms.
type Set struct {
	X    []float64
	N, D int
	sq   []float64
}

// NewSet copies the rows of x (shape [n, ...], float32 or float64) into a
// Set of n points of dimension the product of the other axes. Every value
// must be finite.
func NewSet(x *sdk.Tensor) (*Set, error) {
	if err := x.Validate(); err != nil {
		return nil, fmt.Errorf("quality: %w", err)
	}
	if len(x.Shape) < 2 || x.Shape[0] < 1 {
		return nil, fmt.Errorf("quality: %w: shape %s, want [n, ...] with n >= 1", sdk.ErrShape, sdk.FormatShape(x.Shape))
	}
	if err := x.CheckFinite(); err != nil {
		return nil, fmt.Errorf("quality: %w", err)
	}
	v := make([]float64, x.Len())
	for i := range v {
		v[i] = x.At(i)
	}
	return FromRows(v, x.Shape[0])
}

// FromRows makes a Set of n points from v (len(v) = n*d), which it keeps.
func FromRows(v []float64, n int) (*Set, error) {
	if n < 1 || len(v)%n != 0 || len(v) == 0 {
		return nil, fmt.Errorf("%w: %d values in %d rows", ErrSize, len(v), n)
	}
	s := &Set{X: v, N: n, D: len(v) / n, sq: make([]float64, n)}
	for i := range n {
		r := s.row(i)
		s.sq[i] = dot(r, r)
	}
	return s, nil
}

// Slice returns rows lo..hi-1 of s as a Set sharing its storage.
func (s *Set) Slice(lo, hi int) *Set {
	return &Set{X: s.X[lo*s.D : hi*s.D], N: hi - lo, D: s.D, sq: s.sq[lo:hi]}
}

func (s *Set) row(i int) []float64 { return s.X[i*s.D : (i+1)*s.D] }

// dist2 is ||a_i - b_j||^2, from the norms and the dot product (never
// below 0).
func dist2(a *Set, i int, b *Set, j int) float64 {
	return max(0, a.sq[i]+b.sq[j]-2*dot(a.row(i), b.row(j)))
}

// dot is the dot product of two equally long vectors (gonum's assembly
// kernel: 2-3 times faster here than a Go loop with four partial sums).
func dot(a, b []float64) float64 { return floats.Dot(a, b) }

// MedianDist2 returns the median of ||a_i - a_j||^2 over the pairs i < j of
// s (at least 2 points).
func MedianDist2(s *Set) (float64, error) {
	if s.N < 2 {
		return 0, fmt.Errorf("%w: the median heuristic needs 2 points, got %d", ErrSize, s.N)
	}
	d := make([]float64, 0, s.N*(s.N-1)/2)
	for i := range s.N {
		for j := i + 1; j < s.N; j++ {
			d = append(d, dist2(s, i, s, j))
		}
	}
	slices.Sort(d)
	h := len(d) / 2
	if len(d)%2 == 1 {
		return d[h], nil
	}
	return (d[h-1] + d[h]) / 2, nil
}

// Reference is the set A that samples are compared with, its bandwidth s2
// and the mean of k(a_i, a_j) over i != j.
type Reference struct {
	A     *Set
	S2    float64
	selfK float64
}

// NewReference fixes the bandwidth of a by the median heuristic and
// precomputes its own kernel mean. a needs at least 2 points that are not
// all equal.
func NewReference(a *Set) (*Reference, error) {
	s2, err := MedianDist2(a)
	if err != nil {
		return nil, err
	}
	if !(s2 > 0) {
		return nil, fmt.Errorf("%w: the median squared distance of the reference set is %v", ErrSize, s2)
	}
	return NewReferenceS2(a, s2)
}

// NewReferenceS2 is NewReference with the bandwidth s2 given.
func NewReferenceS2(a *Set, s2 float64) (*Reference, error) {
	if a.N < 2 || !(s2 > 0) || math.IsInf(s2, 0) {
		return nil, fmt.Errorf("%w: reference of %d points with bandwidth %v", ErrSize, a.N, s2)
	}
	r := &Reference{A: a, S2: s2}
	r.selfK = r.meanK(a, a, true)
	return r, nil
}

// tile is the number of rows of y kept hot in the cache while every row of
// x meets them (32 rows of 1,024 float64 are 256 KiB).
const tile = 32

// meanK is the mean of k(x_i, y_j) over all pairs, or over i != j when same
// (x and y are then the same set, and each pair i < j counts twice). The
// pairs are visited in tiles of y's rows, a fixed order, so the result is
// the same on every call.
func (r *Reference) meanK(x, y *Set, same bool) float64 {
	c := -1 / (2 * r.S2)
	var sum float64
	for j0 := 0; j0 < y.N; j0 += tile {
		j1 := min(j0+tile, y.N)
		for i := range x.N {
			lo := j0
			if same {
				lo = max(j0, i+1)
			}
			var part float64
			for j := lo; j < j1; j++ {
				part += math.Exp(c * dist2(x, i, y, j))
			}
			sum += part
		}
	}
	if same {
		return 2 * sum / float64(x.N*(x.N-1))
	}
	return sum / float64(x.N*y.N)
}

// MMD2 returns the unbiased estimate MMD2_u(x, A) (package doc); x needs at
// least 2 points of A's dimension.
func (r *Reference) MMD2(x *Set) (float64, error) {
	if x.N < 2 || x.D != r.A.D {
		return 0, fmt.Errorf("%w: %d points of dimension %d against a reference of dimension %d (want 2 or more points)", ErrSize, x.N, x.D, r.A.D)
	}
	return r.meanK(x, x, true) + r.selfK - 2*r.meanK(x, r.A, false), nil
}
