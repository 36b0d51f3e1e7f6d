package oscillation

import (
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

	DST   series.Moments `json:"d_st"`
	Trend series.Trend   `json:"d_st_trend"`

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
	Band      [2]float64 `json:"band"`
	FracBelow float64    `json:"frac_below"`
	FracIn    float64    `json:"frac_in"`
	FracAbove float64    `json:"frac_above"`
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

// computeStats returns the statistics of the window w (the tail of the
// history) under the options o, including the class.
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
	s.Class, s.Reason = classify(&s, o)
	s.ClassName = s.Class.String()
	return s
}

func rStats(r []float64, o options, sc *scratch) RStats {
	rs := RStats{Moments: series.Describe(r, sc.sort), Band: o.RBand}
	n := len(r)
	if n == 0 {
		rs.StateName = "unknown"
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
