package oscillation

import (
	"context"
	"math"

	"github.com/ebmflow/ebmflow/sdk"
)

// options is the decoded, validated stage block.
type options struct {
	Window       int        `json:"window"`
	MaxLag       int        `json:"max_lag"`
	Every        int        `json:"every"`
	RBand        [2]float64 `json:"r_band"`
	RBandSource  string     `json:"r_band_source"`
	BurnIn       int        `json:"burn_in"`
	SamplesInit  string     `json:"samples_init,omitempty"`
	MinRecords   int        `json:"min_records"`
	TrendLimit   float64    `json:"trend_limit"`
	ClassZ       float64    `json:"class_z"`
	Density      bool       `json:"density"`
	Epsilon      float64    `json:"epsilon,omitempty"`
	DensityEvery int        `json:"density_every"`
	ReportEvery  int        `json:"report_every"`
	// Quality is true when the image quality diagnostic is on.
	Quality        bool `json:"quality"`
	QualityEvery   int  `json:"quality_every"`
	QualitySamples int  `json:"quality_samples"`
}

func defaultOptions() options {
	return options{
		Window: DefaultWindow, MaxLag: DefaultMaxLag, Every: DefaultEvery, BurnIn: -1,
		MinRecords: DefaultMinRecords, TrendLimit: DefaultTrendLimit, ClassZ: DefaultClassZ,
		DensityEvery: DefaultDensityEvery,
		ReportEvery:  DefaultReportEvery,
		QualityEvery: DefaultQualityEvery, QualitySamples: DefaultQualitySamples,
	}
}

// Configure decodes and checks the stage block. Attributes absent from
// cfg.Values keep their defaults. With both energy and data set it attaches
// the linked stages for the density diagnostic, and the sampler when set.
func (p *Plugin) Configure(ctx context.Context, cfg *sdk.Config) (sdk.Shapes, sdk.Problems) {
	var diags sdk.Problems
	o := defaultOptions()
	intAttr(cfg, &diags, attrWindow, &o.Window, 10)
	intAttr(cfg, &diags, attrMaxLag, &o.MaxLag, 1)
	intAttr(cfg, &diags, attrEvery, &o.Every, 1)
	intAttr(cfg, &diags, attrMinRecords, &o.MinRecords, 3)
	intAttr(cfg, &diags, attrDensityEvery, &o.DensityEvery, 1)
	intAttr(cfg, &diags, attrReportEvery, &o.ReportEvery, 0)
	intAttr(cfg, &diags, attrBurnIn, &o.BurnIn, -1)
	intAttr(cfg, &diags, attrQualityEvery, &o.QualityEvery, 1)
	intAttr(cfg, &diags, attrQualityN, &o.QualitySamples, 2)
	if o.QualitySamples > MaxQualitySamples {
		diags.Errorf([]string{attrQualityN}, "invalid value", "%s must be at most %d, got %d", attrQualityN, MaxQualitySamples, o.QualitySamples)
	}
	if cfg.Has(attrSamplesInit) {
		o.SamplesInit = cfg.String(attrSamplesInit)
	}
	posAttr(cfg, &diags, attrTrendLimit, &o.TrendLimit)
	posAttr(cfg, &diags, attrClassZ, &o.ClassZ)
	if o.MaxLag >= o.Window {
		diags.Errorf([]string{attrMaxLag}, "lag too large", "max_lag = %d must be below window = %d", o.MaxLag, o.Window)
	}
	if o.MinRecords > o.Window {
		diags.Errorf([]string{attrMinRecords}, "more records than the window holds", "min_records = %d exceeds window = %d", o.MinRecords, o.Window)
	}
	if cfg.Has(attrRBand) {
		var band []float64
		switch err := cfg.Decode(attrRBand, &band); {
		case err != nil:
			diags.Errorf([]string{attrRBand}, "invalid r_band", "want a list of two numbers: %v", err)
		case len(band) != 2 || !finite(band[0]) || !finite(band[1]) || band[0] < 0 || band[0] >= band[1]:
			diags.Errorf([]string{attrRBand}, "invalid r_band", "want [lo, hi] with 0 <= lo < hi, got %v", band)
		default:
			o.RBand = [2]float64{band[0], band[1]}
			o.RBandSource = "set"
		}
	}
	if cfg.Has(attrEpsilon) {
		posAttr(cfg, &diags, attrEpsilon, &o.Epsilon)
	}
	if o.RBandSource == "" && o.Epsilon == PaperEpsilon {
		o.RBand, o.RBandSource = DefaultRBand, "paper"
	}
	var energy sdk.EnergyLink
	var data sdk.DataLink
	hasE, hasD := cfg.Has(attrEnergy), cfg.Has(attrData)
	if hasD && (len(cfg.Upstream[attrData]["sample"]) >= 2 || !hasE && cfg.Has(attrSampler)) {
		// Images (or data and sampler without an energy): the image
		// quality diagnostic, not the density.
		return p.configureQuality(cfg, o, diags)
	}
	switch {
	case hasE != hasD:
		missing := attrData
		if !hasE {
			missing = attrEnergy
		}
		diags.Errorf([]string{missing}, "density diagnostic half configured",
			"energy and data must be set together; %s is missing", missing)
	case hasE:
		o.Density = true
		if !cfg.Has(attrEpsilon) {
			diags.Errorf([]string{attrEpsilon}, "epsilon required", "the density diagnostic needs the Langevin noise epsilon")
		}
		var err error
		if energy, err = cfg.Energy(attrEnergy); err != nil {
			linkDiag(cfg, &diags, attrEnergy, err, "the density diagnostic")
		}
		if data, err = cfg.Data(attrData); err != nil {
			linkDiag(cfg, &diags, attrData, err, "the density diagnostic")
		}
	}
	var sampler sdk.SamplerLink
	if cfg.Has(attrSampler) {
		if !o.Density {
			diags.Warnf([]string{attrSampler}, "sampler unused",
				"the short-run samples are measured only when data is set too (and energy, for 2-D data); sampler is ignored")
		} else {
			var err error
			if sampler, err = cfg.Sampler(attrSampler); err != nil {
				linkDiag(cfg, &diags, attrSampler, err, "TV_samples of short-run samples")
			}
			checkBank(cfg, &diags, o.SamplesInit, ShortRunDraws, "tv_samples", "density")
		}
	}
	if diags.HasErrors() {
		return nil, diags
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.opts = o
	p.stage = cfg.Stage
	p.runDir = cfg.RunDir
	p.reset()
	if o.Density && energy != nil && data != nil {
		p.dens = newDensity(energy, data, o.Epsilon, cfg.Stage)
		p.dens.sampler = sampler
		p.dens.samplesInit = o.SamplesInit
	}
	if o.Density && sampler != nil {
		// Each density evaluation draws ShortRunDraws chains through it.
		cfg.DeclareCost(sdk.Cost{Draws: []sdk.Draw{{Link: attrSampler, Rows: ShortRunDraws, Every: o.DensityEvery}}})
	}
	return sdk.Shapes{}, diags
}

// checkBank refuses, before the run starts, a persistent sampler whose bank
// holds fewer chains than one evaluation (of what, for metric) draws from it.
func checkBank(cfg *sdk.Config, diags *sdk.Problems, init string, rows int, metric, what string) {
	bank, ok := cfg.Upstream[attrSampler]["bank"]
	if !ok || len(bank) == 0 || (init != "" && init != "persistent") {
		return
	}
	if bank[0] < rows {
		diags.Errorf([]string{attrSampler}, "sampler bank too small for "+metric,
			"each %s evaluation draws %d chains from the linked sampler, whose persistent bank holds %d (bank_size); "+
				"set bank_size >= %d on the sampler stage, or samples_init = \"uniform\" here to start the evaluation's chains from noise",
			what, rows, bank[0], rows)
	}
}

// configureQuality finishes Configure for image data: the image quality
// diagnostic needs data and sampler; energy and epsilon are not used.
func (p *Plugin) configureQuality(cfg *sdk.Config, o options, diags sdk.Problems) (sdk.Shapes, sdk.Problems) {
	o.Quality = true
	if cfg.Has(attrEnergy) {
		diags.Warnf([]string{attrEnergy}, "energy unused",
			"the data stage serves images: the density diagnostic is for 2-D data, and the image quality diagnostic needs only data and sampler")
	}
	data, err := cfg.Data(attrData)
	if err != nil {
		linkDiag(cfg, &diags, attrData, err, "the image quality diagnostic")
	}
	var sampler sdk.SamplerLink
	if !cfg.Has(attrSampler) {
		diags.Errorf([]string{attrSampler}, "sampler required",
			"the image quality diagnostic measures short-run samples drawn through a linked sampler; set sampler = stage.NAME")
	} else {
		if sampler, err = cfg.Sampler(attrSampler); err != nil {
			linkDiag(cfg, &diags, attrSampler, err, "the image quality diagnostic")
		}
		checkBank(cfg, &diags, o.SamplesInit, o.QualitySamples, "image quality", "image quality")
	}
	if diags.HasErrors() {
		return nil, diags
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.opts, p.stage, p.runDir = o, cfg.Stage, cfg.RunDir
	p.reset()
	if data != nil && sampler != nil {
		p.qual = &imageQuality{data: data, sampler: sampler, stage: cfg.Stage, n: o.QualitySamples, samplesInit: o.SamplesInit}
		cfg.DeclareCost(sdk.Cost{Draws: []sdk.Draw{{Link: attrSampler, Rows: o.QualitySamples, Every: o.QualityEvery}}})
	}
	return sdk.Shapes{}, diags
}

// linkDiag reports a missing linked stage: an error when the stage is meant
// to run (RunDir set), a warning that what (the feature needing it) will be
// off while the pipeline is only being validated.
func linkDiag(cfg *sdk.Config, diags *sdk.Problems, attr string, err error, what string) {
	if cfg.RunDir == "" {
		diags.Warnf([]string{attr}, "stage not linked", "%v; %s will be off", err, what)
		return
	}
	diags.Errorf([]string{attr}, "stage not linked", "%v", err)
}

func intAttr(cfg *sdk.Config, diags *sdk.Problems, name string, dst *int, min int) {
	if !cfg.Has(name) {
		return
	}
	var f float64
	if err := cfg.Decode(name, &f); err != nil {
		diags.Errorf([]string{name}, "not a number", "%v", err)
		return
	}
	if f != math.Trunc(f) || f < float64(min) || f > math.MaxInt32 {
		diags.Errorf([]string{name}, "invalid value", "%s must be a whole number >= %d, got %v", name, min, f)
		return
	}
	*dst = int(f)
}

func posAttr(cfg *sdk.Config, diags *sdk.Problems, name string, dst *float64) {
	if !cfg.Has(name) {
		return
	}
	var f float64
	if err := cfg.Decode(name, &f); err != nil {
		diags.Errorf([]string{name}, "not a number", "%v", err)
		return
	}
	if !finite(f) || f <= 0 {
		diags.Errorf([]string{name}, "invalid value", "%s must be a finite number > 0, got %v", name, f)
		return
	}
	*dst = f
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
