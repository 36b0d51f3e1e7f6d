package schedule

import (
	"fmt"
	"math"
)

// Config describes a schedule. Attributes a kind does not use must be zero.
type Config struct {
	// Kind is "constant" (the default when empty), "exp", "linear", "cosine"
	// or "step".
	Kind string `json:"kind"`
	// LR is the initial learning rate, lr_1 (without warm-up); > 0.
	LR float64 `json:"lr"`
	// Min is the floor of "exp" and the final rate of "cosine"; in [0, lr],
	// default 0.
	Min float64 `json:"min,omitempty"`
	// Decay is the per-iteration factor of "exp"; in (0, 1].
	Decay float64 `json:"decay,omitempty"`
	// Final is the rate "linear" reaches at t = iterations+1; >= 0.
	Final float64 `json:"final,omitempty"`
	// Iterations is the length of the "linear" and "cosine" ramps; >= 1.
	Iterations int `json:"iterations,omitempty"`
	// StepSize is the number of iterations between the decays of "step"; >= 1.
	StepSize int `json:"step_size,omitempty"`
	// Gamma is the factor of "step"; in (0, 1].
	Gamma float64 `json:"gamma,omitempty"`
	// Warmup is the number of warm-up iterations; >= 0, default 0 (none).
	Warmup int `json:"warmup,omitempty"`
	// WarmupStart is lr_1 when Warmup > 0; >= 0, default 0.
	WarmupStart float64 `json:"warmup_start,omitempty"`
}

// Kinds lists the schedule kinds.
var Kinds = []string{"constant", "exp", "linear", "cosine", "step"}

// Validate checks the configuration; the error names the offending field.
func (c Config) Validate() error {
	kind := c.Kind
	if kind == "" {
		kind = "constant"
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("schedule %q: "+format, append([]any{kind}, args...)...)
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	uses := map[string]bool{}
	switch kind {
	case "constant":
	case "exp":
		uses["min"], uses["decay"] = true, true
	case "linear":
		uses["final"], uses["iterations"] = true, true
	case "cosine":
		uses["min"], uses["iterations"] = true, true
	case "step":
		uses["step_size"], uses["gamma"] = true, true
	default:
		return fmt.Errorf("schedule: unknown kind %q (want one of %v)", c.Kind, Kinds)
	}
	if !finite(c.LR) || c.LR <= 0 {
		return fail("lr must be > 0, got %v", c.LR)
	}
	set := map[string]bool{
		"min": c.Min != 0, "decay": c.Decay != 0, "final": c.Final != 0,
		"iterations": c.Iterations != 0, "step_size": c.StepSize != 0, "gamma": c.Gamma != 0,
	}
	for _, f := range []string{"min", "decay", "final", "iterations", "step_size", "gamma"} {
		if set[f] && !uses[f] {
			return fail("%s is not used by this kind", f)
		}
	}
	if uses["min"] && (!finite(c.Min) || c.Min < 0 || c.Min > c.LR) {
		return fail("min must be in [0, lr=%v], got %v", c.LR, c.Min)
	}
	if uses["decay"] && !(c.Decay > 0 && c.Decay <= 1) {
		return fail("decay must be in (0, 1], got %v", c.Decay)
	}
	if uses["final"] && (!finite(c.Final) || c.Final < 0) {
		return fail("final must be >= 0, got %v", c.Final)
	}
	if uses["iterations"] && c.Iterations < 1 {
		return fail("iterations must be >= 1, got %d", c.Iterations)
	}
	if uses["step_size"] && c.StepSize < 1 {
		return fail("step_size must be >= 1, got %d", c.StepSize)
	}
	if uses["gamma"] && !(c.Gamma > 0 && c.Gamma <= 1) {
		return fail("gamma must be in (0, 1], got %v", c.Gamma)
	}
	if c.Warmup < 0 {
		return fail("warmup must be >= 0, got %d", c.Warmup)
	}
	if !finite(c.WarmupStart) || c.WarmupStart < 0 {
		return fail("warmup_start must be >= 0, got %v", c.WarmupStart)
	}
	if c.WarmupStart != 0 && c.Warmup == 0 {
		return fail("warmup_start needs warmup > 0")
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
