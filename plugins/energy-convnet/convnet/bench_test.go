package convnet

import (
	"context"
	"fmt"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

// BenchmarkGrad measures the sampler's hot path at batch 100 and reports
// image-steps/s (samples whose gradient is computed per second).
func BenchmarkGrad(b *testing.B) {
	for _, c := range []struct {
		name string
		a    attrs
		n    int
	}{
		{"vanilla32/nf32/n100", attrs{"net": "vanilla", "epsilon": 0.015}, 100},
		{"vanilla28/nf32/n100", attrs{"net": "vanilla", "epsilon": 0.015, "image_size": 28}, 100},
		{"vanilla32/nf8/n100", attrs{"net": "vanilla", "epsilon": 0.015, "n_f": 8}, 100},
		{"vanilla32/nf32/n10", attrs{"net": "vanilla", "epsilon": 0.015}, 10},
		{"toy/n100", attrs{"net": "toy", "epsilon": 0.125}, 100},
		{"toy/n1000", attrs{"net": "toy", "epsilon": 0.125}, 1000},
	} {
		b.Run(c.name, func(b *testing.B) {
			p := configured(b, 1, c.a)
			x := randomBatch(p, c.n, 2)
			if _, _, err := p.Grad(context.Background(), x); err != nil { // compile
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, _, err := p.Grad(context.Background(), x); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(c.n*b.N)/b.Elapsed().Seconds(), "image-steps/s")
		})
	}
}

// BenchmarkUpdate measures one learning step on 100 positives and 100
// negatives.
func BenchmarkUpdate(b *testing.B) {
	for _, opt := range []string{"sgd", "adam"} {
		b.Run(fmt.Sprintf("vanilla32/nf32/n100/%s", opt), func(b *testing.B) {
			p := configured(b, 1, attrs{"net": "vanilla", "epsilon": 0.01, "optimizer": opt})
			pos, neg := randomBatch(p, 100, 2), randomBatch(p, 100, 3)
			req := sdk.UpdateRequest{Pos: pos, Neg: neg, LR: 1e-4}
			if _, err := p.Update(context.Background(), req); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := p.Update(context.Background(), req); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(200*b.N)/b.Elapsed().Seconds(), "image-steps/s")
		})
	}
}
