package langevin_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/ebmflow/ebmflow/internal/testplugins"
	"github.com/ebmflow/ebmflow/plugins/sampler-langevin/langevin"
	"github.com/ebmflow/ebmflow/sdk"
)

// Example drives the sampler in-process on the quadratic energy
// F(x) = (1/2)|x - (2, 2)|^2, for which each step is x' = (2, 2) + eps*z.
func Example() {
	ctx := context.Background()
	energy := testplugins.NewQuadraticAt(1, 2, 2)

	s := langevin.New()
	cfg := &sdk.Config{
		Stage: "neg", Seed: 1,
		Values: map[string]json.RawMessage{
			"epsilon": json.RawMessage("0.01"),
			"steps":   json.RawMessage("10"),
			"batch":   json.RawMessage("4"),
		},
		Upstream: map[string]sdk.Shapes{"energy": {"input": {2}}},
	}
	cfg.SetLink("energy", energy)
	if _, diags := s.Configure(ctx, cfg); diags.HasErrors() {
		fmt.Println(diags.Err())
		return
	}
	res, err := s.Sample(ctx, sdk.SampleRequest{Trace: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("samples:", sdk.FormatShape(res.X.Shape), res.X.DType)
	fmt.Printf("x[0] ≈ (%.1f, %.1f)\n", res.X.At(0), res.X.At(1))
	fmt.Println("trace steps:", len(res.Trace), "accept rate:", res.AcceptRate)
	// Output:
	// samples: [4 2] float32
	// x[0] ≈ (2.0, 2.0)
	// trace steps: 10 accept rate: -1
}
