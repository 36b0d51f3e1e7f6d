package schedule

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Config describes a schedule. It is the pipeline's schedule "lr" block,
// decoded straight from HCL (the hcl tags) and recorded in run manifests
// (the json tags) under the same names. Attributes a kind does not use must
// be zero.
type Config struct {
	// Kind is the block's type: one of Kinds ("constant" when empty).
	Kind string `json:"type" hcl:"type"`
	// Initial is the initial learning rate, lr_1 (without warm-up); > 0.
	Initial float64 `json:"initial" hcl:"initial"`
	// Min is the floor of "exp" and the final rate of "cosine"; in
	// [0, initial], default 0.
	Min float64 `json:"min,omitempty" hcl:"min,optional"`
	// Decay is the per-iteration factor of "exp"; in (0, 1].
	Decay float64 `json:"decay,omitempty" hcl:"decay,optional"`
	// Final is the rate "linear" reaches at t = iterations+1; >= 0.
	Final float64 `json:"final,omitempty" hcl:"final,optional"`
	// Iterations is the length of the "linear" and "cosine" ramps; >= 1.
	Iterations int `json:"iterations,omitempty" hcl:"iterations,optional"`
	// StepSize is the number of iterations between the decays of "step"; >= 1.
	StepSize int `json:"step_size,omitempty" hcl:"step_size,optional"`
	// Gamma is the factor of "step"; in (0, 1].
	Gamma float64 `json:"gamma,omitempty" hcl:"gamma,optional"`
	// Warmup is the number of warm-up iterations; >= 0, default 0 (none).
	Warmup int `json:"warmup,omitempty" hcl:"warmup,optional"`
	// WarmupStart is lr_1 when Warmup > 0; >= 0, default 0.
	WarmupStart float64 `json:"warmup_start,omitempty" hcl:"warmup_start,optional"`
}

// kinds lists every schedule kind with the attributes it uses besides
// initial and the warm-up. A new kind is added here, in Schedule.next and
// Schedule.settled, and in the package comment.
var kinds = []struct {
	name string
	uses []string
}{
	{"constant", nil},
	{"exp", []string{"min", "decay"}},
	{"linear", []string{"final", "iterations"}},
	{"cosine", []string{"min", "iterations"}},
	{"step", []string{"step_size", "gamma"}},
}

// Kinds lists the schedule kinds, in the order messages give them.
var Kinds = func() []string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = k.name
	}
	return names
}()

// Error is an invalid Config: Field names the attribute at fault, as the
// schedule block spells it.
type Error struct {
	Kind, Field, Problem string
}

func (e *Error) Error() string {
	if e.Field == "type" {
		return fmt.Sprintf("schedule: %s", e.Problem)
	}
	return fmt.Sprintf("schedule %q: %s %s", e.Kind, e.Field, e.Problem)
}

// Validate checks the configuration; the error is an *Error naming the
// offending field.
func (c Config) Validate() error {
	kind := c.Kind
	if kind == "" {
		kind = "constant"
	}
	fail := func(field, format string, args ...any) error {
		return &Error{Kind: kind, Field: field, Problem: fmt.Sprintf(format, args...)}
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	i := slices.Index(Kinds, kind)
	if i < 0 {
		return fail("type", "unknown type %q (want one of %s)", c.Kind, strings.Join(Kinds, ", "))
	}
	uses := map[string]bool{}
	for _, f := range kinds[i].uses {
		uses[f] = true
	}
	if !finite(c.Initial) || c.Initial <= 0 {
		return fail("initial", "must be > 0, got %v", c.Initial)
	}
	set := map[string]bool{
		"min": c.Min != 0, "decay": c.Decay != 0, "final": c.Final != 0,
		"iterations": c.Iterations != 0, "step_size": c.StepSize != 0, "gamma": c.Gamma != 0,
	}
	for _, f := range []string{"min", "decay", "final", "iterations", "step_size", "gamma"} {
		if set[f] && !uses[f] {
			return fail(f, "is not used by this type")
		}
	}
	if uses["min"] && (!finite(c.Min) || c.Min < 0 || c.Min > c.Initial) {
		return fail("min", "must be in [0, initial=%v], got %v", c.Initial, c.Min)
	}
	if uses["decay"] && !(c.Decay > 0 && c.Decay <= 1) {
		return fail("decay", "must be in (0, 1], got %v", c.Decay)
	}
	if uses["final"] && (!finite(c.Final) || c.Final < 0) {
		return fail("final", "must be >= 0, got %v", c.Final)
	}
	if uses["iterations"] && c.Iterations < 1 {
		return fail("iterations", "must be >= 1, got %d", c.Iterations)
	}
	if uses["step_size"] && c.StepSize < 1 {
		return fail("step_size", "must be >= 1, got %d", c.StepSize)
	}
	if uses["gamma"] && !(c.Gamma > 0 && c.Gamma <= 1) {
		return fail("gamma", "must be in (0, 1], got %v", c.Gamma)
	}
	if c.Warmup < 0 {
		return fail("warmup", "must be >= 0, got %d", c.Warmup)
	}
	if !finite(c.WarmupStart) || c.WarmupStart < 0 {
		return fail("warmup_start", "must be >= 0, got %v", c.WarmupStart)
	}
	if c.WarmupStart != 0 && c.Warmup == 0 {
		return fail("warmup_start", "needs warmup > 0")
	}
	return nil
}

// SolveDecay returns the "exp" decay that takes the rate from initial to
// final in the given number of updates: decay = (final/initial)^(1/updates),
// so that lr_{updates+1} = final up to float rounding. Appendix B's 0.05 to
// 0.0005 over 100,000 updates gives 0.99995394935850...
func SolveDecay(initial, final float64, updates int) (float64, error) {
	switch {
	case !(initial > 0) || math.IsInf(initial, 0):
		return 0, fmt.Errorf("schedule: initial must be > 0, got %v", initial)
	case !(final > 0 && final <= initial):
		return 0, fmt.Errorf("schedule: final must be in (0, initial=%v], got %v", initial, final)
	case updates < 1:
		return 0, fmt.Errorf("schedule: updates must be >= 1, got %d", updates)
	}
	return math.Pow(final/initial, 1/float64(updates)), nil
}
