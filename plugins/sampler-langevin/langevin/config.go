package langevin

import (
	"context"
	"math"

	"github.com/ebmflow/ebmflow/sdk"
)

// params is a decoded, validated stage block.
type params struct {
	Eps        float64
	Steps      int
	Batch      int
	Init       string
	InitScale  float64
	BankSize   int
	ReinitProb float64
	MALA       bool
	DType      sdk.DType
	Shape      []int // per-sample shape, from the energy's "input"
}

// Configure decodes and checks the stage block, links the energy (and data)
// stage and seeds the sampler's stream. It declares the "sample" shape.
func (s *Plugin) Configure(ctx context.Context, cfg *sdk.Config) (sdk.Shapes, sdk.Problems) {
	var diags sdk.Problems
	p := params{
		Eps:        cfg.Float("epsilon"),
		Steps:      cfg.Int("steps"),
		Batch:      100,
		Init:       InitUniform,
		InitScale:  1,
		ReinitProb: cfg.Float("reinit_prob"),
		MALA:       cfg.Bool("mala"),
		DType:      sdk.Float32,
	}
	if cfg.Has("batch") {
		p.Batch = cfg.Int("batch")
	}
	if cfg.Has("init") {
		p.Init = cfg.String("init")
	}
	if cfg.Has("init_scale") {
		p.InitScale = cfg.Float("init_scale")
	}
	if !cfg.Has("epsilon") {
		diags.Errorf([]string{"epsilon"}, "missing attribute", "epsilon (the Langevin noise sd) is required")
	} else if !(p.Eps > 0) || math.IsInf(p.Eps, 0) {
		diags.Errorf([]string{"epsilon"}, "invalid epsilon", "epsilon must be a positive finite number, got %v", p.Eps)
	}
	if !cfg.Has("steps") {
		diags.Errorf([]string{"steps"}, "missing attribute", "steps (the number of Langevin steps L) is required")
	} else if p.Steps < 1 {
		diags.Errorf([]string{"steps"}, "invalid steps", "steps must be at least 1, got %d", p.Steps)
	}
	if p.Batch < 1 {
		diags.Errorf([]string{"batch"}, "invalid batch", "batch must be at least 1, got %d", p.Batch)
	}
	if !validInit(p.Init) {
		diags.Errorf([]string{"init"}, "invalid init", "init must be uniform, gaussian, data or persistent, got %q", p.Init)
	}
	if !(p.InitScale > 0) || math.IsInf(p.InitScale, 0) {
		diags.Errorf([]string{"init_scale"}, "invalid init_scale", "init_scale must be a positive finite number, got %v", p.InitScale)
	}
	if !(p.ReinitProb >= 0 && p.ReinitProb <= 1) {
		diags.Errorf([]string{"reinit_prob"}, "invalid reinit_prob", "reinit_prob must lie in [0, 1], got %v", p.ReinitProb)
	}
	switch dt := cfg.String("dtype"); dt {
	case "", "float32":
	case "float64":
		p.DType = sdk.Float64
	default:
		diags.Errorf([]string{"dtype"}, "invalid dtype", "dtype must be float32 or float64, got %q", dt)
	}

	energy, err := cfg.Energy("energy")
	if err != nil {
		diags.Errorf([]string{"energy"}, "no energy stage", "%v", err)
	}
	shape, ok := cfg.Upstream["energy"]["input"]
	if !ok {
		diags.Errorf([]string{"energy"}, "unknown input shape", "the energy stage declared no \"input\" shape")
	}
	p.Shape = append([]int(nil), shape...)
	for _, d := range shape {
		if d < 1 {
			diags.Errorf([]string{"energy"}, "invalid input shape", "the energy stage's input shape %s has a non-positive dimension", sdk.FormatShape(shape))
			break
		}
	}

	var data sdk.DataLink
	dataSize := 0
	if l, err := cfg.Data("data"); err == nil {
		data = l
		info, err := l.Describe(ctx)
		switch {
		case err != nil:
			diags.Errorf([]string{"data"}, "data stage unavailable", "describe: %v", err)
		case ok && !equalShape(info.Shape, shape):
			diags.Errorf([]string{"data"}, "shape mismatch", "the data stage's samples are %s but the energy's input is %s",
				sdk.FormatShape(info.Shape), sdk.FormatShape(shape))
		default:
			dataSize = info.Size
		}
	} else if cfg.Has("data") || p.Init == InitData {
		diags.Errorf([]string{"data"}, "no data stage", "init = %q needs a linked data stage: %v", p.Init, err)
	}

	p.BankSize = defaultBankSize
	if dataSize > 0 {
		p.BankSize = dataSize
	}
	if cfg.Has("bank_size") {
		p.BankSize = cfg.Int("bank_size")
	}
	if p.BankSize < 1 {
		diags.Errorf([]string{"bank_size"}, "invalid bank_size", "bank_size must be at least 1, got %d", p.BankSize)
	} else if p.Init == InitPersistent && p.BankSize < p.Batch {
		diags.Errorf([]string{"bank_size"}, "bank too small", "bank_size %d is smaller than batch %d; chains are drawn without replacement", p.BankSize, p.Batch)
	}
	if diags.HasErrors() {
		return nil, diags
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.p = p
	s.stage = cfg.Stage
	s.energy = energy
	s.data = data
	s.seed = cfg.Seed
	s.rng = sdk.NewStream(cfg.Seed, "langevin")
	s.streams = map[string]*sdk.Stream{}
	s.bank = nil
	s.stats = Stats{}
	s.configured = true
	// Each step evaluates dF/dx once per chain; MALA also at the start.
	grads := p.Steps
	if p.MALA {
		grads++
	}
	cfg.DeclareCost(sdk.Cost{GradsPerRow: grads})
	shapes := sdk.Shapes{"sample": append([]int(nil), p.Shape...)}
	if p.Init == InitPersistent {
		// Linked stages read the bank's size from this (a diagnostics stage
		// drawing many chains from it checks it at validation).
		shapes["bank"] = append([]int{p.BankSize}, p.Shape...)
	}
	return shapes, diags
}

func validInit(s string) bool {
	switch s {
	case InitUniform, InitGaussian, InitData, InitPersistent:
		return true
	}
	return false
}

func equalShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
