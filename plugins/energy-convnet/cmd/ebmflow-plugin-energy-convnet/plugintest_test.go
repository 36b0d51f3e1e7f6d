package main

import (
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
	"github.com/ebmflow/ebmflow/sdk/plugintest"
)

// TestConformance runs the plugin conformance harness on this binary with
// the 2-D toy MLP (Adam, so the optimiser moments must survive save/load)
// and, unless -short, a small VanillaNet on 28x28 images and a small
// NonlocalNet (SGD) on 32x32 ones.
func TestConformance(t *testing.T) {
	bad := []plugintest.BadConfig{
		{Set: map[string]any{"epsilon": nil}, Path: "epsilon"},
		{Set: map[string]any{"epsilon": -1.0}, Path: "epsilon"},
		{Set: map[string]any{"net": "resnet"}, Path: "net"},
		{Set: map[string]any{"slope": 1.5}, Path: "slope"},
	}
	t.Run("toy", func(t *testing.T) {
		plugintest.Run(t, plugintest.Suite{
			Package: ".",
			Kind:    sdk.KindEnergy,
			Config:  map[string]any{"net": "toy", "epsilon": 0.125, "optimizer": "adam"},
			Bad:     bad,
		})
	})
	t.Run("vanilla", func(t *testing.T) {
		if testing.Short() {
			t.Skip("a ConvNet on images")
		}
		plugintest.Run(t, plugintest.Suite{
			Package: ".",
			Kind:    sdk.KindEnergy,
			Config:  map[string]any{"net": "vanilla", "image_size": 28, "n_f": 4, "epsilon": 0.0075},
			Bad:     []plugintest.BadConfig{{Set: map[string]any{"channels": 2}, Path: "channels"}},
			Batch:   2,
			Calls:   2,
		})
	})
	t.Run("nonlocal", func(t *testing.T) {
		if testing.Short() {
			t.Skip("a ConvNet with attention on images")
		}
		plugintest.Run(t, plugintest.Suite{
			Package: ".",
			Kind:    sdk.KindEnergy,
			Config:  map[string]any{"net": "nonlocal", "n_f": 4, "epsilon": 0.0075},
			Bad:     []plugintest.BadConfig{{Set: map[string]any{"image_size": 28}, Path: "image_size"}},
			Batch:   2,
			Calls:   2,
		})
	})
}
