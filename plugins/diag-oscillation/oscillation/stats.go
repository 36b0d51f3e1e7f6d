package oscillation

import (
	"math"

	"github.com/ebmflow/ebmflow/plugins/diag-oscillation/oscillation/series"
)

// SignificanceZ is the z of the plotted white-noise band +-z/sqrt(n).
const SignificanceZ = 1.96

// Stats are the window statistics of one refresh.
type Stats struct {
	// N is the number of records in the window; TFirst and TLast their
	// first and last iteration.
	N      int `json:"n"`
	TFirst int `json:"t_first"`
	TLast  int `json:"t_last"`

	// BurnIn is the number of leading records left out of every statistic
	// and BurnInRule how it was chosen: "set" (burn_in), "mser" (the
	// detected transient, series.MSER) or "10%" (the first tenth, when
	// longer than the detected transient).
	BurnIn     int    `json:"burn_in"`
	BurnInRule string `json:"burn_in_rule"`

	DST   series.Moments `json:"d_st"`
	Trend series.Trend   `json:"d_st_trend"`
	// Growth is mean |d_st| over the window's last quarter divided by that
	// over its first quarter; LastQuarterMean the mean d_st of the last
	// quarter.
	Growth          float64 `json:"abs_d_st_growth"`
	LastQuarterMean float64 `json:"last_quarter_mean"`

	// ACFDST and ACFR are the autocorrelations at lags 0..max_lag.
	ACFDST []float64 `json:"acf_d_st"`
	ACFR   []float64 `json:"acf_r_t"`
	// Band is 1.96/sqrt(N); ClassBand is class_z/sqrt(N).
	Band      float64 `json:"band"`
	ClassBand float64 `json:"class_band"`
	// CCF holds ccf(k) = corr(d_st[t], r_t[t+k]) at CCFLags = -max_lag..max_lag.
	CCFLags []int     `json:"ccf_lags"`
	CCF     []float64 `json:"ccf"`

	R RStats `json:"r_t"`

	Class     Class  `json:"class_code"`
	ClassName string `json:"class"`
	Reason    string `json:"reason"`
}

// RStats places r_t against its target band.
type RStats struct {
	series.Moments
	// Band is the target band and BandSource where it comes from: "set"
	// (r_band), "paper" (epsilon = 0.015, the paper's [0.08, 0.15]) or ""
	// (no band: no fractions, state 0, no events).
	Band       [2]float64 `json:"band"`
	BandSource string     `json:"band_source"`
	FracBelow  float64    `json:"frac_below"`
	FracIn     float64    `json:"frac_in"`
	FracAbove  float64    `json:"frac_above"`
	// Recent is the mean of the last `every` values; State is -1, 0 or 1 as
	// Recent lies below, in or above the band.
	Recent    float64 `json:"recent_mean"`
	State     int     `json:"state"`
	StateName string  `json:"state_name"`
}

// scratch holds buffers reused between refreshes.
type scratch struct {
	sort []float64
}

// burnIn returns how many leading records of h the statistics leave out and
// the rule that chose it (see Stats.BurnIn).
func burnIn(h history, o options) (int, string) {
	n := h.len()
	if o.BurnIn >= 0 {
		return min(o.BurnIn, n), "set"
	}
	tenth := (n + 9) / 10
	if m := series.MSER(h.D); m > tenth {
		return m, "mser"
	}
	return tenth, "10%"
}

// windowOf returns the classifier's window of h: its last `window` records
// after the burn-in, with the burn-in and its rule.
func windowOf(h history, o options) (history, int, string) {
	b, rule := burnIn(h, o)
	lo := max(b, h.len()-o.Window)
	return history{T: h.T[lo:], D: h.D[lo:], R: h.R[lo:]}, b, rule
}

// statsOf returns the statistics of the classifier's window of h.
func statsOf(h history, o options, sc *scratch) Stats {
	w, b, rule := windowOf(h, o)
	s := computeStats(w, o, sc)
	s.BurnIn, s.BurnInRule = b, rule
	s.Class, s.Reason = classify(&s, o)
	s.ClassName = s.Class.String()
	return s
}

// computeStats returns the statistics of the window w under the options o,
// including the class (with BurnIn 0; statsOf fills it in and classifies
// again).
func computeStats(w history, o options, sc *scratch) Stats {
	n := w.len()
	s := Stats{N: n}
	if n > 0 {
		s.TFirst, s.TLast = int(w.T[0]), int(w.T[n-1])
	}
	if cap(sc.sort) < n {
		sc.sort = make([]float64, n)
	}
	s.DST = series.Describe(w.D, sc.sort)
	s.Trend = series.FitTrend(w.D)
	s.ACFDST = series.ACF(nil, w.D, o.MaxLag)
	s.ACFR = series.ACF(nil, w.R, o.MaxLag)
	s.CCF = series.CCF(nil, w.D, w.R, o.MaxLag)
	s.CCFLags = make([]int, 2*o.MaxLag+1)
	for i := range s.CCFLags {
		s.CCFLags[i] = i - o.MaxLag
	}
	s.Band = series.Band(n, SignificanceZ)
	s.ClassBand = series.Band(n, o.ClassZ)
	s.R = rStats(w.R, o, sc)
	if q := n / 4; q > 0 {
		var first, last, lastSum float64
		for i := 0; i < q; i++ {
			first += math.Abs(w.D[i])
			last += math.Abs(w.D[n-q+i])
			lastSum += w.D[n-q+i]
		}
		if first > 0 {
			s.Growth = last / first
		}
		s.LastQuarterMean = lastSum / float64(q)
	}
	s.Class, s.Reason = classify(&s, o)
	s.ClassName = s.Class.String()
	return s
}

func rStats(r []float64, o options, sc *scratch) RStats {
	rs := RStats{Moments: series.Describe(r, sc.sort), Band: o.RBand, BandSource: o.RBandSource}
	n := len(r)
	if n == 0 {
		rs.StateName = "unknown"
		return rs
	}
	if o.RBandSource == "" {
		rs.StateName = "no band"
		return rs
	}
	var below, above int
	for _, v := range r {
		switch {
		case v < o.RBand[0]:
			below++
		case v > o.RBand[1]:
			above++
		}
	}
	rs.FracBelow = float64(below) / float64(n)
	rs.FracAbove = float64(above) / float64(n)
	rs.FracIn = float64(n-below-above) / float64(n)
	var sum float64
	recent := r[max(0, n-o.Every):]
	for _, v := range recent {
		sum += v
	}
	rs.Recent = sum / float64(len(recent))
	switch {
	case rs.Recent < o.RBand[0]:
		rs.State, rs.StateName = -1, "below"
	case rs.Recent > o.RBand[1]:
		rs.State, rs.StateName = 1, "above"
	default:
		rs.State, rs.StateName = 0, "in"
	}
	return rs
}
