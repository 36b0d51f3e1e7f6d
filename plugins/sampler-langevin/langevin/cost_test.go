package langevin

import (
	"context"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

// TestDeclaredCost checks that the cost the sampler declares at Configure
// is what a Sample call does: dF/dx evaluations per chain, counted at the
// energy.
func TestDeclaredCost(t *testing.T) {
	for _, mala := range []bool{false, true} {
		rows := 0
		e := quad(1, []float64{0, 0}, func(_ int, x, _, _ *sdk.Tensor) error { rows += x.Batch(); return nil })
		cfg := config(t, 1, map[string]any{"epsilon": 0.1, "steps": 7, "mala": mala}, []int{2}, e, nil)
		s := configured(t, cfg)
		c := cfg.DeclaredCost()
		if c == nil {
			t.Fatalf("mala %v: no cost declared", mala)
		}
		if _, err := s.Sample(context.Background(), sdk.SampleRequest{N: 5}); err != nil {
			t.Fatal(err)
		}
		if rows != 5*c.GradsPerRow || len(c.Draws) != 0 {
			t.Errorf("mala %v: declared %+v per chain, counted %d row evaluations for 5 chains", mala, *c, rows)
		}
		t.Logf("mala %v: %d dF/dx per chain", mala, c.GradsPerRow)
	}
}
