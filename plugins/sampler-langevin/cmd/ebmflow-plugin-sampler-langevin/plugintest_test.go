package main

import (
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
	"github.com/ebmflow/ebmflow/sdk/plugintest"
)

// TestConformance runs the plugin conformance harness on this binary: a
// persistent MALA sampler on the repository's quadratic test energy, with
// the Gaussian test data set linked for init = "data".
func TestConformance(t *testing.T) {
	plugintest.Run(t, plugintest.Suite{
		Package: ".",
		Kind:    sdk.KindSampler,
		Config:  map[string]any{"epsilon": 0.1, "steps": 5, "batch": 6, "init": "persistent", "bank_size": 32, "mala": true},
		Bad: []plugintest.BadConfig{
			{Set: map[string]any{"epsilon": -0.1}, Path: "epsilon"},
			{Set: map[string]any{"steps": nil}, Path: "steps"},
			{Set: map[string]any{"init": "sideways"}, Path: "init"},
			{Set: map[string]any{"reinit_prob": 2.0}, Path: "reinit_prob"},
		},
		// 3,000,000 chains of 3 float32: a bank of 34 MiB.
		LargeState: map[string]any{"bank_size": 3000000},
		Links: []plugintest.Link{
			plugintest.QuadraticEnergy("energy", map[string]any{"a": 2.0, "shape": []int{3}}),
			plugintest.GaussianData("data", map[string]any{"shape": []int{3}}),
		},
	})
}
