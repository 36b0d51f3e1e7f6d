package mnist

import (
	"context"
	"fmt"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

// BenchmarkNext measures positives per call with the reference's data noise
// (eps_data = 0.015) and reports batches per second. The MNIST cases use
// the whole training set.
func BenchmarkNext(b *testing.B) {
	ctx := context.Background()
	cases := []struct {
		name  string
		attrs map[string]any
		n     []int
	}{
		{"mnist-32-bilinear", map[string]any{}, []int{10, 100, 1000}},
		{"mnist-32-pad", map[string]any{"resize": "pad"}, []int{100}},
		{"mnist-28", map[string]any{"size": 28}, []int{100}},
		{"mnist-32-bilinear-float64", map[string]any{"dtype": "float64"}, []int{100}},
		{"gmm", map[string]any{"dataset": "gmm"}, []int{100, 10000}},
		{"rings", map[string]any{"dataset": "rings"}, []int{100, 10000}},
	}
	for _, c := range cases {
		c.attrs["data_noise"] = 0.015
		p := configured(b, 1, c.attrs)
		for _, n := range c.n {
			b.Run(fmt.Sprintf("%s/n=%d", c.name, n), func(b *testing.B) {
				req := sdk.NextRequest{N: n}
				for b.Loop() {
					if _, err := p.Next(ctx, req); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "batches/s")
			})
		}
	}
}

// BenchmarkLoad measures Configure for the training split: SHA-256 of the
// cached files, decompression and parsing.
func BenchmarkLoad(b *testing.B) {
	configured(b, 1, map[string]any{}) // fill the cache
	for b.Loop() {
		configured(b, 1, map[string]any{})
	}
}
