package series

import "math"

// ACF writes the sample autocorrelation of x at lags 0..maxLag into dst and
// returns it:
//
//	acf(k) = sum_{t=0}^{n-1-k} (x_t - m)(x_{t+k} - m) / sum_{t=0}^{n-1} (x_t - m)^2
//
// with m the mean of x (the Box-Jenkins estimator, biased towards 0 at long
// lags). Lags at or beyond n are 0. A constant series has acf(0) = 1 and 0 at
// every other lag. If dst is nil or shorter than maxLag+1 a new slice is
// allocated.
func ACF(dst, x []float64, maxLag int) []float64 {
	dst = resize(dst, maxLag+1)
	n := len(x)
	for k := range dst {
		dst[k] = 0
	}
	if n == 0 {
		return dst
	}
	m := mean(x)
	var den float64
	for _, v := range x {
		den += (v - m) * (v - m)
	}
	dst[0] = 1
	if den == 0 {
		return dst
	}
	for k := 1; k <= maxLag && k < n; k++ {
		var num float64
		for t := 0; t+k < n; t++ {
			num += (x[t] - m) * (x[t+k] - m)
		}
		dst[k] = num / den
	}
	return dst
}

// CCF writes the sample cross-correlation of x and y at lags -maxLag..maxLag
// into dst (index k+maxLag holds lag k) and returns it. The sign convention is
//
//	ccf(k) = corr(x_t, y_{t+k})
//	       = sum_{t: 0<=t, t+k<n} (x_t - mx)(y_{t+k} - my) / sqrt(sum (x_t - mx)^2 sum (y_t - my)^2)
//
// so a positive lag k pairs x now with y k steps later (x leads y). x and y
// must have the same length; lags with |k| >= n, and every lag when either
// series is constant, are 0.
func CCF(dst, x, y []float64, maxLag int) []float64 {
	if len(x) != len(y) {
		panic("series: CCF of series of different lengths")
	}
	dst = resize(dst, 2*maxLag+1)
	for i := range dst {
		dst[i] = 0
	}
	n := len(x)
	if n == 0 {
		return dst
	}
	mx, my := mean(x), mean(y)
	var sxx, syy float64
	for t := range x {
		sxx += (x[t] - mx) * (x[t] - mx)
		syy += (y[t] - my) * (y[t] - my)
	}
	if sxx == 0 || syy == 0 {
		return dst
	}
	den := math.Sqrt(sxx * syy)
	for k := -maxLag; k <= maxLag; k++ {
		lo, hi := 0, n-k // t ranges over [lo, hi) so that 0 <= t+k < n
		if k < 0 {
			lo, hi = -k, n
		}
		var num float64
		for t := lo; t < hi; t++ {
			num += (x[t] - mx) * (y[t+k] - my)
		}
		dst[k+maxLag] = num / den
	}
	return dst
}

// Band returns the half-width z/sqrt(n) of the approximate significance band
// of a sample autocorrelation of n white-noise values (z = 1.96 for 95%). It
// returns 0 for n <= 0.
func Band(n int, z float64) float64 {
	if n <= 0 {
		return 0
	}
	return z / math.Sqrt(float64(n))
}

func mean(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

func resize(dst []float64, n int) []float64 {
	if cap(dst) < n {
		return make([]float64, n)
	}
	return dst[:n]
}
