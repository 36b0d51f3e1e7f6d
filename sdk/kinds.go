package sdk

import "context"

// Energy is the contract of an energy stage: F(x; theta), dF/dx and the
// maximum-likelihood update. Its methods may be called concurrently (the
// sampler's gradient calls and a diagnostics stage's energy calls); guard
// internal state accordingly.
type Energy interface {
	Base
	EnergyLink
	// Update takes one learning step with the host's learning rate and
	// returns d_st = (2/eps^2)(mean F(x+) - mean F(x-)) and friends.
	Update(ctx context.Context, req UpdateRequest) (UpdateResult, error)
}

// EnergyLink is what another stage can call on a linked energy stage.
type EnergyLink interface {
	// Energy returns F(x) per sample: a tensor of shape [n].
	Energy(ctx context.Context, x *Tensor) (*Tensor, error)
	// Grad returns F(x) (shape [n]) and dF/dx (the shape of x).
	Grad(ctx context.Context, x *Tensor) (f, dfdx *Tensor, err error)
}

// UpdateRequest is one learning step's input.
type UpdateRequest struct {
	Pos, Neg *Tensor
	// LR is the learning rate the core's schedule gives for this iteration.
	LR float64
	// T is the iteration number (1-based).
	T int
}

// UpdateResult is one learning step's outcome.
type UpdateResult struct {
	// DST is d_st in U units: (2/eps^2)(mean F(x+) - mean F(x-)).
	DST float64
	// MeanPos and MeanNeg are mean F over the positive and negative batch.
	MeanPos, MeanNeg float64
	// GradNorm is the L2 norm of the weight gradient.
	GradNorm float64
}

// Sampler is the contract of a sampler stage.
type Sampler interface {
	Base
	SamplerLink
}

// SamplerLink is what another stage can call on a linked sampler stage, for
// example a diagnostics stage drawing short-run samples to compare with a
// known density (with LeaveBank set, so the persistent bank is untouched).
type SamplerLink interface {
	Sample(ctx context.Context, req SampleRequest) (*SampleResult, error)
}

// SampleRequest asks for negative samples. Zero values mean "as configured".
type SampleRequest struct {
	// N is the number of chains (the batch size); 0 means the configured one.
	N int
	// Steps is the number of Langevin steps; 0 means the configured L.
	Steps int
	// Init overrides the configured initial state ("uniform", "gaussian",
	// "data", "persistent"); ignored when Start is set.
	Init string
	// Start, when set, is the initial state of the chains.
	Start *Tensor
	// LeaveBank asks a persistent sampler not to write the chains back.
	LeaveBank bool
	// Trace asks for per-step statistics.
	Trace bool
	// T is the training iteration (1-based), 0 outside training.
	T int
	// MALA asks for Metropolis-adjusted steps in this call even when the
	// stage is configured without them (long runs, `ebmflow sample -mala`).
	MALA bool
}

// SampleResult holds the samples and their statistics.
type SampleResult struct {
	X *Tensor
	// R is the mean drift magnitude r_t (see the sampler's documentation for
	// the convention).
	R float64
	// AcceptRate is the Metropolis acceptance rate, or -1 without MALA.
	AcceptRate float64
	// Trace holds per-step statistics when asked for.
	Trace []StepStat
}

// StepStat is the state of a chain batch after one step.
type StepStat struct {
	MeanEnergy float64 `json:"mean_energy"`
	DriftNorm  float64 `json:"drift_norm"`
}

// Data is the contract of a data stage.
type Data interface {
	Base
	DataLink
}

// DataLink is what another stage can call on a linked data stage.
type DataLink interface {
	// Describe returns the per-sample shape and the size of the data set.
	Describe(ctx context.Context) (DataInfo, error)
	// Next returns a batch of positives, with data noise applied. Each named
	// stream has its own random stream, so consumers do not disturb each
	// other's sequence; the training loop uses stream "positives".
	Next(ctx context.Context, req NextRequest) (*Tensor, error)
	// LogDensity returns the true log-density at x (shape [n]); data sets
	// without a known density return an error wrapping ErrUnsupported.
	LogDensity(ctx context.Context, x *Tensor) (*Tensor, error)
}

// DataInfo describes a data stage's samples.
type DataInfo struct {
	Shape []int `json:"shape"`
	// Size is the number of training examples, 0 for an unlimited source.
	Size int `json:"size"`
	// HasDensity is true when LogDensity is available.
	HasDensity bool `json:"has_density"`
	// Box is [lo, hi] of a 2-D toy set's plot box (per coordinate), if any.
	Box []float64 `json:"box,omitempty"`
}

// NextRequest asks for a batch of positives.
type NextRequest struct {
	N      int
	Stream string
	// Noise overrides the configured data noise sd when >= 0 and NoiseSet.
	Noise    float64
	NoiseSet bool
}

// Diagnoser is the contract of a diagnostics stage.
type Diagnoser interface {
	Base
	// Observe receives the records of one or more iterations, in order. It
	// may return metrics to add to the run's metrics and events to log.
	Observe(ctx context.Context, recs []Record) (*Observation, error)
	// Report writes the stage's report and figures into the run folder and
	// returns a summary. Final is true at the end of a run.
	Report(ctx context.Context, final bool) (*Report, error)
}

// Record is one training iteration as the core saw it.
type Record struct {
	T       int                `json:"t"`
	LR      float64            `json:"lr"`
	DST     float64            `json:"d_st"`
	R       float64            `json:"r_t"`
	MeanPos float64            `json:"mean_f_pos"`
	MeanNeg float64            `json:"mean_f_neg"`
	Extra   map[string]float64 `json:"extra,omitempty"`
}

// Observation is what Observe returns.
type Observation struct {
	Metrics map[string]float64
	Events  []Event
}

// Event is something a diagnostics stage wants logged.
type Event struct {
	T       int    `json:"t"`
	Level   string `json:"level"` // "info", "warn" or "error"
	Message string `json:"message"`
}

// Report is what Report returns.
type Report struct {
	// Summary is the report's numbers as JSON.
	Summary []byte
	// Files lists the files written, relative to the run folder.
	Files []string
}
