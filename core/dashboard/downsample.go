package dashboard

import (
	"math"
	"sort"
	"strconv"
)

// floats is a column as JSON: NaN (a missing or non-finite value) as null,
// seven significant digits (charts need no more; the files keep all).
type floats []float64

// MarshalJSON implements json.Marshaler.
func (fs floats) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 2+len(fs)*10)
	b = append(b, '[')
	for i, v := range fs {
		if i > 0 {
			b = append(b, ',')
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			b = append(b, "null"...)
			continue
		}
		b = strconv.AppendFloat(b, v, 'g', 7, 64)
	}
	return append(b, ']'), nil
}

// Series is what the page charts: rows of iterations T with the metrics'
// values, either the file's own rows or, when the range holds more than
// 2*Buckets of them, two rows per bucket of consecutive rows that carry
// each metric's minimum and maximum in the bucket, in the order they
// occurred (at the bucket's first and last iteration), so no spike is lost.
type Series struct {
	T           floats            `json:"t"`
	Cols        map[string]floats `json:"cols"`
	Rows        int               `json:"rows"` // rows of the file in the range
	Downsampled bool              `json:"downsampled"`
}

// downsample returns the rows of tb with lo <= t <= hi (NaN: unbounded) of
// the named metrics, at most 2*buckets of them. tb.mu must be held.
func downsample(tb *table, names []string, lo, hi float64, buckets int) *Series {
	i0, i1 := 0, len(tb.T)
	if !math.IsNaN(lo) {
		i0 = sort.SearchFloat64s(tb.T, lo)
	}
	if !math.IsNaN(hi) {
		i1 = sort.Search(len(tb.T), func(i int) bool { return tb.T[i] > hi })
	}
	i1 = max(i1, i0)
	n := i1 - i0
	s := &Series{Cols: make(map[string]floats, len(names)), Rows: n}
	if buckets < 1 || n <= 2*buckets {
		s.T = floats(tb.T[i0:i1])
		for _, name := range names {
			if c := tb.Cols[name]; c != nil {
				s.Cols[name] = floats(c.v[i0:i1])
			}
		}
		return s
	}
	s.Downsampled = true
	s.T = make(floats, 0, 2*buckets)
	edges := make([]int, buckets+1)
	for b := range edges {
		edges[b] = i0 + int(int64(n)*int64(b)/int64(buckets))
	}
	for b := 0; b < buckets; b++ {
		s.T = append(s.T, tb.T[edges[b]], tb.T[edges[b+1]-1])
	}
	for _, name := range names {
		c := tb.Cols[name]
		if c == nil {
			continue
		}
		out := make(floats, 0, 2*buckets)
		for b := 0; b < buckets; b++ {
			out = appendMinMax(out, c.v[edges[b]:edges[b+1]])
		}
		s.Cols[name] = out
	}
	return s
}

// appendMinMax appends the minimum and maximum of the finite values of xs
// in the order they occur (NaN, NaN when there are none; v, NaN when one).
func appendMinMax(out floats, xs []float64) floats {
	lo, hi := -1, -1
	for i, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			continue
		}
		if lo < 0 || x < xs[lo] {
			lo = i
		}
		if hi < 0 || x > xs[hi] {
			hi = i
		}
	}
	switch {
	case lo < 0:
		return append(out, math.NaN(), math.NaN())
	case lo == hi:
		return append(out, xs[lo], math.NaN())
	case lo < hi:
		return append(out, xs[lo], xs[hi])
	default:
		return append(out, xs[hi], xs[lo])
	}
}
