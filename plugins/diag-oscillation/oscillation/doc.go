// Package oscillation is the diag-oscillation diagnostics plugin of ebmflow:
// it watches d_st and r_t during MCMC maximum-likelihood training, classes the
// learning dynamics (appendix D of the paper) and draws the reference's 2x2
// diagnostic figure. With an energy and a data stage linked it also measures
// how far the energy-based model's 2-D density is from the true one, and with
// a sampler linked too, how far its short-run samples are.
//
// # Window statistics
//
// Every `every` iterations (and at Report) the last `window` finite records
// give: the mean, median, skewness g1 = m3/m2^(3/2) and fraction positive of
// d_st; the autocorrelations acf(k) of d_st and of r_t at lags 0..max_lag
// (Box-Jenkins estimator, see series.ACF) with the white-noise band
// +-1.96/sqrt(n); the cross-correlation at lags -max_lag..max_lag with the
// sign convention
//
//	ccf(k) = corr(d_st[t], r_t[t+k])
//
// (k > 0: d_st leads r_t); the least-squares trend of d_st against the record
// index with drift tau = slope*(n-1)/residual_sd; and the position of r_t
// against the band r_band (fractions below, in and above it over the window,
// and the mean of the last `every` values, which drives the r_t events).
//
// # Classes
//
// The rules are tried in this order; n is the number of records in the
// window, s the standard deviation of d_st over it, b = class_z/sqrt(n) and
// tau the drift:
//
//  1. not_stationary: n < min_records.
//  2. collapse: mean(d_st) < 0 and (tau < -trend_limit or mean(d_st) < -s):
//     d_st falls by more than trend_limit residual standard deviations across
//     the window, or sits more than one standard deviation below 0 (appendix
//     C: d_st -> -infinity).
//  3. not_stationary: |tau| > trend_limit (a trend that is not a collapse).
//  4. strong: min over lags 1..3 of acf_dst(k) < -b (the sign of d_st tends
//     to flip from one update to the next).
//  5. weak: |acf_dst(k)| <= b for k = 1..3, |mean(d_st)| <= 0.5*s and
//     |skewness| <= 1 (no sign memory, roughly symmetric around 0).
//  6. unclassified: none of the above (for example positive sign memory or
//     an asymmetric d_st).
//
// class_z defaults to 3 rather than 1.96 so that white noise is called strong
// in well under 1% of the refreshes instead of about 7%; the figure still
// draws the 1.96 band.
//
// Observe returns events when the class changes (level "warn" into
// unclassified or not_stationary after a class, "error" for collapse, else
// "info"), when the recent mean of r_t leaves or re-enters r_band, and when a
// record's d_st or r_t is not finite (such records are counted and left out).
// Its metrics carry "osc_class" (the class code) and "r_band_state" (-1 below,
// 0 in, 1 above) only when they change, and "tv_ebm", "tv_samples",
// "tv_floor" when computed.
//
// Report writes diagnostics.png, density.png (with the density diagnostic)
// and report.json into the run folder; Observe also rewrites them itself
// every report_every iterations (default 1000; 0 leaves it to the host's
// Report calls), so the figures stay current during a long run.
//
// # Density total variation
//
// With both `energy` and `data` set, every density_every iterations and at
// Report the plugin compares, on the data stage's plot box, the true density
// with the model's: TV_ebm on a 200x200 grid of cell centres, with
// q = exp(-(U - min U)), U = F*2/epsilon^2; and TV_floor, TV_samples of 10,000
// exact draws from the data stage on a 50x50 grid (the sampling noise floor,
// computed once). See package tv for the exact formulas.
//
// With `sampler` set as well, each of those evaluations first draws 10,000
// short-run samples through the linked sampler with
// sdk.SampleRequest{N: 10000, LeaveBank: true, T: t} (t the iteration, or the
// last one observed at Report; steps and initial state as the sampler is
// configured, and its persistent bank left untouched) and computes
// TV_samples of them on the same 50x50 grid: near tv_floor when the short
// run samples the true density, larger when it does not. The samples must
// have shape [n, 2]; otherwise, or when the sampler fails, the evaluation
// still reports tv_ebm and tv_floor, adds a "warn" event whose message names
// the sampler attribute, and report.json carries the message in
// density.samples_error. `sampler` without energy and data is ignored, with
// a warning at Configure. Without a linked sampler, an in-process caller can
// hand samples over with SetSamples; they are used at every evaluation until
// replaced. SampleTV is the pure function behind TV_samples. The latest
// samples are saved with SaveState and drawn as the third panel of
// density.png.
//
// # Files
//
// Report writes diagnostics.png (1200x900 pixels), density.png (when the
// density diagnostic is on) and report.json into the run folder, each through
// a temporary file in the same folder, fsync and rename. The whole d_st/r_t
// history is kept (24 bytes per iteration) and saved with SaveState so a
// resumed run draws the same figure; series longer than 5,000 points are
// min-max decimated for plotting. The trailing window is the tail of that
// history, so Observe costs one append per record.
package oscillation
