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
	attrQualityEvery = "quality_every"
	attrQualityN     = "quality_samples"
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
	// DefaultQualityEvery and DefaultQualitySamples are the image quality
	// diagnostic's cadence and sample count.
	DefaultQualityEvery   = 1000
	DefaultQualitySamples = 1000
	// MaxQualitySamples keeps the reference and the floor's sets (5 x
	// quality_samples held-out images) within MNIST's 10,000 test images.
	MaxQualitySamples = 2000
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
			Doc: "Initial state of the chains a density or image quality evaluation draws through the sampler (its own random stream; the bank is only read). Default: the sampler's configured init."},
		{Name: attrMinRecords, Type: sdk.TypeInt, Default: float64(DefaultMinRecords),
			Bounds: sdk.Between(3, 1e8), Doc: "Fewest records in the window (after the burn-in) before a class other than not_stationary is given. Default 200."},
		{Name: attrTrendLimit, Type: sdk.TypeNumber, Default: DefaultTrendLimit,
			Bounds: sdk.Above(0).AtMost(1e6), Doc: "Largest drift of d_st across the window, in residual standard deviations, still called stationary. Default 3."},
		{Name: attrClassZ, Type: sdk.TypeNumber, Default: DefaultClassZ,
			Bounds: sdk.Above(0).AtMost(1e6), Doc: "Autocorrelation of d_st at lags 1..3 is significant beyond class_z/sqrt(n) for the class rules. Default 3."},
		{Name: attrEnergy, Type: sdk.StageRef(sdk.KindEnergy),
			Doc: "Energy stage of a 2-D model; with data, turns on the density total-variation diagnostic. Optional."},
		{Name: attrData, Type: sdk.StageRef(sdk.KindData),
			Doc: "Data stage. With a known 2-D density and plot box, and energy, turns on the density diagnostic; with images (and sampler), the image quality diagnostic against its held-out examples. Optional."},
		{Name: attrEpsilon, Type: sdk.TypeNumber,
			Bounds: sdk.Above(0).AtMost(100), Doc: "Langevin noise eps of the energy's training, for U = F*2/eps^2 (required with energy and data); at 0.015 the paper's r_t band applies. Optional."},
		{Name: attrReportEvery, Type: sdk.TypeInt, Default: float64(DefaultReportEvery),
			Bounds: sdk.Between(0, 1e8), Doc: "Rewrite diagnostics.png, density.png and report.json every this many iterations, besides each report the host asks for; 0 only on request. Default 1000."},
		{Name: attrDensityEvery, Type: sdk.TypeInt, Default: float64(DefaultDensityEvery),
			Bounds: sdk.Between(1, 1e8), Doc: "Compute the density diagnostic (and, with sampler, draw its 10,000 short-run samples) every this many iterations; reports show the latest. Default 1000."},
		{Name: attrSampler, Type: sdk.StageRef(sdk.KindSampler),
			Doc: "Sampler whose short-run samples are measured (bank left untouched): with energy and 2-D data, 10,000 samples per density evaluation for TV_samples; with image data, quality_samples per image quality evaluation. Optional."},
		{Name: attrQualityEvery, Type: sdk.TypeInt, Default: float64(DefaultQualityEvery),
			Bounds: sdk.Between(1, 1e8), Doc: "Image data: draw quality_samples short-run samples and measure them against held-out examples (MMD^2, saturated pixels) every this many iterations. Default 1000."},
		{Name: attrQualityN, Type: sdk.TypeInt, Default: float64(DefaultQualitySamples),
			Bounds: sdk.Between(2, MaxQualitySamples), Doc: "Image data: short-run samples per quality evaluation; also the size of the held-out reference set and of each of the noise floor's 4 held-out sets. Default 1000."},
	}}
}
