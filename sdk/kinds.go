package sdk

import (
	"context"
	"maps"
	"slices"
)

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
	//
	// Here and in Grad, x belongs to the caller and is valid only until
	// the call returns: an energy that keeps it must copy it. (Through a
	// channel, x lives in storage reused by the next call.)
	Energy(ctx context.Context, x *Tensor) (*Tensor, error)
	// Grad returns F(x) (shape [n]) and dF/dx (the shape of x), new
	// tensors the caller may keep.
	Grad(ctx context.Context, x *Tensor) (f, dfdx *Tensor, err error)
}

// GradIntoer is an EnergyLink that can write Grad's answer into storage
// the caller offers, sparing two allocations (and, through a channel, a
// copy) per call. The links the SDK gives a stage have it, and an energy
// plugin may implement it: its server then offers storage it reuses from
// call to call. Call it through GradInto, which works with any link.
type GradIntoer interface {
	// GradInto is Grad with storage offered: f and dfdx are the caller's
	// tensors, of shape [n] and of x's shape, both in x's dtype. It
	// returns the tensors holding F(x) and dF/dx: f and dfdx themselves,
	// written over, or new tensors where it could not use them (an answer
	// of another shape, from a faulty energy, or one that arrived in other
	// storage), which the caller checks as it checks Grad's. The energy
	// must not keep f or dfdx after it returns. A type that embeds an
	// energy and overrides its Grad must override GradInto too.
	GradInto(ctx context.Context, x, f, dfdx *Tensor) (*Tensor, *Tensor, error)
}

// GradInto calls e's GradInto when it has one, else its Grad (whose answer
// it returns as it is). f and dfdx may be nil, and are then allocated.
func GradInto(ctx context.Context, e EnergyLink, x, f, dfdx *Tensor) (*Tensor, *Tensor, error) {
	gi, ok := e.(GradIntoer)
	if !ok {
		return e.Grad(ctx, x)
	}
	if f == nil {
		f = NewTensor(x.DType, x.Batch())
	}
	if dfdx == nil {
		dfdx = NewTensor(x.DType, x.Shape...)
	}
	return gi.GradInto(ctx, x, f, dfdx)
}

// Reuse returns t when it is a valid tensor of dtype dt and the given
// shape, else a new one that is: for a GradInto implementation, the storage
// it was offered when that fits.
func Reuse(t *Tensor, dt DType, shape ...int) *Tensor {
	if t != nil && t.DType == dt && slices.Equal(t.Shape, shape) && t.Validate() == nil {
		return t
	}
	return NewTensor(dt, shape...)
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
	// Stream names the calling consumer. Empty is the training loop; any
	// other name gets its own random stream (derived from the sampler's seed
	// and the name, kept in its state), so a consumer's draws never change
	// the training loop's. A named consumer never writes to a persistent
	// bank, whatever LeaveBank says. Linked stages use "diag:STAGE" and the
	// like, as data links do with NextRequest.Stream.
	Stream string
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
	// without a known density return an error wrapping ErrUnsupported. x
	// is valid only until the call returns, as in EnergyLink.Energy.
	LogDensity(ctx context.Context, x *Tensor) (*Tensor, error)
}

// DataInfo describes a data stage's samples.
type DataInfo struct {
	Shape []int `json:"shape"`
	// Size is the number of training examples, 0 for an unlimited source.
	Size int `json:"size"`
	// HasDensity is true when LogDensity is available.
	HasDensity bool `json:"has_density"`
	// Box is the plot box of a low-dimensional set, one [lo, hi] per
	// coordinate of Shape (a 2-D toy set: x then y), if any.
	Box [][2]float64 `json:"box,omitempty"`
}

// NextRequest asks for a batch of positives.
type NextRequest struct {
	N      int
	Stream string
	// Noise, when NoiseSet and Noise >= 0, replaces the stage's configured
	// data-noise sd for this request only. The diagnostics stage asks for
	// exact samples this way (NoiseSet, Noise 0) to measure the noise floor
	// of its total-variation estimate; the training loop never sets it. A
	// data plugin must honour it (sdk/plugintest checks that such draws
	// have the declared shape and are deterministic like the others).
	Noise    float64
	NoiseSet bool
	// Split "" asks for the stage's training data. SplitTest asks for
	// held-out examples, never trained on, preprocessed like the training
	// data: a fixed set, so the answer depends only on the stage's seed,
	// Stream and N (the same request gives the same examples, and a larger
	// N extends a smaller one's; the draw advances no stream and is not
	// part of the saved state). Diagnostics compare samples with them. A
	// data plugin without held-out data returns an error wrapping
	// ErrUnsupported.
	Split string
}

// SplitTest is NextRequest.Split for held-out examples.
const SplitTest = "test"

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

// Record is one training iteration as the core saw it: the line of
// metrics.jsonl and what every diagnostics stage's Observe receives.
type Record struct {
	// T is the iteration (1-based) and LR its learning rate.
	T  int     `json:"t"`
	LR float64 `json:"lr"`
	// DST, MeanPos, MeanNeg and GradNorm come from the energy's Update, R
	// from the sampler (see UpdateResult and SampleResult).
	DST      float64 `json:"d_st"`
	R        float64 `json:"r_t"`
	MeanPos  float64 `json:"mean_f_pos"`
	MeanNeg  float64 `json:"mean_f_neg"`
	GradNorm float64 `json:"grad_norm"`
	// Wall is the run's wall time in seconds when the iteration ended
	// (before the diagnostics observed it).
	Wall float64 `json:"wall_seconds"`
	// Extra holds the diagnostics stages' metrics, "STAGE.NAME". A
	// diagnostics stage sees those of the stages listed before it.
	Extra map[string]float64 `json:"extra,omitempty"`
	// Pos and Neg are the iteration's positives and negatives. They are
	// sent only to a diagnostics stage that asked for them at Configure
	// (Config.ObserveTensors) and are never written to metrics.jsonl.
	Pos *Tensor `json:"-"`
	Neg *Tensor `json:"-"`
}

// TrainingFields returns the fields that training produces (everything but
// the wall time and the diagnostics' extra metrics), in a fixed order: the
// ones that must not depend on which diagnostics observe the run.
func (r Record) TrainingFields() []Field {
	return []Field{{"t", float64(r.T)}, {"lr", r.LR}, {"d_st", r.DST}, {"r_t", r.R}, {"mean_f_pos", r.MeanPos}, {"mean_f_neg", r.MeanNeg}, {"grad_norm", r.GradNorm}}
}

// Fields returns the record's named values other than T and the wall time,
// in a fixed order (extra metrics sorted by name), for comparisons.
func (r Record) Fields() []Field {
	out := r.TrainingFields()[1:]
	keys := slices.Sorted(maps.Keys(r.Extra))
	for _, k := range keys {
		out = append(out, Field{"extra." + k, r.Extra[k]})
	}
	return out
}

// Field is a named value of a Record.
type Field struct {
	Name  string
	Value float64
}

// Observation is what Observe returns.
type Observation struct {
	Metrics map[string]float64
	Events  []Event
}

// Event is something a diagnostics stage wants logged. The host logs it at
// its level with the stage's name and appends it to events.jsonl in the run
// folder.
type Event struct {
	T       int    `json:"t"`
	Level   string `json:"level"` // "info", "warn" or "error"
	Message string `json:"message"`
}

// Report is what Report returns.
type Report struct {
	// Summary is the report's numbers as a JSON object. The host writes it
	// into summary.json in the run folder, under the stage's name; by
	// convention a top-level "verdict" string (for example the oscillation
	// class) and a "metrics" object of numbers are read by sweeps.
	Summary []byte
	// Files lists the files written, relative to the run folder.
	Files []string
}
