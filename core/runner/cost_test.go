package runner

import (
	"strings"
	"testing"

	"github.com/ebmflow/ebmflow/core/pipeline"
	"github.com/ebmflow/ebmflow/sdk"
)

// costPipeline is a bound pipeline's skeleton: a sampler "neg", a
// diagnostics stage "diag" linked to it through "sampler".
func costPipeline(iterations, batch int) *pipeline.Pipeline {
	neg := &pipeline.Stage{Name: "neg", Plugin: "some-sampler", Refs: map[string]string{}}
	diag := &pipeline.Stage{Name: "diag", Plugin: "some-diag", Refs: map[string]string{"sampler": "neg"}}
	return &pipeline.Pipeline{Stages: []*pipeline.Stage{neg, diag}, Order: []*pipeline.Stage{neg, diag},
		Train: &pipeline.Train{Iterations: iterations, Batch: batch, Sampler: "neg"}}
}

func TestEstimateCost(t *testing.T) {
	p := costPipeline(1000, 100)
	c := EstimateCost(p, map[string]*sdk.Cost{
		"neg":  {GradsPerRow: 501},
		"diag": {Draws: []sdk.Draw{{Link: "sampler", Rows: 10000, Every: 300}}},
	})
	// 100 x 501 per iteration; 3 draws (300, 600, 900) of 10,000 x 501.
	if c.Run != 100*501*1000+3*10000*501 || c.PerIteration != c.Run/1000 || len(c.Unknown) != 0 {
		t.Fatalf("%+v", c)
	}
	text := c.String()
	for _, want := range []string{
		`stage "neg": training negatives, batch 100 x 501 dF/dx per chain every iteration: 50,100 per iteration, 50,100,000 for the run`,
		`stage "diag": 10000 chains x 501 dF/dx through stage "neg" every 300 iterations (3 times): 15,030 per iteration on average, 15,030,000 for the run`,
		`total: 65,130 per iteration, 65,130,000 for the run (1000 iterations)`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
}

func TestEstimateCostUnknown(t *testing.T) {
	p := costPipeline(10, 4)
	c := EstimateCost(p, map[string]*sdk.Cost{"diag": {Draws: []sdk.Draw{{Link: "sampler", Rows: 8, Every: 1}}}})
	if c.Run != 0 || len(c.Terms) != 0 || len(c.Unknown) != 2 {
		t.Fatalf("%+v", c)
	}
	want := `not counted: the training negatives: stage "neg" (plugin some-sampler) declares no cost`
	if !strings.Contains(c.String(), want) || !strings.Contains(c.String(), `stage "diag"'s draws`) {
		t.Errorf("text lacks %q:\n%s", want, c.String())
	}
}
