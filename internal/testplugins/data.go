package testplugins

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/ebmflow/ebmflow/sdk"
)

// Gaussian is a data stage drawing N(mean, (sd*scale_i)^2) samples of a
// given shape, one random stream per named consumer stream. Its
// log-density is exact; with shape [2] it declares the plot box
// mean +- 4*sd*scale_i per axis (not square when the scales differ).
type Gaussian struct {
	faults
	mean, sd float64
	scales   []float64 // per element of a sample; nil: all 1
	shape    []int
	seed     uint64
	shortBy  int // rows fewer than asked for that Next returns (a defect, for tests)

	smu     sync.Mutex
	streams map[string]*sdk.Stream
}

func NewGaussian() *Gaussian { return &Gaussian{} }

func (g *Gaussian) Info() sdk.Info {
	return sdk.Info{Name: "testdata", Kind: sdk.KindData, Version: "0.1.0", Description: "Gaussian data for tests"}
}

func (g *Gaussian) Schema() sdk.Schema {
	return withFaults(
		sdk.Attribute{Name: "mean", Type: sdk.TypeNumber, Default: 0.0, Doc: "mean (default 0)"},
		sdk.Attribute{Name: "sd", Type: sdk.TypeNumber, Default: 1.0, Doc: "standard deviation (default 1)"},
		sdk.Attribute{Name: "shape", Type: sdk.TypeListNumber, Default: []any{2.0}, Doc: "per-sample shape (default [2])", Bounds: sdk.AtLeast(1).AtMost(4096)},
		sdk.Attribute{Name: "scales", Type: sdk.TypeListNumber, Default: []any{}, Doc: "per-element factors of sd, one per element of a sample (default: all 1)", Bounds: sdk.Above(0)},
		sdk.Attribute{Name: "short_by", Type: sdk.TypeInt, Default: 0, Doc: "return this many rows fewer than asked for (a defect, for tests; default 0)"},
	)
}

func (g *Gaussian) Configure(ctx context.Context, cfg *sdk.Config) (sdk.Shapes, sdk.Problems) {
	var diags sdk.Problems
	g.faults.configure(cfg)
	g.mean, g.sd, g.seed, g.shortBy = cfg.Float("mean"), cfg.Float("sd"), cfg.Seed, cfg.Int("short_by")
	if g.sd <= 0 {
		diags.Errorf([]string{"sd"}, "Invalid standard deviation", "sd must be positive, got %g", g.sd)
	}
	var shape []float64
	_ = cfg.Decode("shape", &shape)
	g.shape = nil
	for _, d := range shape {
		g.shape = append(g.shape, int(d))
	}
	g.scales = nil
	_ = cfg.Decode("scales", &g.scales)
	if len(g.scales) == 0 {
		g.scales = nil
	} else if len(g.scales) != sdk.NumElements(g.shape) {
		diags.Errorf([]string{"scales"}, "Invalid scales", "scales has %d elements for samples of shape %v", len(g.scales), g.shape)
	}
	g.streams = map[string]*sdk.Stream{}
	return sdk.Shapes{"sample": g.shape}, diags
}

func (g *Gaussian) Describe(ctx context.Context) (sdk.DataInfo, error) {
	info := sdk.DataInfo{Shape: g.shape, HasDensity: true}
	if len(g.shape) == 1 && g.shape[0] == 2 {
		for i := range 2 {
			h := 4 * g.sd * g.scale(i)
			info.Box = append(info.Box, [2]float64{g.mean - h, g.mean + h})
		}
	}
	return info, nil
}

// scale is the sd factor of element i of a sample.
func (g *Gaussian) scale(i int) float64 {
	if g.scales == nil {
		return 1
	}
	return g.scales[i]
}

func (g *Gaussian) stream(name string) *sdk.Stream {
	g.smu.Lock()
	defer g.smu.Unlock()
	s, ok := g.streams[name]
	if !ok {
		s = sdk.NewStream(g.seed, "stream:"+name)
		g.streams[name] = s
	}
	return s
}

func (g *Gaussian) Next(ctx context.Context, req sdk.NextRequest) (*sdk.Tensor, error) {
	defer g.span("next", time.Now())
	g.enter("next")
	if req.N <= 0 {
		return nil, fmt.Errorf("batch size must be positive, got %d", req.N)
	}
	if req.Split != "" {
		return nil, fmt.Errorf("no held-out split %q: %w", req.Split, sdk.ErrUnsupported)
	}
	// The stage has no data noise of its own; a request's Noise (as the
	// sdk documents it) adds that much.
	noise := 0.0
	if req.NoiseSet && req.Noise > 0 {
		noise = req.Noise
	}
	s := g.stream(req.Stream)
	x := sdk.NewTensor(sdk.Float32, append([]int{max(req.N-g.shortBy, 1)}, g.shape...)...)
	per := sdk.NumElements(g.shape)
	for i := range x.F32 {
		v := g.mean + g.sd*g.scale(i%per)*s.NormFloat64()
		if noise > 0 {
			v += noise * s.NormFloat64()
		}
		x.F32[i] = float32(v)
	}
	return x, nil
}

func (g *Gaussian) LogDensity(ctx context.Context, x *sdk.Tensor) (*sdk.Tensor, error) {
	g.enter("logdensity")
	n := x.Batch()
	per := x.Len() / max(n, 1)
	if g.scales != nil && per != len(g.scales) {
		return nil, fmt.Errorf("log density: %d elements per row for %d scales: %w", per, len(g.scales), sdk.ErrShape)
	}
	lp := sdk.NewTensor(sdk.Float64, n)
	for i := 0; i < n; i++ {
		s := 0.0
		for j := 0; j < per; j++ {
			sd := g.sd * g.scale(j)
			z := (x.At(i*per+j) - g.mean) / sd
			s += -0.5*z*z - math.Log(sd) - 0.5*math.Log(2*math.Pi)
		}
		lp.F64[i] = s
	}
	return lp, nil
}

type dataState struct {
	Streams map[string][]byte `json:"streams"`
	Calls   []byte            `json:"calls"`
}

func (g *Gaussian) SaveState(ctx context.Context) (*sdk.State, error) {
	g.smu.Lock()
	defer g.smu.Unlock()
	st := dataState{Streams: map[string][]byte{}, Calls: g.faults.save()}
	names := slices.Sorted(maps.Keys(g.streams))
	for _, n := range names {
		b, err := g.streams[n].MarshalBinary()
		if err != nil {
			return nil, err
		}
		st.Streams[n] = b
	}
	b, err := json.Marshal(st)
	return &sdk.State{Meta: b}, err
}

func (g *Gaussian) LoadState(ctx context.Context, st *sdk.State) error {
	var s dataState
	if err := json.Unmarshal(st.Meta, &s); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	g.smu.Lock()
	g.streams = map[string]*sdk.Stream{}
	for n, b := range s.Streams {
		str := sdk.NewStream(g.seed, "stream:"+n)
		if err := str.UnmarshalBinary(b); err != nil {
			g.smu.Unlock()
			return fmt.Errorf("state: stream %q: %w", n, err)
		}
		g.streams[n] = str
	}
	g.smu.Unlock()
	return g.faults.load(s.Calls)
}

var _ sdk.Data = (*Gaussian)(nil)
