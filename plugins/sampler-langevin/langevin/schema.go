package langevin

import "github.com/ebmflow/ebmflow/sdk"

// Version is the plugin's version.
const Version = "0.1.0"

// Init values accepted by the init attribute and SampleRequest.Init.
const (
	InitUniform    = "uniform"
	InitGaussian   = "gaussian"
	InitData       = "data"
	InitPersistent = "persistent"
)

// defaultBankSize is the persistent bank's size when no data stage with a
// known size is linked (the reference's toy bank).
const defaultBankSize = 10000

// Info returns the plugin's name, kind and version.
func (s *Plugin) Info() sdk.Info {
	return sdk.Info{
		Name:        "sampler-langevin",
		Kind:        sdk.KindSampler,
		Version:     Version,
		Description: "Langevin / MALA sampler with noise, data and persistent initialisation",
	}
}

// Schema returns the attributes of a sampler-langevin stage block.
func (s *Plugin) Schema() sdk.Schema {
	return sdk.Schema{Attributes: []sdk.Attribute{
		{Name: "energy", Type: sdk.StageRef(sdk.KindEnergy), Required: true,
			Doc: "energy stage whose dF/dx drives the chains; its declared \"input\" shape is the sample shape"},
		{Name: "data", Type: sdk.StageRef(sdk.KindData),
			Doc: "data stage used by init = \"data\" (positives on stream \"sampler:STAGE\") and for the default bank_size"},
		{Name: "epsilon", Type: sdk.TypeNumber, Required: true,
			Bounds: sdk.Above(0).AtMost(100), Doc: "Langevin noise sd eps, in units of x: x' = x - dF/dx(x) + eps*z (the step size eps^2/2 is folded into F)"},
		{Name: "steps", Type: sdk.TypeInt, Required: true,
			Bounds: sdk.AtLeast(1).AtMost(1e6), Doc: "number of Langevin steps L per Sample call"},
		{Name: "batch", Type: sdk.TypeInt, Default: 100.0,
			Bounds: sdk.AtLeast(1).AtMost(1e6), Doc: "number of chains per Sample call (default 100)"},
		{Name: "init", Type: sdk.TypeString, Default: InitUniform,
			Enum: []string{InitUniform, InitGaussian, InitData, InitPersistent},
			Doc:  "initial state: uniform in [-init_scale, init_scale], gaussian N(0, init_scale^2), data (a data batch) or persistent (bank chains); default uniform"},
		{Name: "init_scale", Type: sdk.TypeNumber, Default: 1.0,
			Bounds: sdk.Above(0).AtMost(1e6), Doc: "half-width of the uniform noise, sd of the gaussian noise, in units of x (default 1)"},
		{Name: "bank_size", Type: sdk.TypeInt,
			Bounds: sdk.AtLeast(1).AtMost(1e8), Doc: "number of persistent chains (default: the data stage's size when one is linked and finite, else 10000)"},
		{Name: "reinit_prob", Type: sdk.TypeNumber, Default: 0.0,
			Bounds: sdk.Between(0, 1), Doc: "probability that a drawn persistent chain is re-initialised from uniform noise (default 0; IGEBM and JEM use 0.05)"},
		{Name: "mala", Type: sdk.TypeBool, Default: false,
			Doc: "Metropolis-adjust each step (MALA on U = F/(eps^2/2)); default false"},
		{Name: "dtype", Type: sdk.TypeString, Default: "float32", Enum: []string{"float32", "float64"},
			Doc: "element type of the chains; must match the energy stage's input dtype (default float32)"},
	}}
}
