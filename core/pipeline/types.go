package pipeline

import (
	"encoding/json"

	"github.com/ebmflow/ebmflow/core/schedule"
	"github.com/ebmflow/ebmflow/sdk"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

var (
	ctyString = cty.String
	ctyNumber = cty.Number
	ctyBool   = cty.Bool
)

// Pipeline is a parsed (and, after Bind, bound) pipeline file.
type Pipeline struct {
	Path   string
	Source []byte
	// Hash is the hex SHA-256 of Source.
	Hash string
	// Variables are the resolved input variables.
	Variables map[string]cty.Value
	// VariableSources says where each variable's value came from.
	VariableSources map[string]string
	Locals          map[string]cty.Value
	Plugins         map[string]*PluginReq
	// Stages in declaration order; after Bind, Order holds them sorted so
	// that every stage comes after the stages it references.
	Stages []*Stage
	Order  []*Stage
	// Schedule is the schedule "lr" block, declared at ScheduleRange.
	Schedule      *schedule.Config
	ScheduleRange hcl.Range
	Train         *Train

	// Files are the parsed files by name (the pipeline and any -var-file),
	// for rendering diagnostics with source snippets.
	Files map[string]*hcl.File

	ctx *hcl.EvalContext
}

// Stage returns the named stage or nil.
func (p *Pipeline) Stage(name string) *Stage {
	for _, s := range p.Stages {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// PluginReq is a plugin "NAME" { source, version } requirement.
type PluginReq struct {
	Name string
	// Source, when set, is the path of the plugin binary (relative paths are
	// relative to the pipeline file).
	Source string
	// Version, when set, is the exact plugin version required, or a prefix
	// such as "0.1" matching 0.1.x.
	Version   string
	DeclRange hcl.Range
}

// Stage is a stage "NAME" { plugin = "PLUGIN" ... } block.
type Stage struct {
	Name        string
	Plugin      string
	DeclRange   hcl.Range
	PluginRange hcl.Range
	// Timeout bounds each call to the stage's plugin, in seconds (0: none).
	Timeout float64
	// Attrs are the plugin-owned attributes, by name.
	Attrs map[string]*hcl.Attribute

	// Set by Bind:
	Kind   sdk.Kind
	Schema sdk.Schema
	// Values are the decoded plugin-owned attributes (stage references as the
	// referenced stage's name), as JSON, defaults not filled in.
	Values map[string]json.RawMessage
	// Refs maps each stage-reference attribute to the referenced stage.
	Refs map[string]string
}

// Train is the train block.
type Train struct {
	Iterations      int      `json:"iterations"`
	Seed            uint64   `json:"seed"`
	CheckpointEvery int      `json:"checkpoint_every"`
	KeepCheckpoints int      `json:"keep_checkpoints"`
	SampleEvery     int      `json:"sample_every"`
	Output          string   `json:"output"`
	OnNonfinite     string   `json:"on_nonfinite"`
	Batch           int      `json:"batch"`
	Energy          string   `json:"energy"`
	Sampler         string   `json:"sampler"`
	Data            string   `json:"data"`
	Diagnostics     []string `json:"diagnostics"`
	DeclRange       hcl.Range
	roleRanges      map[string]hcl.Range
}
