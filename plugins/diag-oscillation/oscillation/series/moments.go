package series

import (
	"math"
	"sort"
)

// Moments summarises the distribution of a series.
type Moments struct {
	// N is the number of values.
	N int `json:"n"`
	// Mean is (1/n) sum x_i.
	Mean float64 `json:"mean"`
	// SD is the population standard deviation sqrt((1/n) sum (x_i - mean)^2).
	SD float64 `json:"sd"`
	// Median is the middle value, or the mean of the two middle values.
	Median float64 `json:"median"`
	// Skewness is the moment coefficient g1 = m3 / m2^(3/2) with the
	// population central moments m_k = (1/n) sum (x_i - mean)^k; 0 when m2 is 0.
	Skewness float64 `json:"skewness"`
	// FracPositive is the fraction of values strictly above 0.
	FracPositive float64 `json:"frac_positive"`
}

// Describe returns the moments of x. scratch, if long enough, is used to sort
// a copy of x for the median, so that repeated calls do not allocate. For an
// empty x the zero Moments is returned.
func Describe(x, scratch []float64) Moments {
	n := len(x)
	if n == 0 {
		return Moments{}
	}
	var sum float64
	pos := 0
	for _, v := range x {
		sum += v
		if v > 0 {
			pos++
		}
	}
	mean := sum / float64(n)
	var m2, m3 float64
	for _, v := range x {
		d := v - mean
		m2 += d * d
		m3 += d * d * d
	}
	m2 /= float64(n)
	m3 /= float64(n)
	skew := 0.0
	if m2 > 0 {
		skew = m3 / math.Pow(m2, 1.5)
	}
	return Moments{
		N:            n,
		Mean:         mean,
		SD:           math.Sqrt(m2),
		Median:       Median(x, scratch),
		Skewness:     skew,
		FracPositive: float64(pos) / float64(n),
	}
}

// Median returns the median of x without modifying it (0 for an empty x).
// scratch is used for the sorted copy when it is long enough.
func Median(x, scratch []float64) float64 {
	n := len(x)
	if n == 0 {
		return 0
	}
	if cap(scratch) < n {
		scratch = make([]float64, n)
	}
	s := scratch[:n]
	copy(s, x)
	sort.Float64s(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return 0.5 * (s[n/2-1] + s[n/2])
}
