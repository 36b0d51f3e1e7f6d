package langevin

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ebmflow/ebmflow/sdk"
)

// Plugin is the Langevin sampler stage. It implements sdk.Sampler. Its
// methods are safe for concurrent use; Sample calls are serialised.
type Plugin struct {
	mu         sync.Mutex
	configured bool
	p          params
	stage      string
	energy     sdk.EnergyLink
	data       sdk.DataLink
	seed       uint64
	rng        *sdk.Stream            // the training loop's stream ("langevin")
	streams    map[string]*sdk.Stream // named consumers' streams
	bank       *sdk.Tensor            // [bank_size, shape...], nil until first persistent draw
	perm       []int                  // scratch for drawing bank indices
	lastIdx    []int                  // bank indices of the last persistent batch
	stats      Stats
	ws32       workspace[float32]
	ws64       workspace[float64]
}

// Stats counts what the sampler has done since it was configured (or since
// the state it was loaded from was saved).
type Stats struct {
	// Calls is the number of completed Sample calls.
	Calls int64 `json:"calls"`
	// Steps is the number of Langevin steps taken, summed over calls.
	Steps int64 `json:"steps"`
	// Draws is the number of persistent chains drawn from the bank.
	Draws int64 `json:"draws"`
	// Reinits is how many of those draws were re-initialised from noise.
	Reinits int64 `json:"reinits"`
}

// New returns an unconfigured sampler.
func New() *Plugin { return &Plugin{} }

// Stats returns the sampler's counters.
func (s *Plugin) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Sample runs the chains and returns the final states, r_t (see the package
// documentation for the convention) and, with MALA, the acceptance rate. The
// request's N, Steps, Init and Start override the configured values, and its
// MALA turns Metropolis adjustment on for this call.
func (s *Plugin) Sample(ctx context.Context, req sdk.SampleRequest) (*sdk.SampleResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.configured {
		return nil, errors.New("sample: sampler not configured")
	}
	n, steps, init, err := s.resolve(req)
	if err != nil {
		return nil, fmt.Errorf("sample: %w", err)
	}
	rng := s.stream(req.Stream)
	x, idx, reinits, err := s.initial(ctx, rng, req.Stream, n, init, req.Start)
	if err != nil {
		return nil, fmt.Errorf("sample: init %q: %w", init, err)
	}
	c := &chainRun{
		link:  s.energy,
		rng:   rng,
		eps:   s.p.Eps,
		steps: steps,
		shape: x.Shape,
	}
	res := &sdk.SampleResult{X: x, AcceptRate: -1}
	if req.Trace {
		res.Trace = make([]sdk.StepStat, steps)
		c.trace = res.Trace
	}
	mala := s.p.MALA || req.MALA
	var out outcome
	switch {
	case x.DType == sdk.Float32 && mala:
		out, err = runMALA(ctx, c, x, x.F32, &s.ws32)
	case x.DType == sdk.Float32:
		out, err = runULA(ctx, c, x, x.F32)
	case mala:
		out, err = runMALA(ctx, c, x, x.F64, &s.ws64)
	default:
		out, err = runULA(ctx, c, x, x.F64)
	}
	if err != nil {
		return nil, fmt.Errorf("sample: %w", err)
	}
	res.R = out.r
	if mala {
		res.AcceptRate = float64(out.accepted) / float64(out.proposed)
	}
	if idx != nil && req.Stream == "" {
		if !req.LeaveBank {
			s.writeBack(x, idx)
		}
		s.lastIdx = idx
		s.stats.Draws += int64(len(idx))
		s.stats.Reinits += int64(reinits)
	}
	s.stats.Calls++
	s.stats.Steps += int64(steps)
	return res, nil
}

// stream returns the random stream of the named consumer ("" is the
// training loop), creating it on first use from the stage seed and the name.
func (s *Plugin) stream(name string) *sdk.Stream {
	if name == "" {
		return s.rng
	}
	r, ok := s.streams[name]
	if !ok {
		r = sdk.NewStream(s.seed, "langevin:"+name)
		s.streams[name] = r
	}
	return r
}

// resolve applies the request's overrides to the configured batch size,
// number of steps and initial state.
func (s *Plugin) resolve(req sdk.SampleRequest) (n, steps int, init string, err error) {
	n, steps, init = s.p.Batch, s.p.Steps, s.p.Init
	if req.N < 0 {
		return 0, 0, "", fmt.Errorf("invalid N %d", req.N)
	}
	if req.N > 0 {
		n = req.N
	}
	if req.Steps < 0 {
		return 0, 0, "", fmt.Errorf("invalid Steps %d", req.Steps)
	}
	if req.Steps > 0 {
		steps = req.Steps
	}
	if req.Start != nil {
		if err := req.Start.Validate(); err != nil {
			return 0, 0, "", fmt.Errorf("start: %w", err)
		}
		if req.N > 0 && req.Start.Batch() != req.N {
			return 0, 0, "", fmt.Errorf("start holds %d chains but N is %d", req.Start.Batch(), req.N)
		}
		return req.Start.Batch(), steps, "start", nil
	}
	if req.Init != "" {
		init = req.Init
	}
	if !validInit(init) {
		return 0, 0, "", fmt.Errorf("invalid init %q (want uniform, gaussian, data or persistent)", init)
	}
	if init == InitData && s.data == nil {
		return 0, 0, "", errors.New(`init "data" needs a linked data stage`)
	}
	if init == InitPersistent && n > s.p.BankSize {
		return 0, 0, "", fmt.Errorf("%d chains requested from a bank of %d (drawn without replacement)", n, s.p.BankSize)
	}
	return n, steps, init, nil
}

var _ sdk.Sampler = (*Plugin)(nil)
