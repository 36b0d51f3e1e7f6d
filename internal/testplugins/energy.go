package testplugins

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sync/atomic"

	"github.com/ebmflow/ebmflow/sdk"
)

// Quadratic is the repository's one quadratic test energy: the energy stage
// F(x) = (a/2)|x - mu|^2 per sample, with dF/dx = a(x - mu). Served as a
// process (testenergy), mu is a scalar shared by all coordinates and Update
// takes an SGD step on mean F(x+) - mean F(x-), whose derivative in mu is
// a * D * (mean(x-) - mean(x+)) for D coordinates per sample. In process
// (NewQuadraticAt), mu may hold one value per coordinate and Hook may
// tamper with the answers.
type Quadratic struct {
	faults
	a, mu, eps float64
	centre     []float64 // mu per coordinate, when set
	dim        []int
	nanAt      int

	// Hook, when set, sees every Grad call (1-based count) after its
	// answer is computed, and may change the answer or fail the call.
	Hook  func(call int, x, f, g *sdk.Tensor) error
	grads atomic.Int64
}

// NewQuadratic returns the energy as a plugin serves it: Configure sets it
// up from the stage block.
func NewQuadratic() *Quadratic { return &Quadratic{} }

// NewQuadraticAt returns a configured energy with curvature a and centre
// mu, one value per element of its samples (of any shape with len(mu)
// elements), for tests that call it in process.
func NewQuadraticAt(a float64, mu ...float64) *Quadratic {
	return &Quadratic{a: a, centre: mu, eps: 0.1}
}

func (q *Quadratic) Info() sdk.Info {
	return sdk.Info{Name: "testenergy", Kind: sdk.KindEnergy, Version: "0.1.0", Description: "quadratic energy for tests"}
}

func (q *Quadratic) Schema() sdk.Schema {
	return withFaults(
		sdk.Attribute{Name: "a", Type: sdk.TypeNumber, Default: 1.0, Doc: "curvature a (default 1)"},
		sdk.Attribute{Name: "mu", Type: sdk.TypeNumber, Default: 0.0, Doc: "centre mu (default 0)"},
		sdk.Attribute{Name: "epsilon", Type: sdk.TypeNumber, Default: 0.1, Doc: "Langevin noise, for d_st (default 0.1)"},
		sdk.Attribute{Name: "shape", Type: sdk.TypeListNumber, Default: []any{2.0}, Bounds: sdk.AtLeast(1).AtMost(4096), Doc: "per-sample input shape (default [2])"},
		sdk.Attribute{Name: "nan_at", Type: sdk.TypeInt, Default: 0, Bounds: sdk.AtLeast(0), Doc: "training iteration whose update reports d_st = NaN (default 0: never)"},
		sdk.Attribute{Name: "after", Type: sdk.StageRef(sdk.KindSampler), Doc: "a sampler stage to be configured after (for ordering and cycle tests; optional)"},
	)
}

func (q *Quadratic) Configure(ctx context.Context, cfg *sdk.Config) (sdk.Shapes, sdk.Problems) {
	var diags sdk.Problems
	q.faults.configure(cfg)
	q.a, q.mu, q.eps, q.nanAt = cfg.Float("a"), cfg.Float("mu"), cfg.Float("epsilon"), cfg.Int("nan_at")
	if q.a <= 0 {
		diags.Errorf([]string{"a"}, "Invalid curvature", "a must be positive, got %g", q.a)
	}
	var shape []float64
	_ = cfg.Decode("shape", &shape)
	q.dim = nil
	for _, d := range shape {
		q.dim = append(q.dim, int(d))
	}
	return sdk.Shapes{"input": q.dim}, diags
}

func (q *Quadratic) check(x *sdk.Tensor) error {
	if q.centre != nil && x.Len() != x.Batch()*len(q.centre) {
		return fmt.Errorf("%w: samples of %d elements for a centre of %d", sdk.ErrShape, x.Len()/max(x.Batch(), 1), len(q.centre))
	}
	want := append([]int{-1}, q.dim...)
	if q.centre != nil {
		want = append([]int{-1}, x.Shape[1:]...)
	}
	if err := x.Expect(sdk.Float32, want...); err != nil {
		if err2 := x.Expect(sdk.Float64, want...); err2 != nil {
			return err
		}
	}
	return x.CheckFinite()
}

func (q *Quadratic) Energy(ctx context.Context, x *sdk.Tensor) (*sdk.Tensor, error) {
	q.enter("energy")
	f, _, err := q.eval(x, false)
	return f, err
}

func (q *Quadratic) Grad(ctx context.Context, x *sdk.Tensor) (*sdk.Tensor, *sdk.Tensor, error) {
	return q.GradInto(ctx, x, nil, nil)
}

// GradInto is Grad writing into f and dfdx where they fit (sdk.GradIntoer).
func (q *Quadratic) GradInto(ctx context.Context, x, f, dfdx *sdk.Tensor) (*sdk.Tensor, *sdk.Tensor, error) {
	q.enter("grad")
	call := int(q.grads.Add(1))
	f, g, err := q.evalInto(x, true, f, dfdx)
	if err == nil && q.Hook != nil {
		if err := q.Hook(call, x, f, g); err != nil {
			return nil, nil, err
		}
	}
	return f, g, err
}

// GradCalls returns the number of Grad calls so far.
func (q *Quadratic) GradCalls() int { return int(q.grads.Load()) }

// at returns mu for coordinate j.
func (q *Quadratic) at(j int) float64 {
	if q.centre != nil {
		return q.centre[j]
	}
	return q.mu
}

func (q *Quadratic) eval(x *sdk.Tensor, grad bool) (*sdk.Tensor, *sdk.Tensor, error) {
	return q.evalInto(x, grad, nil, nil)
}

// evalInto is eval writing into f and g where they fit.
func (q *Quadratic) evalInto(x *sdk.Tensor, grad bool, f, g *sdk.Tensor) (*sdk.Tensor, *sdk.Tensor, error) {
	if err := q.check(x); err != nil {
		return nil, nil, err
	}
	n := x.Batch()
	per := x.Len() / max(n, 1)
	f = sdk.Reuse(f, x.DType, n)
	if grad {
		g = sdk.Reuse(g, x.DType, x.Shape...)
	}
	for i := 0; i < n; i++ {
		s := 0.0
		for j := 0; j < per; j++ {
			d := x.At(i*per+j) - q.at(j)
			s += d * d
			if grad {
				g.Set(i*per+j, q.a*d)
			}
		}
		f.Set(i, q.a/2*s)
	}
	return f, g, nil
}

func (q *Quadratic) Update(ctx context.Context, req sdk.UpdateRequest) (sdk.UpdateResult, error) {
	q.enter("update")
	fp, _, err := q.eval(req.Pos, false)
	if err != nil {
		return sdk.UpdateResult{}, fmt.Errorf("positives: %w", err)
	}
	fn, _, err := q.eval(req.Neg, false)
	if err != nil {
		return sdk.UpdateResult{}, fmt.Errorf("negatives: %w", err)
	}
	mp, mn := mean(fp), mean(fn)
	// d/dmu of mean F(x+) - mean F(x-) = a * (mean(x-) - mean(x+)) summed over coordinates.
	g := q.a * (mean(req.Neg) - mean(req.Pos)) * float64(req.Pos.Len()/max(req.Pos.Batch(), 1))
	q.mu -= req.LR * g
	dst := 2 / (q.eps * q.eps) * (mp - mn)
	if req.T > 0 && req.T == q.nanAt {
		dst = math.NaN()
	}
	return sdk.UpdateResult{DST: dst, MeanPos: mp, MeanNeg: mn, GradNorm: math.Abs(g)}, nil
}

func mean(t *sdk.Tensor) float64 {
	s := 0.0
	for i := 0; i < t.Len(); i++ {
		s += t.At(i)
	}
	return s / float64(max(t.Len(), 1))
}

type quadState struct {
	Mu    float64 `json:"mu"`
	Calls []byte  `json:"calls"`
}

// SaveState returns what SaveStateTo writes.
func (q *Quadratic) SaveState(ctx context.Context) (*sdk.State, error) {
	return sdk.SaveStateVia(ctx, q)
}

// LoadState restores a state from SaveState.
func (q *Quadratic) LoadState(ctx context.Context, st *sdk.State) error {
	return sdk.LoadStateVia(ctx, q, st)
}

// SaveStateTo writes mu as a tensor and the fault counters as the blob:
// the test energy takes the SDK's streaming path for large state, so that
// every checkpoint test runs through it.
func (q *Quadratic) SaveStateTo(ctx context.Context, w sdk.StateWriter) error {
	q.enter("save")
	b, err := json.Marshal(quadState{Mu: q.mu, Calls: q.faults.save()})
	if err != nil {
		return err
	}
	w.SetMeta(b)
	return w.Tensor("mu", sdk.FromFloat64([]float64{q.mu}, 1))
}

// LoadStateFrom restores a state from SaveStateTo.
func (q *Quadratic) LoadStateFrom(ctx context.Context, r sdk.StateReader) error {
	var s quadState
	if err := json.Unmarshal(r.Meta(), &s); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	var mu *sdk.Tensor
	for {
		info, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("state: %w", err)
		}
		if info.Name == "mu" {
			if mu, err = sdk.ReadTensor(r, info); err != nil {
				return fmt.Errorf("state: %w", err)
			}
		}
	}
	if mu == nil || mu.Len() != 1 {
		return fmt.Errorf("state: tensor \"mu\" missing or not a scalar")
	}
	q.mu = mu.At(0)
	return q.faults.load(s.Calls)
}

var _ sdk.Energy = (*Quadratic)(nil)
