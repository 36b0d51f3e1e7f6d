// Package series holds the time-series statistics of the oscillation
// diagnostics: moments, autocorrelation, cross-correlation, a linear trend and
// min-max decimation for plotting.
//
// Every function works on plain float64 slices so that it can be checked by
// hand on short series. Functions that produce a slice take a destination: if
// dst is nil (or too short) a new slice is allocated.
package series
