package quadratic

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/ebmflow/ebmflow/sdk"
)

// Version is the plugin's version.
const Version = "0.1.0"

// Quadratic is the quadratic energy stage. It implements sdk.Energy; its
// methods are safe for concurrent use.
type Quadratic struct {
	mu         sync.RWMutex
	configured bool
	a, eps     float64
	shape      []int
	dtype      sdk.DType
	center     []float64 // mu, one value per element of a sample
}

// New returns an unconfigured quadratic energy.
func New() *Quadratic { return &Quadratic{} }

// Info returns the plugin's name, kind and version.
func (q *Quadratic) Info() sdk.Info {
	return sdk.Info{Name: "quadratic", Kind: sdk.KindEnergy, Version: Version,
		Description: "quadratic energy (a/2)|x - mu|^2 for integration tests"}
}

// Schema returns the attributes of a quadratic stage block.
func (q *Quadratic) Schema() sdk.Schema {
	return sdk.Schema{Attributes: []sdk.Attribute{
		{Name: "epsilon", Type: sdk.TypeNumber, Required: true,
			Doc: "the sampler's Langevin noise sd eps, used for d_st = (2/eps^2)(mean F(x+) - mean F(x-))"},
		{Name: "shape", Type: sdk.TypeListNumber, Default: []any{2.0},
			Doc: "per-sample input shape (default [2])"},
		{Name: "a", Type: sdk.TypeNumber, Default: 1.0,
			Doc: "curvature a > 0 of F = (a/2)|x - mu|^2, in units of 1/x^2 (default 1)"},
		{Name: "mu", Type: sdk.TypeListNumber, Default: []any{},
			Doc: "centre mu: empty for 0, one value for every coordinate, or one value per element of a sample (default [])"},
		{Name: "dtype", Type: sdk.TypeString, Default: "float32", Enum: []string{"float32", "float64"},
			Doc: "element type of the input (default float32)"},
	}}
}

// Configure decodes the block and declares the "input" shape.
func (q *Quadratic) Configure(ctx context.Context, cfg *sdk.Config) (sdk.Shapes, sdk.Diagnostics) {
	var diags sdk.Diagnostics
	eps := cfg.Float("epsilon")
	if !(eps > 0) || math.IsInf(eps, 0) {
		diags.Errorf([]string{"epsilon"}, "invalid epsilon", "epsilon must be a positive finite number, got %v", eps)
	}
	a := 1.0
	if cfg.Has("a") {
		a = cfg.Float("a")
	}
	if !(a > 0) || math.IsInf(a, 0) {
		diags.Errorf([]string{"a"}, "invalid a", "a must be a positive finite number, got %v", a)
	}
	shape := []int{2}
	if cfg.Has("shape") {
		var dims []float64
		if err := cfg.Decode("shape", &dims); err != nil {
			diags.Errorf([]string{"shape"}, "invalid shape", "%v", err)
		}
		shape = shape[:0]
		for _, d := range dims {
			if d < 1 || d != math.Trunc(d) {
				diags.Errorf([]string{"shape"}, "invalid shape", "dimensions must be positive whole numbers, got %v", dims)
				break
			}
			shape = append(shape, int(d))
		}
		if len(dims) == 0 {
			diags.Errorf([]string{"shape"}, "invalid shape", "shape must have at least one dimension")
		}
	}
	size := sdk.NumElements(shape)
	var mu []float64
	if cfg.Has("mu") {
		if err := cfg.Decode("mu", &mu); err != nil {
			diags.Errorf([]string{"mu"}, "invalid mu", "%v", err)
		}
	}
	center := make([]float64, size)
	switch len(mu) {
	case 0:
	case 1:
		for i := range center {
			center[i] = mu[0]
		}
	case size:
		copy(center, mu)
	default:
		diags.Errorf([]string{"mu"}, "invalid mu", "mu has %d values; want 0, 1 or %d (the elements of a %s sample)", len(mu), size, sdk.FormatShape(shape))
	}
	dtype := sdk.Float32
	switch dt := cfg.String("dtype"); dt {
	case "", "float32":
	case "float64":
		dtype = sdk.Float64
	default:
		diags.Errorf([]string{"dtype"}, "invalid dtype", "dtype must be float32 or float64, got %q", dt)
	}
	if diags.HasErrors() {
		return nil, diags
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.configured, q.a, q.eps, q.shape, q.dtype, q.center = true, a, eps, shape, dtype, center
	return sdk.Shapes{"input": append([]int(nil), shape...)}, diags
}

// check validates a batch against the configured dtype and sample shape.
func (q *Quadratic) check(x *sdk.Tensor) error {
	if !q.configured {
		return errors.New("energy not configured")
	}
	return x.Expect(q.dtype, append([]int{-1}, q.shape...)...)
}

// eval writes F(x) into f and, if g is not nil, dF/dx into g.
func (q *Quadratic) eval(x, f, g *sdk.Tensor) {
	n := x.Batch()
	d := len(q.center)
	for i := 0; i < n; i++ {
		var ss float64
		for j, c := range q.center {
			r := x.At(i*d+j) - c
			ss += r * r
			if g != nil {
				g.Set(i*d+j, q.a*r)
			}
		}
		f.Set(i, q.a/2*ss)
	}
}

// Energy returns F(x) per sample.
func (q *Quadratic) Energy(ctx context.Context, x *sdk.Tensor) (*sdk.Tensor, error) {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if err := q.check(x); err != nil {
		return nil, fmt.Errorf("energy: %w", err)
	}
	f := sdk.NewTensor(q.dtype, x.Batch())
	q.eval(x, f, nil)
	return f, nil
}

// Grad returns F(x) and dF/dx = a(x - mu).
func (q *Quadratic) Grad(ctx context.Context, x *sdk.Tensor) (*sdk.Tensor, *sdk.Tensor, error) {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if err := q.check(x); err != nil {
		return nil, nil, fmt.Errorf("grad: %w", err)
	}
	f := sdk.NewTensor(q.dtype, x.Batch())
	g := sdk.NewTensor(q.dtype, x.Shape...)
	q.eval(x, f, g)
	return f, g, nil
}

var _ sdk.Energy = (*Quadratic)(nil)
