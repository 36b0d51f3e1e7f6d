package main

import (
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
	"github.com/ebmflow/ebmflow/sdk/plugintest"
)

// TestConformance runs the plugin conformance harness on this binary: the
// d_st / r_t statistics over a synthetic oscillating series, small windows
// so that classes are given within the harness's few calls.
func TestConformance(t *testing.T) {
	plugintest.Run(t, plugintest.Suite{
		Package:        ".",
		Kind:           sdk.KindDiagnostics,
		Config:         map[string]any{"window": 40, "max_lag": 5, "every": 10, "min_records": 20, "report_every": 0},
		RecordsPerCall: 20,
		Bad: []plugintest.BadConfig{
			{Set: map[string]any{"window": 0}, Path: "window"},
			{Set: map[string]any{"r_band": []float64{0.2, 0.1}}, Path: "r_band"},
		},
	})
}

// TestConformanceWithDensity runs the harness on the density diagnostic:
// the stage links an energy (the quadratic test energy on 2-D points), the
// gmm toy set of data-mnist, and sampler-langevin, which is itself linked
// to that energy (a link with links of its own).
func TestConformanceWithDensity(t *testing.T) {
	if testing.Short() {
		t.Skip("builds three plugins and evaluates the density at every check")
	}
	energy := plugintest.QuadraticEnergy("energy", map[string]any{"shape": []int{2}})
	plugintest.Run(t, plugintest.Suite{
		Package: ".",
		Kind:    sdk.KindDiagnostics,
		Config: map[string]any{"window": 40, "max_lag": 5, "every": 10, "min_records": 20, "report_every": 0,
			"epsilon": 0.1, "density_every": 20},
		RecordsPerCall: 20,
		Links: []plugintest.Link{
			energy,
			{Attribute: "data", Kind: sdk.KindData, Package: "../../../data-mnist/cmd/ebmflow-plugin-data-mnist", Config: map[string]any{"dataset": "gmm"}},
			{Attribute: "sampler", Kind: sdk.KindSampler, Package: "../../../sampler-langevin/cmd/ebmflow-plugin-sampler-langevin",
				Config: map[string]any{"steps": 5, "epsilon": 0.1, "init": "uniform"}, Links: []plugintest.Link{energy}},
		},
	})
}
