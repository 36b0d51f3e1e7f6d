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
