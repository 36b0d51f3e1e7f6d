package oscillation

import (
	"context"
	"fmt"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

// BenchmarkObserve measures Observe per record (one record per call, as the
// core calls it), including the refresh every 100 iterations, amortised.
func BenchmarkObserve(b *testing.B) {
	for _, every := range []int{100, 1000} {
		b.Run(fmt.Sprintf("every=%d", every), func(b *testing.B) {
			p := configured(b, newConfig(b, "", map[string]any{"every": every}))
			d := ar1(1<<16, -0.6, 1)
			recs := records(1, d, nil, 1)
			ctx := context.Background()
			i := 0
			for b.Loop() {
				rec := recs[i%len(recs)]
				rec.T = i + 1
				if _, err := p.Observe(ctx, []sdk.Record{rec}); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkRefresh measures one full statistics refresh over a window.
func BenchmarkRefresh(b *testing.B) {
	for _, w := range []int{500, 2000, 8000} {
		b.Run(fmt.Sprintf("window=%d", w), func(b *testing.B) {
			p := configured(b, newConfig(b, "", map[string]any{"window": w, "min_records": min(w, 500)}))
			observeAll(b, p, records(1, ar1(w, -0.6, 2), nil, 2))
			for b.Loop() {
				_ = computeStats(p.hist.tail(w), p.opts, &p.sc)
			}
		})
	}
}

// BenchmarkReport measures Report with both figures over a history of n records.
func BenchmarkReport(b *testing.B) {
	for _, n := range []int{2000, 20000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			p := configured(b, newConfig(b, b.TempDir(), nil))
			observeAll(b, p, records(1, ar1(n, -0.6, 3), nil, 3))
			for b.Loop() {
				if _, err := p.Report(context.Background(), false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDensity measures one density evaluation (40,000 energies and the
// TV on the 200x200 grid) with in-process links, after the one-off set-up.
func BenchmarkDensity(b *testing.B) {
	t := &testing.T{}
	p := densityPlugin(t, "", 0)
	ctx := context.Background()
	if _, err := p.dens.evaluate(ctx, 1); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := p.dens.evaluate(ctx, 1); err != nil {
			b.Fatal(err)
		}
	}
}
