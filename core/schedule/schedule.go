package schedule

import (
	"fmt"
	"math"
)

// Schedule is the learning-rate schedule of one run. The zero value is not
// usable; build one with New.
type Schedule struct {
	cfg     Config
	t       int64
	base    float64 // b_t, the schedule's value without warm-up
	warmEnd float64 // b_{warmup+1}, where the warm-up ramp ends
	lr      float64 // lr_t
}

// State is what a checkpoint saves of a Schedule: the iteration t and lr_t.
type State struct {
	T  int64   `json:"t"`
	LR float64 `json:"lr"`
}

// maxRestore bounds the iteration Restore accepts, so that a corrupt
// checkpoint cannot make it replay for hours.
const maxRestore = 1 << 40

// New returns the schedule at t = 1.
func New(cfg Config) (*Schedule, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Kind == "" {
		cfg.Kind = "constant"
	}
	s := &Schedule{cfg: cfg}
	s.reset()
	return s, nil
}

// reset puts s at t = 1.
func (s *Schedule) reset() {
	if w := s.cfg.Warmup; w > 0 {
		// b_{w+1}, by the same arithmetic Step uses.
		s.t, s.base = 1, s.cfg.Initial
		for range w {
			s.t++
			s.base = s.next()
		}
		s.warmEnd = s.base
	}
	s.t, s.base = 1, s.cfg.Initial
	s.lr = s.effective()
}

// LR returns the learning rate of the current iteration, lr_t.
func (s *Schedule) LR() float64 { return s.lr }

// T returns the current iteration, starting at 1.
func (s *Schedule) T() int64 { return s.t }

// Config returns the configuration the schedule was built from.
func (s *Schedule) Config() Config { return s.cfg }

// Step moves to the next iteration.
func (s *Schedule) Step() {
	s.t++
	s.base = s.next()
	s.lr = s.effective()
}

// next returns b_t for the (already advanced) s.t, given b_{t-1} in s.base.
func (s *Schedule) next() float64 {
	c := &s.cfg
	switch c.Kind {
	case "exp":
		return math.Max(c.Min, s.base*c.Decay)
	case "linear":
		if s.t-1 >= int64(c.Iterations) {
			return c.Final
		}
		return c.Initial + (c.Final-c.Initial)*float64(s.t-1)/float64(c.Iterations)
	case "cosine":
		if s.t-1 >= int64(c.Iterations) {
			return c.Min
		}
		return c.Min + (c.Initial-c.Min)*(1+math.Cos(math.Pi*float64(s.t-1)/float64(c.Iterations)))/2
	case "step":
		if (s.t-1)%int64(c.StepSize) == 0 {
			return s.base * c.Gamma
		}
	}
	return s.base
}

// effective returns lr_t from b_t, applying the warm-up.
func (s *Schedule) effective() float64 {
	w := int64(s.cfg.Warmup)
	if s.t > w {
		return s.base
	}
	a := s.cfg.WarmupStart
	return a + (s.warmEnd-a)*float64(s.t-1)/float64(w)
}

// settled reports whether b_t and lr_t no longer change.
func (s *Schedule) settled() bool {
	c := &s.cfg
	if s.t <= int64(c.Warmup) {
		return false
	}
	switch c.Kind {
	case "exp":
		return math.Max(c.Min, s.base*c.Decay) == s.base
	case "linear", "cosine":
		return s.t-1 >= int64(c.Iterations)
	case "step":
		return s.base*c.Gamma == s.base
	}
	return true
}

// State returns the iteration and learning rate to save in a checkpoint.
func (s *Schedule) State() State { return State{T: s.t, LR: s.lr} }

// Restore moves s to the iteration of st by replaying the schedule from
// t = 1 (a few nanoseconds per iteration, and none once the rate stops
// changing), and fails unless the replayed lr_t equals st.LR bit for bit:
// a checkpoint written under a different schedule is refused. On error s is
// unchanged.
func (s *Schedule) Restore(st State) error {
	if st.T < 1 || st.T > maxRestore {
		return fmt.Errorf("schedule: restore: iteration t=%d out of range [1, %d]", st.T, int64(maxRestore))
	}
	r := &Schedule{cfg: s.cfg}
	r.reset()
	for r.t < st.T {
		if r.settled() {
			r.t = st.T
			break
		}
		r.Step()
	}
	if math.Float64bits(r.lr) != math.Float64bits(st.LR) {
		return fmt.Errorf("schedule: restore: the checkpoint has lr=%v at t=%d but this %q schedule gives %v there; was the schedule changed?", st.LR, st.T, s.cfg.Kind, r.lr)
	}
	*s = *r
	return nil
}
