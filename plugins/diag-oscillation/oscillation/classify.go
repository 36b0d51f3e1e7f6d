package oscillation

import (
	"fmt"
	"math"
)

// Class is the state of the learning dynamics over the window.
type Class int

// The classes; the numbers are the "osc_class" metric codes.
const (
	NotStationary Class = 0
	Weak          Class = 1
	Strong        Class = 2
	Collapse      Class = 3
	Unclassified  Class = 4
)

func (c Class) String() string {
	switch c {
	case NotStationary:
		return "not_stationary"
	case Weak:
		return "weak"
	case Strong:
		return "strong"
	case Collapse:
		return "collapse"
	case Unclassified:
		return "unclassified"
	}
	return fmt.Sprintf("class(%d)", int(c))
}

// shortLags is the number of lags (1..shortLags) the class rules inspect.
const shortLags = 3

// classify applies the rules of the package documentation to the window
// statistics and returns the class and a one-line reason.
func classify(s *Stats, o options) (Class, string) {
	d := s.DST
	if s.N < o.MinRecords {
		return NotStationary, fmt.Sprintf("%d records in the window, fewer than min_records = %d", s.N, o.MinRecords)
	}
	tau := s.Trend.Drift
	if d.Mean < 0 && (tau < -o.TrendLimit || d.Mean < -d.SD) {
		return Collapse, fmt.Sprintf("d_st mean %.4g (sd %.4g) falls by %.3g residual sd across the window", d.Mean, d.SD, -tau)
	}
	if math.Abs(tau) > o.TrendLimit {
		return NotStationary, fmt.Sprintf("d_st drifts by %.3g residual sd across the window (limit %g)", tau, o.TrendLimit)
	}
	b := s.ClassBand
	minK, minV, maxAbs := 0, math.Inf(1), 0.0
	for k := 1; k <= shortLags && k < len(s.ACFDST); k++ {
		v := s.ACFDST[k]
		if v < minV {
			minK, minV = k, v
		}
		maxAbs = math.Max(maxAbs, math.Abs(v))
	}
	if minV < -b {
		return Strong, fmt.Sprintf("acf of d_st at lag %d is %.3g, below -%.3g", minK, minV, b)
	}
	if maxAbs <= b && math.Abs(d.Mean) <= 0.5*d.SD && math.Abs(d.Skewness) <= 1 {
		return Weak, fmt.Sprintf("|acf of d_st| at lags 1..%d at most %.3g <= %.3g; mean %.3g, skewness %.3g", shortLags, maxAbs, b, d.Mean, d.Skewness)
	}
	return Unclassified, fmt.Sprintf("acf of d_st at lags 1..%d up to %.3g (band %.3g), mean %.3g (sd %.3g), skewness %.3g", shortLags, maxAbs, b, d.Mean, d.SD, d.Skewness)
}
