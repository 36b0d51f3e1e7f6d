package langevin

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/ebmflow/ebmflow/internal/testplugins"
	"github.com/ebmflow/ebmflow/sdk"
)

// quad is the repository's quadratic test energy F(x) = (a/2)|x - mu|^2
// per sample, mu one value per coordinate, in process; hook, when set, sees
// every gradient call (1-based) after the answer is computed and may change
// it or return an error.
func quad(a float64, mu []float64, hook func(call int, x, f, g *sdk.Tensor) error) *testplugins.Quadratic {
	q := testplugins.NewQuadraticAt(a, mu...)
	q.Hook = hook
	return q
}

// fixedData is a data stage whose batches are drawn on per-stream seeded
// streams: each element is base + 0.01*N(0,1). It records the stream names
// it was asked for.
type fixedData struct {
	shape   []int
	size    int
	base    float64
	mu      sync.Mutex
	streams map[string]*sdk.Stream
	asked   []string
}

func (d *fixedData) Describe(ctx context.Context) (sdk.DataInfo, error) {
	return sdk.DataInfo{Shape: d.shape, Size: d.size}, nil
}

func (d *fixedData) Next(ctx context.Context, req sdk.NextRequest) (*sdk.Tensor, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.streams == nil {
		d.streams = map[string]*sdk.Stream{}
	}
	rs, ok := d.streams[req.Stream]
	if !ok {
		rs = sdk.NewStream(99, req.Stream)
		d.streams[req.Stream] = rs
	}
	d.asked = append(d.asked, req.Stream)
	t := sdk.NewTensor(sdk.Float32, append([]int{req.N}, d.shape...)...)
	for i := range t.F32 {
		t.F32[i] = float32(d.base + 0.01*rs.NormFloat64())
	}
	return t, nil
}

func (d *fixedData) LogDensity(ctx context.Context, x *sdk.Tensor) (*sdk.Tensor, error) {
	return nil, sdk.ErrUnsupported
}

// config builds a stage config from attribute values, the energy's input
// shape and the links (data may be nil).
func config(t testing.TB, seed uint64, vals map[string]any, shape []int, energy sdk.EnergyLink, data sdk.DataLink) *sdk.Config {
	t.Helper()
	cfg := &sdk.Config{
		Stage:    "neg",
		Seed:     seed,
		Values:   map[string]json.RawMessage{},
		Upstream: map[string]sdk.Shapes{"energy": {"input": shape}},
	}
	for k, v := range vals {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Values[k] = b
	}
	if energy != nil {
		cfg.SetLink("energy", energy)
	}
	if data != nil {
		cfg.SetLink("data", data)
		cfg.Upstream["data"] = sdk.Shapes{"sample": shape}
	}
	return cfg
}

// configured returns a sampler configured with cfg, failing the test on any
// error diagnostic.
func configured(t testing.TB, cfg *sdk.Config) *Plugin {
	t.Helper()
	s := New()
	shapes, diags := s.Configure(context.Background(), cfg)
	if diags.HasErrors() {
		t.Fatalf("configure: %v", diags.Err())
	}
	if !equalShape(shapes["sample"], cfg.Upstream["energy"]["input"]) {
		t.Fatalf("configure declared sample shape %v, want %v", shapes["sample"], cfg.Upstream["energy"]["input"])
	}
	return s
}

// moments returns the per-coordinate sample mean and variance (divisor n-1)
// of the rows of x.
func moments(x *sdk.Tensor) (mean, variance []float64) {
	n := x.Batch()
	d := x.Len() / n
	mean = make([]float64, d)
	variance = make([]float64, d)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			mean[j] += x.At(i*d + j)
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			r := x.At(i*d+j) - mean[j]
			variance[j] += r * r
		}
	}
	for j := range variance {
		variance[j] /= float64(n - 1)
	}
	return mean, variance
}
