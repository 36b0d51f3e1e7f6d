package series

import "math"

// Trend is the least-squares line through a series against its index.
type Trend struct {
	// Slope is b in x_i ~ a + b*i, per record.
	Slope float64 `json:"slope"`
	// Intercept is a, the fitted value at the first record.
	Intercept float64 `json:"intercept"`
	// ResidualSD is s = sqrt(sum (x_i - a - b*i)^2 / (n-2)).
	ResidualSD float64 `json:"residual_sd"`
	// Drift is tau = b*(n-1)/s: how many residual standard deviations the
	// fitted line moves across the series. It is 0 when b = 0 and
	// +-MaxFloat64 when s = 0 but b != 0.
	Drift float64 `json:"drift"`
	// SlopeZ is the slope over its standard error, the error widened for
	// the lag-1 autocorrelation rho of the residuals (AR(1) effective sample
	// size n(1-rho)/(1+rho), rho >= 0): below about -3 the series falls
	// beyond what its own noise explains. 0 when undefined.
	SlopeZ float64 `json:"slope_z"`
}

// FitTrend fits x_i ~ a + b*i, i = 0..n-1, by ordinary least squares:
//
//	b = sum (i - ibar)(x_i - xbar) / sum (i - ibar)^2,  a = xbar - b*ibar.
//
// Fewer than 3 values give the zero Trend.
func FitTrend(x []float64) Trend {
	n := len(x)
	if n < 3 {
		return Trend{}
	}
	ibar := float64(n-1) / 2
	xbar := mean(x)
	var sxy, sii float64
	for i, v := range x {
		di := float64(i) - ibar
		sxy += di * (v - xbar)
		sii += di * di
	}
	b := sxy / sii
	a := xbar - b*ibar
	var rss float64
	for i, v := range x {
		r := v - a - b*float64(i)
		rss += r * r
	}
	s := math.Sqrt(rss / float64(n-2))
	tr := Trend{Slope: b, Intercept: a, ResidualSD: s}
	if s > 0 {
		var c0, c1 float64
		prev := 0.0
		for i, v := range x {
			r := v - a - b*float64(i)
			c0 += r * r
			if i > 0 {
				c1 += r * prev
			}
			prev = r
		}
		rho := math.Max(0, math.Min(c1/c0, 0.99))
		se := s / math.Sqrt(sii) * math.Sqrt((1+rho)/(1-rho))
		tr.SlopeZ = b / se
	}
	switch {
	case b == 0:
		tr.Drift = 0
	case s == 0:
		tr.Drift = math.Copysign(math.MaxFloat64, b)
	default:
		tr.Drift = b * float64(n-1) / s
	}
	return tr
}
