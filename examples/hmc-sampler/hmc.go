package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/ebmflow/ebmflow/sdk"
)

// Version is the plugin's version.
const Version = "0.1.0"

// Plugin is a Hamiltonian Monte Carlo sampler of p(x) ∝ exp(-U(x)) with
// U(x) = F(x)/T, F the linked energy and T the temperature. Each transition
// draws momenta p ~ N(0, I), takes L leapfrog steps of size h,
//
//	p ← p - (h/2)∇U(x);  x ← x + h p;  p ← p - (h/2)∇U(x)
//
// and accepts the end point per chain with probability min(1, exp(H - H')),
// H = U(x) + |p|²/2. Chains start from N(0, init_scale²) noise or from a
// given state. r_t is the mean over transitions of the batch-mean L2 norm of
// dF/dx at the state before each transition, as the Langevin sampler
// reports it.
type Plugin struct {
	mu sync.Mutex
	// configuration
	energy          sdk.EnergyLink
	shape           []int
	batch, steps, l int
	h, temp, scale  float64
	// state
	seed    uint64
	rng     *sdk.Stream            // the training loop's stream
	streams map[string]*sdk.Stream // other consumers' streams (SampleRequest.Stream)
}

// stream returns the random stream of the calling consumer: a diagnostics
// stage sampling through a link draws from its own, so it never changes
// what the training loop gets.
func (s *Plugin) stream(name string) *sdk.Stream {
	if name == "" {
		return s.rng
	}
	r, ok := s.streams[name]
	if !ok {
		r = sdk.NewStream(s.seed, "hmc:"+name)
		s.streams[name] = r
	}
	return r
}

// New returns an unconfigured sampler.
func New() *Plugin { return &Plugin{} }

// Info names the plugin.
func (s *Plugin) Info() sdk.Info {
	return sdk.Info{Name: "hmc-sampler", Kind: sdk.KindSampler, Version: Version,
		Description: "Hamiltonian Monte Carlo sampler of exp(-F/temperature) (an out-of-tree example plugin)"}
}

// Schema lists the stage block's attributes.
func (s *Plugin) Schema() sdk.Schema {
	return sdk.Schema{Attributes: []sdk.Attribute{
		{Name: "energy", Type: sdk.StageRef(sdk.KindEnergy), Required: true,
			Doc: "energy stage F; its declared \"input\" shape is the sample shape"},
		{Name: "steps", Type: sdk.TypeInt, Default: 10.0, Bounds: sdk.AtLeast(1).AtMost(1e6), Doc: "HMC transitions per Sample call (default 10)"},
		{Name: "leapfrog", Type: sdk.TypeInt, Default: 5.0, Bounds: sdk.AtLeast(1).AtMost(1e4), Doc: "leapfrog steps L per transition (default 5)"},
		{Name: "step_size", Type: sdk.TypeNumber, Default: 0.1, Bounds: sdk.Above(0).AtMost(100), Doc: "leapfrog step size h, in units of x (default 0.1)"},
		{Name: "temperature", Type: sdk.TypeNumber, Default: 1.0,
			Bounds: sdk.Above(0).AtMost(1e6), Doc: "temperature T of the target exp(-F/T); T = eps^2/2 matches a Langevin sampler of noise eps (default 1)"},
		{Name: "batch", Type: sdk.TypeInt, Default: 100.0, Bounds: sdk.AtLeast(1).AtMost(1e6), Doc: "chains per Sample call when the request gives none (default 100)"},
		{Name: "init_scale", Type: sdk.TypeNumber, Default: 1.0, Bounds: sdk.Above(0).AtMost(1e6), Doc: "sd of the Gaussian initial state, in units of x (default 1)"},
	}}
}

// Configure checks the block, links the energy and seeds the random stream.
func (s *Plugin) Configure(ctx context.Context, cfg *sdk.Config) (sdk.Shapes, sdk.Problems) {
	var diags sdk.Problems
	s.mu.Lock()
	defer s.mu.Unlock()
	s.steps, s.l, s.batch = cfg.Int("steps"), cfg.Int("leapfrog"), cfg.Int("batch")
	s.h, s.temp, s.scale = cfg.Float("step_size"), cfg.Float("temperature"), cfg.Float("init_scale")
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{"steps", s.steps >= 1}, {"leapfrog", s.l >= 1}, {"batch", s.batch >= 1},
		{"step_size", s.h > 0 && !math.IsInf(s.h, 0)}, {"temperature", s.temp > 0 && !math.IsInf(s.temp, 0)},
		{"init_scale", s.scale > 0 && !math.IsInf(s.scale, 0)},
	} {
		if !c.ok {
			diags.Errorf([]string{c.name}, "Invalid "+c.name, "%s must be positive, got %s", c.name, cfg.Values[c.name])
		}
	}
	var err error
	if s.energy, err = cfg.Energy("energy"); err != nil {
		diags.Errorf([]string{"energy"}, "No energy stage", "%v", err)
	}
	s.shape = cfg.Upstream["energy"]["input"]
	if len(s.shape) == 0 {
		diags.Errorf([]string{"energy"}, "Unknown sample shape", "the energy stage declares no \"input\" shape")
	}
	// dF/dx once per chain at the start, then once per leapfrog step.
	cfg.DeclareCost(sdk.Cost{GradsPerRow: 1 + s.steps*s.l})
	s.seed = cfg.Seed
	s.rng = sdk.NewStream(cfg.Seed, "hmc")
	s.streams = map[string]*sdk.Stream{}
	return sdk.Shapes{"sample": s.shape}, diags
}

// Sample runs req.Steps (or the configured number of) transitions.
func (s *Plugin) Sample(ctx context.Context, req sdk.SampleRequest) (*sdk.SampleResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rng == nil {
		return nil, errors.New("hmc-sampler: not configured")
	}
	n, steps := req.N, req.Steps
	if n == 0 {
		n = s.batch
	}
	if steps == 0 {
		steps = s.steps
	}
	if n < 0 || steps < 0 {
		return nil, fmt.Errorf("hmc-sampler: %d chains and %d steps: both must be positive", n, steps)
	}
	rng := s.stream(req.Stream)
	var x []float64
	switch {
	case req.Start != nil:
		if err := req.Start.Expect(sdk.Float32, append([]int{-1}, s.shape...)...); err != nil {
			return nil, fmt.Errorf("hmc-sampler: start: %w", err)
		}
		if err := req.Start.CheckFinite(); err != nil {
			return nil, fmt.Errorf("hmc-sampler: start: %w", err)
		}
		n = req.Start.Batch()
		x = make([]float64, req.Start.Len())
		for i := range x {
			x[i] = req.Start.At(i)
		}
	case req.Init == "" || req.Init == "gaussian":
		x = make([]float64, n*sdk.NumElements(s.shape))
		for i := range x {
			x[i] = s.scale * rng.NormFloat64()
		}
	default:
		return nil, fmt.Errorf("hmc-sampler: init %q: only \"gaussian\" or a start state: %w", req.Init, sdk.ErrUnsupported)
	}
	c := chains{s: s, rng: rng, n: n, x: x}
	r, acc, err := c.run(ctx, steps)
	if err != nil {
		return nil, err
	}
	sdk.Logger().Debug().Int("chains", n).Int("steps", steps).Float64("accept", acc).Msg("hmc sample")
	return &sdk.SampleResult{X: c.tensor(c.x), R: r, AcceptRate: acc}, nil
}

type hmcState struct {
	RNG     []byte            `json:"rng"`
	Streams map[string][]byte `json:"streams,omitempty"`
}

// SaveState saves the random streams: the chains start afresh in every call.
func (s *Plugin) SaveState(ctx context.Context) (*sdk.State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rng == nil {
		return nil, errors.New("hmc-sampler: not configured")
	}
	b, err := s.rng.MarshalBinary()
	if err != nil {
		return nil, err
	}
	hs := hmcState{RNG: b, Streams: map[string][]byte{}}
	for name, r := range s.streams {
		if hs.Streams[name], err = r.MarshalBinary(); err != nil {
			return nil, err
		}
	}
	meta, err := json.Marshal(hs)
	return &sdk.State{Meta: meta}, err
}

// LoadState restores a state from SaveState.
func (s *Plugin) LoadState(ctx context.Context, st *sdk.State) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var hs hmcState
	if err := json.Unmarshal(st.Meta, &hs); err != nil {
		return fmt.Errorf("hmc-sampler: state: %w", err)
	}
	if s.rng == nil {
		return errors.New("hmc-sampler: not configured")
	}
	if err := s.rng.UnmarshalBinary(hs.RNG); err != nil {
		return fmt.Errorf("hmc-sampler: state: random stream: %w", err)
	}
	s.streams = map[string]*sdk.Stream{}
	for name, b := range hs.Streams {
		r := sdk.NewStream(s.seed, "hmc:"+name)
		if err := r.UnmarshalBinary(b); err != nil {
			return fmt.Errorf("hmc-sampler: state: stream %q: %w", name, err)
		}
		s.streams[name] = r
	}
	return nil
}

var _ sdk.Sampler = (*Plugin)(nil)
