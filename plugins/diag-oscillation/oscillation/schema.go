package oscillation

import "github.com/ebmflow/ebmflow/sdk"

// Attribute names of the stage block.
const (
	attrWindow       = "window"
	attrMaxLag       = "max_lag"
	attrEvery        = "every"
	attrRBand        = "r_band"
	attrMinRecords   = "min_records"
	attrTrendLimit   = "trend_limit"
	attrClassZ       = "class_z"
	attrEnergy       = "energy"
	attrData         = "data"
	attrEpsilon      = "epsilon"
	attrDensityEvery = "density_every"
	attrReportEvery  = "report_every"
	attrSampler      = "sampler"
	attrBurnIn       = "burn_in"
	attrSamplesInit  = "samples_init"
)

// Defaults of the stage block's attributes.
const (
	DefaultWindow       = 2000
	DefaultMaxLag       = 15
	DefaultEvery        = 100
	DefaultMinRecords   = 200
	DefaultTrendLimit   = 3.0
	DefaultClassZ       = 3.0
	DefaultDensityEvery = 1000
	DefaultReportEvery  = 1000
)

// DefaultRBand is the paper's target band of r_t (appendix A), which it
// states for images at eps = PaperEpsilon. It applies only when the stage's
// epsilon is PaperEpsilon; r_t = (eps^2/2)|grad U| also scales with the
// data's own scale and dimension, so no rule carries the band to another
// epsilon: set r_band for other pipelines.
var DefaultRBand = [2]float64{0.08, 0.15}

// PaperEpsilon is the Langevin noise at which the paper gives DefaultRBand.
const PaperEpsilon = 0.015

// Schema returns the attributes of a diag-oscillation stage block.
func (p *Plugin) Schema() sdk.Schema {
	return sdk.Schema{Attributes: []sdk.Attribute{
		{Name: attrWindow, Type: sdk.TypeInt, Default: float64(DefaultWindow),
			Bounds: sdk.Between(10, 1e8), Doc: "Trailing window of the statistics, in iterations (records). Default 2000."},
		{Name: attrMaxLag, Type: sdk.TypeInt, Default: float64(DefaultMaxLag),
			Bounds: sdk.Between(1, 1e6), Doc: "Largest lag of the autocorrelations (0..max_lag) and cross-correlation (-max_lag..max_lag), in iterations. Default 15."},
		{Name: attrEvery, Type: sdk.TypeInt, Default: float64(DefaultEvery),
			Bounds: sdk.Between(1, 1e8), Doc: "Recompute the statistics and the class every this many iterations (and at each report). Default 100."},
		{Name: attrRBand, Type: sdk.TypeListNumber,
			Bounds: sdk.AtLeast(0).AtMost(1e6), Doc: "Target band [lo, hi] of the drift magnitude r_t, in units of dF/dx. Default: the paper's [0.08, 0.15] when epsilon = 0.015, else no band (no r_t events)."},
		{Name: attrBurnIn, Type: sdk.TypeInt, Default: float64(-1),
			Bounds: sdk.Between(-1, 1e8), Doc: "Leading records left out of every statistic. Default -1: the longer of the transient MSER-5 detects and the first 10% of the records."},
		{Name: attrSamplesInit, Type: sdk.TypeString, Enum: []string{"uniform", "gaussian", "data", "persistent"},
			Doc: "Initial state of the chains a density evaluation draws through the sampler (its own random stream; the bank is only read). Default: the sampler's configured init."},
		{Name: attrMinRecords, Type: sdk.TypeInt, Default: float64(DefaultMinRecords),
			Bounds: sdk.Between(3, 1e8), Doc: "Fewest records in the window (after the burn-in) before a class other than not_stationary is given. Default 200."},
		{Name: attrTrendLimit, Type: sdk.TypeNumber, Default: DefaultTrendLimit,
			Bounds: sdk.Above(0).AtMost(1e6), Doc: "Largest drift of d_st across the window, in residual standard deviations, still called stationary. Default 3."},
		{Name: attrClassZ, Type: sdk.TypeNumber, Default: DefaultClassZ,
			Bounds: sdk.Above(0).AtMost(1e6), Doc: "Autocorrelation of d_st at lags 1..3 is significant beyond class_z/sqrt(n) for the class rules. Default 3."},
		{Name: attrEnergy, Type: sdk.StageRef(sdk.KindEnergy),
			Doc: "Energy stage of a 2-D model; with data, turns on the density total-variation diagnostic. Optional."},
		{Name: attrData, Type: sdk.StageRef(sdk.KindData),
			Doc: "Data stage with a known 2-D density and plot box; with energy, turns on the density diagnostic. Optional."},
		{Name: attrEpsilon, Type: sdk.TypeNumber,
			Bounds: sdk.Above(0).AtMost(100), Doc: "Langevin noise eps of the energy's training, for U = F*2/eps^2 (required with energy and data); at 0.015 the paper's r_t band applies. Optional."},
		{Name: attrReportEvery, Type: sdk.TypeInt, Default: float64(DefaultReportEvery),
			Bounds: sdk.Between(0, 1e8), Doc: "Rewrite diagnostics.png, density.png and report.json every this many iterations, besides each report the host asks for; 0 only on request. Default 1000."},
		{Name: attrDensityEvery, Type: sdk.TypeInt, Default: float64(DefaultDensityEvery),
			Bounds: sdk.Between(1, 1e8), Doc: "Compute the density diagnostic (and, with sampler, draw its 10,000 short-run samples) every this many iterations; reports show the latest. Default 1000."},
		{Name: attrSampler, Type: sdk.StageRef(sdk.KindSampler),
			Doc: "Sampler whose short-run samples are compared with the true density: with energy and data, each density evaluation draws 10,000 samples through it (bank left untouched) for TV_samples. Optional."},
	}}
}
