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

// GrowthLimit is the ratio of mean |d_st| over the last quarter of the
// window to that over its first quarter beyond which, with d_st negative
// over the last quarter, |d_st| counts as growing (a collapse).
const GrowthLimit = 2.0

// classify applies the rules of the package documentation to the window
// statistics and returns the class and a one-line reason.
func classify(s *Stats, o options) (Class, string) {
	d := s.DST
	if s.N < o.MinRecords {
		return NotStationary, fmt.Sprintf("%d records in the window after a burn-in of %d, fewer than min_records = %d", s.N, s.BurnIn, o.MinRecords)
	}
	tr := s.Trend
	end := tr.Intercept + tr.Slope*float64(s.N-1)
	if tr.SlopeZ < -o.ClassZ && end < 0 {
		return Collapse, fmt.Sprintf("d_st falls: slope %.3g per iteration, %.3g standard errors (limit -%g), fitted value at the window's end %.3g",
			tr.Slope, tr.SlopeZ, o.ClassZ, end)
	}
	if s.Growth > GrowthLimit && s.LastQuarterMean < 0 {
		return Collapse, fmt.Sprintf("|d_st| grows %.3g-fold from the first to the last quarter of the window (limit %g), last quarter mean %.3g",
			s.Growth, GrowthLimit, s.LastQuarterMean)
	}
	tau := tr.Drift
	if math.Abs(tau) > o.TrendLimit && math.Abs(tr.SlopeZ) > o.ClassZ {
		return NotStationary, fmt.Sprintf("d_st drifts by %.3g residual sd across the window (limit %g), slope %.3g standard errors", tau, o.TrendLimit, tr.SlopeZ)
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
		return Weak, fmt.Sprintf("|acf of d_st| at lags 1..%d at most %.3g <= %.3g; mean %.3g (sd %.3g), skewness %.3g", shortLags, maxAbs, b, d.Mean, d.SD, d.Skewness)
	}
	return Unclassified, fmt.Sprintf("acf of d_st at lags 1..%d up to %.3g (band %.3g), mean %.3g (sd %.3g), skewness %.3g", shortLags, maxAbs, b, d.Mean, d.SD, d.Skewness)
}
