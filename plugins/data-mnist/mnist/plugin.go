package mnist

import (
	"context"
	"fmt"
	"sync"

	"github.com/ebmflow/ebmflow/plugins/data-mnist/toy"
	"github.com/ebmflow/ebmflow/sdk"
)

// Plugin is the data-mnist stage: MNIST positives with data noise, or exact
// samples of a 2-D toy set. Its methods may be called concurrently.
type Plugin struct {
	mu      sync.Mutex
	p       params
	seed    uint64
	ready   bool
	data    *images       // MNIST only
	prep    *preprocessor // MNIST only
	src     *source       // MNIST only: where the files are
	test    *images       // the held-out split, loaded on first use
	set     toy.Set       // toy sets only
	streams map[string]*stream
	scratch []float64
}

// New returns an unconfigured plugin.
func New() *Plugin { return &Plugin{} }

// Configure validates the stage block and loads the data set: for MNIST it
// finds, verifies (SHA-256) and parses the split's files, so that every
// problem with them surfaces here, naming the file. It declares the shape
// "sample": [1, S, S] for MNIST, [2] for a toy set.
func (p *Plugin) Configure(ctx context.Context, cfg *sdk.Config) (sdk.Shapes, sdk.Problems) {
	prm, diags := decodeParams(p.Schema(), cfg)
	if diags.HasErrors() {
		return nil, diags
	}
	var (
		data *images
		set  toy.Set
		prep *preprocessor
		src  *source
	)
	if prm.toy() {
		set, _ = toy.New(prm.Dataset)
	} else {
		src = &source{Dir: prm.Dir, CacheDir: prm.CacheDir}
		if src.Dir == "" && src.CacheDir == "" {
			d, err := DefaultCacheDir()
			if err != nil {
				diags.Errorf([]string{"cache_dir"}, "no cache folder", "%v", err)
				return nil, diags
			}
			src.CacheDir = d
		}
		var err error
		data, err = loadSplit(ctx, src, prm.Split, prm.Digits, prm.Subset)
		if err != nil {
			path := []string{"cache_dir"}
			if prm.Dir != "" {
				path = []string{"dir"}
			}
			diags.Errorf(path, "cannot load MNIST", "%v", err)
			return nil, diags
		}
		prep = newPreprocessor(prm.Size, prm.Resize)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.p, p.seed, p.ready = prm, cfg.Seed, true
	p.data, p.set, p.prep = data, set, prep
	p.src, p.test = src, nil
	p.streams = map[string]*stream{}
	return sdk.Shapes{"sample": prm.sampleShape()}, diags
}

// Describe returns the sample shape and the number of images; a toy set has
// size 0 (unlimited) and a plot box, and gmm and rings a density (the
// degenerate points and segment have none).
func (p *Plugin) Describe(ctx context.Context) (sdk.DataInfo, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.ready {
		return sdk.DataInfo{}, errNotConfigured
	}
	info := sdk.DataInfo{Shape: p.p.sampleShape()}
	if p.set != nil {
		b := p.set.Box()
		_, info.HasDensity = p.set.(toy.Dense)
		info.Box = b[:]
	} else {
		info.Size = p.data.Count
	}
	return info, nil
}

// LogDensity returns log q(x) for each row of x ([n, 2], float32 or float64;
// the result has x's dtype). For MNIST and the degenerate toy sets it
// returns an error wrapping sdk.ErrUnsupported.
func (p *Plugin) LogDensity(ctx context.Context, x *sdk.Tensor) (*sdk.Tensor, error) {
	p.mu.Lock()
	set, ready := p.set, p.ready
	p.mu.Unlock()
	if !ready {
		return nil, errNotConfigured
	}
	if set == nil {
		return nil, fmt.Errorf("data-mnist: log-density of mnist: %w", sdk.ErrUnsupported)
	}
	dense, ok := set.(toy.Dense)
	if !ok {
		return nil, fmt.Errorf("data-mnist: log-density of %s: its support has dimension below 2, so it has no density in the plane (with data_noise its positives have one, but no exact form is offered): %w", set.Name(), sdk.ErrUnsupported)
	}
	if err := x.Validate(); err != nil {
		return nil, fmt.Errorf("data-mnist: log-density: %w", err)
	}
	if len(x.Shape) != 2 || x.Shape[1] != 2 {
		return nil, fmt.Errorf("data-mnist: log-density: %w: expected [n 2], received %s", sdk.ErrShape, sdk.FormatShape(x.Shape))
	}
	n := x.Shape[0]
	out := sdk.NewTensor(x.DType, n)
	for i := range n {
		out.Set(i, dense.LogDensity(x.At(2*i), x.At(2*i+1)))
	}
	return out, nil
}

var errNotConfigured = fmt.Errorf("data-mnist: not configured")

var _ sdk.Data = (*Plugin)(nil)
