package convnet

import (
	"fmt"
	"math"

	"github.com/ebmflow/ebmflow/sdk"
)

// Attribute defaults.
const (
	defaultNet       = "vanilla"
	defaultChannels  = 1
	defaultImageSize = 32
	defaultNF        = 32
	defaultSlope     = 0.05
	defaultOptimizer = "sgd"
	defaultBeta1     = 0.9
	defaultBeta2     = 0.999
	defaultAdamEps   = 1e-8
	defaultDType     = "float32"
)

// schema is the stage block the plugin accepts.
var schema = sdk.Schema{Attributes: []sdk.Attribute{
	{Name: "net", Type: sdk.TypeString, Default: defaultNet, Enum: []string{"vanilla", "nonlocal", "toy"},
		Doc: `Network: "vanilla" (the reference VanillaNet ConvNet for images), "nonlocal" (the reference NonlocalNet: three 3x3 convs with max-pooling, non-local attention blocks after the first two, two linear layers; 32x32 images only) or "toy" (the MLP 2->32->64->64->64->1 for 2-D data). Default "vanilla".`},
	{Name: "channels", Type: sdk.TypeInt, Default: float64(defaultChannels),
		Bounds: sdk.Between(1, 3), Doc: "Image channels n_c of the vanilla and nonlocal nets: 1 (grey) or 3 (colour). Default 1. Ignored by the toy net."},
	{Name: "image_size", Type: sdk.TypeInt, Default: float64(defaultImageSize),
		Bounds: sdk.Between(28, 64), Doc: "Side of the square input image in pixels: 32, 28 (the vanilla net's final conv is then 3x3) or 64 (8x8); the nonlocal net takes 32 only. Default 32. Ignored by the toy net."},
	{Name: "n_f", Type: sdk.TypeInt, Default: float64(defaultNF),
		Bounds: sdk.Between(1, 4096), Doc: "Base number of filters n_f of the vanilla net (layers have n_f, 2n_f, 4n_f, 8n_f filters) and of the nonlocal net (convs n_f, 2n_f, 4n_f; fc.0 8n_f units). Default 32. Ignored by the toy net."},
	{Name: "slope", Type: sdk.TypeNumber, Default: defaultSlope,
		Bounds: sdk.AtLeast(0).Below(1), Doc: "Negative slope of every LeakyReLU, dimensionless, in [0, 1). Default 0.05."},
	{Name: "epsilon", Type: sdk.TypeNumber, Required: true,
		Bounds: sdk.Above(0).AtMost(100), Doc: "Langevin noise eps of the sampler (same units as x), > 0. Used for d_st = (2/eps^2)(mean F(x+) - mean F(x-)) and to scale the Adam gradient. Required, no default."},
	{Name: "optimizer", Type: sdk.TypeString, Default: defaultOptimizer, Enum: []string{"sgd", "adam"},
		Doc: `Weight update: "sgd" (no momentum, theta <- theta - lr * grad(mean F(x+) - mean F(x-))) or "adam" (PyTorch Adam on grad d_st). Default "sgd".`},
	{Name: "adam_beta1", Type: sdk.TypeNumber, Default: defaultBeta1,
		Bounds: sdk.AtLeast(0).Below(1), Doc: "Adam first-moment decay beta1, in [0, 1). Default 0.9."},
	{Name: "adam_beta2", Type: sdk.TypeNumber, Default: defaultBeta2,
		Bounds: sdk.AtLeast(0).Below(1), Doc: "Adam second-moment decay beta2, in [0, 1). Default 0.999."},
	{Name: "adam_eps", Type: sdk.TypeNumber, Default: defaultAdamEps,
		Bounds: sdk.Above(0).AtMost(1), Doc: "Adam denominator term eps (gradient units), > 0. Default 1e-8."},
	{Name: "dtype", Type: sdk.TypeString, Default: defaultDType, Enum: []string{"float32", "float64"},
		Doc: `Element type of weights, inputs and outputs: "float32" or "float64" (for numerical checks). Default "float32".`},
}}

// settings is a validated stage block.
type settings struct {
	Net       string  `json:"net"`
	Channels  int     `json:"channels"`
	ImageSize int     `json:"image_size"`
	NF        int     `json:"n_f"`
	Slope     float64 `json:"slope"`
	Epsilon   float64 `json:"epsilon"`
	Optimizer string  `json:"optimizer"`
	Beta1     float64 `json:"adam_beta1"`
	Beta2     float64 `json:"adam_beta2"`
	AdamEps   float64 `json:"adam_eps"`
	DType     string  `json:"dtype"`
}

// parseSettings decodes and validates the block. Absent attributes take
// their defaults; every problem becomes a diagnostic whose Path names the
// attribute.
func parseSettings(cfg *sdk.Config) (settings, sdk.Problems) {
	var d sdk.Problems
	s := settings{
		Net: str(cfg, &d, "net", defaultNet, "vanilla", "nonlocal", "toy"),
		Channels: whole(cfg, &d, "channels", defaultChannels, func(v int) string {
			if v != 1 && v != 3 {
				return "must be 1 or 3"
			}
			return ""
		}),
		ImageSize: whole(cfg, &d, "image_size", defaultImageSize, func(v int) string {
			if v != 32 && v != 28 && v != 64 {
				return "must be 32, 28 or 64"
			}
			return ""
		}),
		NF: whole(cfg, &d, "n_f", defaultNF, func(v int) string {
			if v < 1 || v > 4096 {
				return "must be between 1 and 4096"
			}
			return ""
		}),
		Slope:     number(cfg, &d, "slope", defaultSlope, false, 0, 1),
		Optimizer: str(cfg, &d, "optimizer", defaultOptimizer, "sgd", "adam"),
		Beta1:     number(cfg, &d, "adam_beta1", defaultBeta1, false, 0, 1),
		Beta2:     number(cfg, &d, "adam_beta2", defaultBeta2, false, 0, 1),
		AdamEps:   number(cfg, &d, "adam_eps", defaultAdamEps, true, 0, math.Inf(1)),
		DType:     str(cfg, &d, "dtype", defaultDType, "float32", "float64"),
	}
	if s.Net == "nonlocal" && s.ImageSize != nlSize {
		d.Errorf([]string{"image_size"}, "invalid value",
			"%d: the nonlocal net takes %dx%d images only (its fc.0 reads a 4x4 map)", s.ImageSize, nlSize, nlSize)
	}
	if !cfg.Has("epsilon") {
		d.Errorf([]string{"epsilon"}, "missing required attribute",
			"epsilon (the Langevin noise eps) is required to compute d_st = (2/eps^2)(mean F(x+) - mean F(x-))")
	} else {
		s.Epsilon = number(cfg, &d, "epsilon", 0, true, 0, math.Inf(1))
	}
	return s, d
}

// str decodes a string attribute that must be one of allowed.
func str(cfg *sdk.Config, d *sdk.Problems, name, def string, allowed ...string) string {
	if !cfg.Has(name) {
		return def
	}
	var v string
	if err := cfg.Decode(name, &v); err != nil {
		d.Errorf([]string{name}, "invalid value", "want a string: %v", err)
		return def
	}
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	d.Errorf([]string{name}, "invalid value", "%q is not one of %q", v, allowed)
	return def
}

// whole decodes a whole-number attribute and applies check, which returns
// a problem description or "".
func whole(cfg *sdk.Config, d *sdk.Problems, name string, def int, check func(int) string) int {
	if !cfg.Has(name) {
		return def
	}
	var f float64
	if err := cfg.Decode(name, &f); err != nil {
		d.Errorf([]string{name}, "invalid value", "want a whole number: %v", err)
		return def
	}
	if f != math.Trunc(f) || math.Abs(f) > 1<<30 {
		d.Errorf([]string{name}, "invalid value", "want a whole number, got %v", f)
		return def
	}
	if msg := check(int(f)); msg != "" {
		d.Errorf([]string{name}, "invalid value", "%d: %s", int(f), msg)
		return def
	}
	return int(f)
}

// number decodes a finite number in [lo, hi) (in (lo, hi) if openLo).
func number(cfg *sdk.Config, d *sdk.Problems, name string, def float64, openLo bool, lo, hi float64) float64 {
	if !cfg.Has(name) {
		return def
	}
	var f float64
	if err := cfg.Decode(name, &f); err != nil {
		d.Errorf([]string{name}, "invalid value", "want a number: %v", err)
		return def
	}
	bad := math.IsNaN(f) || math.IsInf(f, 0) || f < lo || f >= hi || (openLo && f == lo)
	if bad {
		left := "["
		if openLo {
			left = "("
		}
		d.Errorf([]string{name}, "invalid value", "%v is outside %s%v, %v)", f, left, lo, hi)
		return def
	}
	return f
}

// arch returns the net the settings describe.
func (s settings) arch() (arch, error) {
	if s.Net == "toy" {
		return toyArch(), nil
	}
	build := vanillaArch
	if s.Net == "nonlocal" {
		build = nonlocalArch
	}
	a, err := build(s.Channels, s.NF, s.ImageSize)
	if err != nil {
		return arch{}, fmt.Errorf("settings: %w", err)
	}
	return a, nil
}

// dtype returns the configured element type.
func (s settings) dtype() sdk.DType {
	if s.DType == "float64" {
		return sdk.Float64
	}
	return sdk.Float32
}
