package main

import (
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
	"github.com/ebmflow/ebmflow/sdk/plugintest"
)

// TestConformance runs the plugin conformance harness on this binary with
// the 2-D toy sets: gmm and rings, whose log-densities are known, and the
// degenerate points and segment, which have none (MNIST itself is checked
// by package mnist's tests, which fetch the files).
func TestConformance(t *testing.T) {
	bad := []plugintest.BadConfig{
		{Set: map[string]any{"dataset": "cifar"}, Path: "dataset"},
		{Set: map[string]any{"data_noise": -0.5}, Path: "data_noise"},
	}
	for _, set := range []string{"gmm", "rings", "points", "segment"} {
		t.Run(set, func(t *testing.T) {
			plugintest.Run(t, plugintest.Suite{
				Package: ".",
				Kind:    sdk.KindData,
				Config:  map[string]any{"dataset": set, "batch_size": 16},
				Bad:     bad,
			})
		})
	}
}
