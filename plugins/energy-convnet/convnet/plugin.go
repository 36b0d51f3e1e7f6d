package convnet

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ebmflow/ebmflow/sdk"
)

// Version is the plugin's version.
const Version = "0.1.0"

// maxGraphs bounds the number of compiled graphs kept; the least recently
// used one is dropped beyond it.
const maxGraphs = 8

// errNotConfigured is returned by methods called before Configure succeeded.
var errNotConfigured = errors.New("energy-convnet: not configured")

// Plugin is the energy-convnet energy stage. Its zero value is not usable; get
// one from New. All methods are safe for concurrent use: one mutex serialises
// them (the graphs and their buffers are shared state), except that the
// dedicated paths' Energy and Grad share a read lock (the toy net's calls
// each take their own workspace and run concurrently; the nonlocal net
// serialises its calls with a lock of its own).
type Plugin struct {
	mu sync.RWMutex

	set    settings
	arch   arch
	dt     sdk.DType
	params []param
	opt    *adam // nil for SGD
	init   *sdk.Stream

	graphs map[graphKey]*compiled
	lru    []graphKey // least recently used first
	work   *opBuffers // the kernels' packing buffers, shared by all graphs
	// direct is the dedicated path of the toy or nonlocal net (nil for the
	// vanilla net), which Energy, Grad and Update use instead of the graphs.
	direct directNet
}

// New returns an unconfigured plugin.
func New() *Plugin { return &Plugin{} }

// Info describes the plugin.
func (p *Plugin) Info() sdk.Info {
	return sdk.Info{
		Name:        "energy-convnet",
		Kind:        sdk.KindEnergy,
		Version:     Version,
		Description: "ConvNets (VanillaNet, NonlocalNet) and 2-D MLP energies F(x; theta) on gorgonia, with SGD or Adam updates",
	}
}

// Schema returns the stage block's attributes.
func (p *Plugin) Schema() sdk.Schema { return schema }

// Configure validates the block, builds the net and draws its initial weights
// from the stream "init" of cfg.Seed. It declares the input shape
// {"input": [channels, image_size, image_size]} (or [2] for the toy net).
func (p *Plugin) Configure(ctx context.Context, cfg *sdk.Config) (sdk.Shapes, sdk.Problems) {
	s, diags := parseSettings(cfg)
	if diags.HasErrors() {
		return nil, diags
	}
	a, err := s.arch()
	if err != nil {
		diags.Errorf(nil, "invalid network", "%v", err)
		return nil, diags
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.set, p.arch, p.dt = s, a, s.dtype()
	p.params = newParams(a, gorgoniaDType(p.dt))
	p.init = sdk.NewStream(cfg.Seed, "init")
	initParams(p.params, a, p.init)
	p.opt = nil
	if s.Optimizer == "adam" {
		p.opt = newAdam(p.params, s.Beta1, s.Beta2, s.AdamEps)
	}
	p.graphs = map[graphKey]*compiled{}
	p.lru = nil
	p.work = &opBuffers{wgen: 1}
	p.direct = nil
	switch s.Net {
	case "toy":
		p.direct = newToyNet(a, p.params, s.Slope, p.dt)
	case "nonlocal":
		p.direct = newNonlocal(a, p.params, s.Slope, p.dt)
	}
	if p.direct != nil {
		p.direct.pack()
	}
	return sdk.Shapes{"input": append([]int(nil), a.Input...)}, diags
}

// weightsChanged tells the ops that the parameters' values changed, so
// that filters they keep packed are packed again, and repacks the dedicated
// path's weights. Everything that writes p.params outside Configure must call it
// (with p.mu held for writing).
func (p *Plugin) weightsChanged() {
	p.work.wgen++
	if p.direct != nil {
		p.direct.pack()
	}
}

// NumParams returns the number of learnable values (0 before Configure).
func (p *Plugin) NumParams() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.params == nil {
		return 0
	}
	return p.arch.numParams()
}

// graph returns the compiled graph for the key, compiling it on first use.
// The caller holds p.mu.
func (p *Plugin) graph(k graphKey) (*compiled, error) {
	if c, ok := p.graphs[k]; ok {
		p.touch(k)
		return c, nil
	}
	c, err := compile(k.kind, k.n, p.arch, p.params, p.set.Slope, gorgoniaDType(p.dt), p.work)
	if err != nil {
		return nil, err
	}
	if len(p.lru) >= maxGraphs {
		delete(p.graphs, p.lru[0])
		p.lru = p.lru[1:]
	}
	p.graphs[k] = c
	p.lru = append(p.lru, k)
	return c, nil
}

// touch moves k to the most recently used end.
func (p *Plugin) touch(k graphKey) {
	for i, q := range p.lru {
		if q == k {
			copy(p.lru[i:], p.lru[i+1:])
			p.lru[len(p.lru)-1] = k
			return
		}
	}
}

// checkInput validates a batch against the configured dtype and input shape.
func (p *Plugin) checkInput(op, name string, x *sdk.Tensor) error {
	want := append([]int{-1}, p.arch.Input...)
	if err := x.Expect(p.dt, want...); err != nil {
		return fmt.Errorf("%s: %s: %w", op, name, err)
	}
	if x.Batch() < 1 {
		return fmt.Errorf("%s: %s: %w: empty batch %s", op, name, sdk.ErrShape, sdk.FormatShape(x.Shape))
	}
	if err := x.CheckFinite(); err != nil {
		return fmt.Errorf("%s: %s: %w", op, name, err)
	}
	return nil
}

var _ sdk.Energy = (*Plugin)(nil)
