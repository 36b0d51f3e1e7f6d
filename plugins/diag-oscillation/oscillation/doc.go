// Package oscillation is the diag-oscillation diagnostics plugin of ebmflow:
// it watches d_st and r_t during MCMC maximum-likelihood training, classes the
// learning dynamics (appendix D of the paper) and draws the reference's 2x2
// diagnostic figure. With an energy and a data stage linked it also measures
// how far the energy-based model's 2-D density is from the true one, and with
// a sampler linked too, how far its short-run samples are. With an image data
// stage and a sampler linked it measures how far short-run samples are from
// held-out images (image quality, below).
//
// # Window statistics
//
// The statistics leave out a burn-in: burn_in records when set, else the
// longer of the transient that MSER-5 detects in d_st (series.MSER: the cut
// that minimises the standard error of the mean of what is kept) and the
// first 10% of the records. The classifier's window is the last `window`
// finite records after the burn-in. Every `every` iterations (and at Report)
// that window gives: the mean, median, skewness g1 = m3/m2^(3/2) and
// fraction positive of d_st; the autocorrelations acf(k) of d_st and of r_t
// at lags 0..max_lag (Box-Jenkins estimator, see series.ACF) with the
// white-noise band +-1.96/sqrt(n); the cross-correlation at lags
// -max_lag..max_lag with the sign convention
//
//	ccf(k) = corr(d_st[t], r_t[t+k])
//
// (k > 0: d_st leads r_t); the least-squares trend of d_st against the record
// index with drift tau = slope*(n-1)/residual_sd and slope_z, the slope over
// its standard error widened for the residuals' lag-1 autocorrelation; the
// growth of |d_st| (mean over the last quarter of the window over the mean
// over its first quarter); and, when there is a band, the position of r_t
// against it (fractions below, in and above it, and the mean of the last
// `every` values, which drives the r_t events).
//
// The r_t band is r_band when set. Otherwise it is the paper's [0.08, 0.15]
// when epsilon = 0.015, the setting the paper states it for (appendix A),
// and there is no band at any other epsilon: r_t = (eps^2/2)|grad U| depends
// on the data's scale and dimension as much as on eps (toy runs at eps =
// 0.125 settle near 0.08, MNIST at 0.015 in [0.08, 0.15]), so no rule
// carries the band from one pipeline to another. Without a band there are
// no r_t events and the figure draws none.
//
// # Classes
//
// The rules are tried in this order; n is the number of records in the
// window, s the standard deviation of d_st over it, b = class_z/sqrt(n):
//
//  1. not_stationary: n < min_records (default 200, after the burn-in).
//  2. collapse: d_st falls: slope_z < -class_z and the fitted line ends
//     below 0; or |d_st| grows: its last-quarter mean is more than
//     GrowthLimit (2) times its first-quarter mean while d_st averages
//     below 0 over the last quarter (appendix C: d_st -> -infinity). A
//     negative mean alone is not evidence of a collapse.
//  3. not_stationary: |tau| > trend_limit and |slope_z| > class_z (a
//     significant trend that is not a collapse).
//  4. strong: min over lags 1..3 of acf_dst(k) < -b (the sign of d_st tends
//     to flip from one update to the next).
//  5. weak: |acf_dst(k)| <= b for k = 1..3, |mean(d_st)| <= 0.5*s and
//     |skewness| <= 1 (no sign memory, roughly symmetric around 0).
//  6. unclassified: none of the above (for example positive sign memory or
//     an asymmetric d_st).
//
// class_z defaults to 3 rather than 1.96 so that white noise is called strong
// in well under 1% of the refreshes instead of about 7%; the figure still
// draws the 1.96 band. The class and the statistic it rests on (the reason)
// are in report.json ("verdict", "reason", and the whole window under
// "window") and in the subtitle of diagnostics.png.
//
// Observe returns events when the class changes (level "error" into
// collapse, "warn" from weak or strong into unclassified or not_stationary,
// else "info"), when the recent mean of r_t leaves or re-enters its band, and when a
// record's d_st or r_t is not finite (such records are counted and left out).
// The host logs them and writes them to events.jsonl in the run folder.
// Its metrics carry "osc_class" (the class code) and "r_band_state" (-1 below,
// 0 in, 1 above) only when they change, and "tv_ebm", "tv_samples",
// "tv_floor", "tv_floor_sd" when computed.
//
// # Density total variation
//
// With both `energy` and `data` set, every density_every iterations the
// plugin compares, on the data stage's plot box, the true density with the
// model's: TV_ebm on a 200x200 grid of cell centres, with
// q = exp(-(U - min U)), U = F*2/epsilon^2; and TV_floor, the mean (and
// tv_floor_sd the standard deviation) of TV_samples over 10 sets of 10,000
// exact draws from the data stage (data stream "diag:STAGE") on a 50x50 grid:
// the sampling noise floor, computed once. See package tv for the exact
// formulas.
//
// With `sampler` set as well, each evaluation first draws 10,000 chains
// through the linked sampler with sdk.SampleRequest{N: 10000, LeaveBank:
// true, T: t, Stream: "diag:STAGE", Init: samples_init}: on the stage's own
// random stream, so that the training loop's draws, and so its metrics, are
// the same whatever the diagnostics and their settings; the persistent bank
// is only read (never written, never created), and with samples_init unset
// the chains start as the sampler is configured. It computes TV_samples of
// them on the same 50x50 grid: near tv_floor when the short run samples the
// true density, larger when it does not. A persistent sampler declares its
// bank's size, and Configure (so `ebmflow validate`) refuses a bank smaller
// than 10,000 chains unless samples_init names another start. The samples
// must have shape [n, 2]; otherwise, or when the sampler fails, the
// evaluation still reports tv_ebm and tv_floor, adds a "warn" event whose
// message names the sampler attribute, and report.json carries the message
// in density.samples_error. `sampler` without energy and data is ignored,
// with a warning at Configure. Without a linked sampler, an in-process
// caller can hand samples over with SetSamples; they are used at every
// evaluation until replaced. SampleTV is the pure function behind
// TV_samples.
//
// Report never evaluates the density again: report.json, its "metrics" and
// density.png show the last evaluation Observe made (with its iteration), so
// they agree exactly with metrics.jsonl. The last evaluation and the latest
// samples are saved with SaveState. density.png draws the true density, the
// EBM's and the samples' histogram as densities per unit area on one colour
// scale, and below them their log-densities (the last 12 nats below the
// maximum) on another, each row with its colour bar.
//
// # Image quality
//
// When the linked data stage declares images (a "sample" shape of two or
// more axes; or data and sampler are set without energy), `data` and
// `sampler` turn on the image quality diagnostic instead of the density
// one (`energy` and `epsilon` are not needed; energy set is ignored with a
// warning). Every quality_every iterations (default 1000) it draws
// n = quality_samples (default 1000) chains through the sampler exactly as
// the density diagnostic does (sdk.SampleRequest{N: n, LeaveBank: true, T:
// t, Stream: "diag:STAGE", Init: samples_init}: its own stream, the bank
// only read), and compares them with held-out examples of the data stage
// (sdk.NextRequest{N: 5n, Stream: "diag:STAGE", Split: "test", NoiseSet:
// true}: for data-mnist the t10k images, preprocessed like the training
// images, without noise; the same images at every evaluation and after a
// resume). The first n are the reference set A, the other 4 sets of n the
// noise floor's. Package quality has the definitions; the metrics are
//
//	mmd2_samples   MMD2_u(samples, A), Gaussian kernel, bandwidth by the
//	               median heuristic on A (absent for non-finite samples)
//	mmd2_floor     mean of MMD2_u(B_r, A) over the 4 held-out sets B_r
//	mmd2_floor_sd  their standard deviation
//	sat_samples    fraction of the samples' pixel values with |v| >= 0.99
//	beyond_samples fraction with |v| > 1
//	sat_data       sat_samples of A: the data's own level
//
// report.json carries the last evaluation under "quality" (with the
// bandwidth) and its numbers under "metrics"; diagnostics.png shows them in
// a third title line. A persistent sampler's bank must hold at least n
// chains (checked at Configure) unless samples_init names another start.
// The held-out baseline costs about 5 MMD evaluations once; one evaluation
// costs n/batch training iterations' worth of sampling plus the MMD (about
// 0.4 s of one core for n = 1000 at 32x32 pixels).
//
// # Files
//
// Report writes diagnostics.png (1200x900 pixels: a title with the run
// folder, the stage, the iteration and the verdict; d_st and r_t with the
// y-range fitted to the classifier's window, the burn-in shaded and clipped,
// every line named in a legend; acf and ccf over the classifier's window),
// density.png (when the density diagnostic has run; a copy of it is kept
// for each evaluation as density/density-NNNNNNNNN.png) and report.json into
// the run folder, each through a temporary file in the same folder, fsync and
// rename; Observe also rewrites them every report_every iterations (default
// 1000; 0 leaves it to the host's Report calls). The whole d_st/r_t
// history is kept (24 bytes per iteration) and saved with SaveState so a
// resumed run draws the same figure; series longer than 5,000 points are
// min-max decimated for plotting. The trailing window is the tail of that
// history, so Observe costs one append per record.
package oscillation
