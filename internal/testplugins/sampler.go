package testplugins

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/ebmflow/ebmflow/sdk"
)

// Langevin is a minimal sampler stage: chains start from uniform noise in
// [-1, 1] and take `steps` updates x <- x - dF/dx + eps*z through the linked
// energy stage. It exists to exercise the brokered connection.
type Langevin struct {
	faults
	energy sdk.EnergyLink
	eps    float64
	steps  int
	batch  int
	shape  []int
	dtype  sdk.DType
	rng    *sdk.Stream
}

func NewLangevin() *Langevin { return &Langevin{} }

func (l *Langevin) Info() sdk.Info {
	return sdk.Info{Name: "testsampler", Kind: sdk.KindSampler, Version: "0.1.0", Description: "minimal Langevin sampler for tests"}
}

func (l *Langevin) Schema() sdk.Schema {
	return withFaults(
		sdk.Attribute{Name: "energy", Type: sdk.StageRef(sdk.KindEnergy), Required: true, Doc: "the energy stage"},
		sdk.Attribute{Name: "epsilon", Type: sdk.TypeNumber, Default: 0.1, Bounds: sdk.AtLeast(0).AtMost(100), Doc: "noise sd eps (default 0.1)"},
		sdk.Attribute{Name: "steps", Type: sdk.TypeInt, Default: 10, Bounds: sdk.AtLeast(1).AtMost(1e6), Doc: "Langevin steps L (default 10)"},
		sdk.Attribute{Name: "batch", Type: sdk.TypeInt, Default: 8, Bounds: sdk.AtLeast(1).AtMost(1e6), Doc: "chains per batch (default 8)"},
		sdk.Attribute{Name: "dtype", Type: sdk.TypeString, Default: "float32", Enum: []string{"float32", "float64"}, Doc: "element type (default float32)"},
		sdk.Attribute{Name: "intrude", Type: sdk.TypeBool, Default: false, Doc: "at configure, try to reach other stages' shared memory and report what worked as a warning (default false)"},
	)
}

func (l *Langevin) Configure(ctx context.Context, cfg *sdk.Config) (sdk.Shapes, sdk.Problems) {
	var diags sdk.Problems
	l.faults.configure(cfg)
	var err error
	if l.energy, err = cfg.Energy("energy"); err != nil {
		diags.Errorf([]string{"energy"}, "No energy stage", "%v", err)
	}
	l.eps, l.steps, l.batch = cfg.Float("epsilon"), cfg.Int("steps"), cfg.Int("batch")
	l.dtype = sdk.Float32
	if cfg.String("dtype") == "float64" {
		l.dtype = sdk.Float64
	}
	l.shape = cfg.Upstream["energy"]["input"]
	if l.shape == nil {
		diags.Errorf([]string{"energy"}, "Unknown input shape", "the energy stage declared no input shape")
	}
	l.rng = sdk.NewStream(cfg.Seed, "chains")
	cfg.DeclareCost(sdk.Cost{GradsPerRow: l.steps})
	if cfg.Bool("intrude") {
		tried, accepted, found := intrude()
		diags = append(diags, sdk.Problem{Severity: sdk.SeverityWarning, Summary: "intrusion probe",
			Detail: fmt.Sprintf("tried=%d accepted=%d found=%d", tried, accepted, found)})
	}
	return sdk.Shapes{"sample": l.shape}, diags
}

func (l *Langevin) Sample(ctx context.Context, req sdk.SampleRequest) (*sdk.SampleResult, error) {
	defer l.span("sample", time.Now())
	l.enter("sample")
	n, steps := l.batch, l.steps
	if req.N > 0 {
		n = req.N
	}
	if req.Steps > 0 {
		steps = req.Steps
	}
	var x *sdk.Tensor
	if req.Start != nil {
		x = req.Start.Clone()
	} else {
		x = sdk.NewTensor(l.dtype, append([]int{n}, l.shape...)...)
		for i := 0; i < x.Len(); i++ {
			x.Set(i, 2*l.rng.Float64()-1)
		}
	}
	per := x.Len() / max(n, 1)
	res := &sdk.SampleResult{AcceptRate: -1}
	var f, g *sdk.Tensor // the gradient's storage, reused from step to step
	for s := 0; s < steps; s++ {
		if err := ctxErr(ctx); err != nil {
			return nil, err
		}
		var err error
		f, g, err = sdk.GradInto(ctx, l.energy, x, f, g)
		if err != nil {
			return nil, fmt.Errorf("step %d: %w", s+1, err)
		}
		norm := 0.0
		for i := 0; i < n; i++ {
			sq := 0.0
			for j := 0; j < per; j++ {
				v := g.At(i*per + j)
				sq += v * v
			}
			norm += math.Sqrt(sq)
		}
		norm /= float64(n)
		res.R += norm / float64(steps)
		if req.Trace {
			res.Trace = append(res.Trace, sdk.StepStat{MeanEnergy: mean(f), DriftNorm: norm})
		}
		for i := 0; i < x.Len(); i++ {
			z := 0.0
			if l.eps != 0 {
				z = l.eps * l.rng.NormFloat64()
			}
			x.Set(i, x.At(i)-g.At(i)+z)
		}
		if err := x.CheckFinite(); err != nil {
			return nil, fmt.Errorf("step %d: %w", s+1, err)
		}
	}
	res.X = x
	return res, nil
}

type streamState struct {
	RNG   []byte `json:"rng"`
	Calls []byte `json:"calls"`
}

func (l *Langevin) SaveState(ctx context.Context) (*sdk.State, error) {
	rng, err := l.rng.MarshalBinary()
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(streamState{RNG: rng, Calls: l.faults.save()})
	return &sdk.State{Meta: b}, err
}

func (l *Langevin) LoadState(ctx context.Context, st *sdk.State) error {
	var s streamState
	if err := json.Unmarshal(st.Meta, &s); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	if err := l.rng.UnmarshalBinary(s.RNG); err != nil {
		return fmt.Errorf("state: rng: %w", err)
	}
	return l.faults.load(s.Calls)
}

var _ sdk.Sampler = (*Langevin)(nil)
