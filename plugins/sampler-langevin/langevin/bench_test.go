package langevin

import (
	"context"
	"fmt"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

// nopEnergy answers every gradient call with preallocated zero tensors, so a
// benchmark measures the sampler's own per-step cost around the energy call.
type nopEnergy struct{ f, g *sdk.Tensor }

func (e *nopEnergy) Energy(ctx context.Context, x *sdk.Tensor) (*sdk.Tensor, error) { return e.f, nil }

func (e *nopEnergy) Grad(ctx context.Context, x *sdk.Tensor) (*sdk.Tensor, *sdk.Tensor, error) {
	return e.f, e.g, nil
}

// BenchmarkStep reports the sampler's cost per Langevin step (ns/step) for a
// batch of 100 chains, each op being one Sample call of 50 steps from uniform
// noise; allocs/op are per call, not per step.
func BenchmarkStep(b *testing.B) {
	const n, steps = 100, 50
	shapes := [][]int{{2}, {1, 32, 32}, {3, 32, 32}}
	for _, mala := range []bool{false, true} {
		for _, shape := range shapes {
			name := fmt.Sprintf("mala=%v/%dx%s", mala, n, sdk.FormatShape(shape))
			b.Run(name, func(b *testing.B) {
				full := append([]int{n}, shape...)
				e := &nopEnergy{f: sdk.NewTensor(sdk.Float32, n), g: sdk.NewTensor(sdk.Float32, full...)}
				s := configured(b, config(b, 1, map[string]any{
					"epsilon": 0.01, "steps": steps, "batch": n, "mala": mala,
				}, shape, e, nil))
				ctx := context.Background()
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := s.Sample(ctx, sdk.SampleRequest{}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*steps), "ns/step")
			})
		}
	}
}
