package sdk

import "context"

// ProtocolVersion is the plugin protocol this SDK speaks. The host refuses a
// plugin that speaks another one, naming both.
const ProtocolVersion = 1

// Kind is one of the four plugin kinds.
type Kind string

const (
	KindEnergy      Kind = "energy"
	KindSampler     Kind = "sampler"
	KindData        Kind = "data"
	KindDiagnostics Kind = "diagnostics"
)

// Kinds lists every plugin kind.
var Kinds = []Kind{KindEnergy, KindSampler, KindData, KindDiagnostics}

// Info describes a plugin binary.
type Info struct {
	// Name is the plugin's name, the NAME in ebmflow-plugin-NAME.
	Name string `json:"name"`
	// Kind is the plugin kind; it must agree with the interface implemented.
	Kind Kind `json:"kind"`
	// Version is the plugin's own version (semantic versioning).
	Version string `json:"version"`
	// Protocol is the plugin protocol version; Serve fills it in.
	Protocol int `json:"protocol"`
	// Description is one line for `ebmflow plugins`.
	Description string `json:"description,omitempty"`
}

// Base is the contract every plugin kind shares.
type Base interface {
	// Info returns the plugin's name, kind and version.
	Info() Info
	// Schema returns the attributes the plugin accepts in its stage block.
	Schema() Schema
	// Configure receives the decoded stage block and the stage's seed. It
	// answers with the shapes the stage will produce and with the problems
	// it finds in its configuration; an error means the stage cannot run.
	Configure(ctx context.Context, cfg *Config) (Shapes, Problems)
	// SaveState returns everything needed to continue bit for bit: weights,
	// optimiser moments, persistent chains, random stream states.
	SaveState(ctx context.Context) (*State, error)
	// LoadState restores a state returned by SaveState of the same plugin and
	// configuration.
	LoadState(ctx context.Context, st *State) error
}

// Shapes names the per-sample tensor shapes (without the batch dimension) a
// stage declares at configure time. Conventional names: "sample" for what a
// data or sampler stage produces, "input" for what an energy stage accepts.
type Shapes map[string][]int

// State is a stage's saved state: named tensors (written as safetensors in a
// checkpoint) and an opaque blob for everything else (conventionally JSON).
type State struct {
	Meta    []byte
	Tensors map[string]*Tensor
}
