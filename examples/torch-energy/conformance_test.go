package torchenergy_test

import (
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
	"github.com/ebmflow/ebmflow/sdk/plugintest"
)

// TestConformance runs sdk/plugintest's checks on the Python plugin as it
// is, for the toy MLP and a small VanillaNet.
func TestConformance(t *testing.T) {
	needTorch(t)
	for _, tc := range []struct {
		name string
		cfg  map[string]any
	}{
		{"toy", map[string]any{"net": "toy", "epsilon": 0.1}},
		{"vanilla-adam", map[string]any{"net": "vanilla", "n_f": 4, "image_size": 28, "channels": 3, "optimizer": "adam", "epsilon": 0.01}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if testing.Short() && tc.name != "toy" {
				t.Skip("the VanillaNet's checks take a minute")
			}
			plugintest.Run(t, plugintest.Suite{
				Package: plugintest.Executable(entry),
				Kind:    sdk.KindEnergy,
				Config:  tc.cfg,
				Bad: []plugintest.BadConfig{
					{Set: map[string]any{"epsilon": nil}, Path: "epsilon"},
					{Set: map[string]any{"epsilon": -1.0}, Path: "epsilon"},
					{Set: map[string]any{"channels": 2}, Path: "channels"},
					{Set: map[string]any{"image_size": 30}, Path: "image_size"},
					{Set: map[string]any{"device": "tpu"}, Path: "device"},
				},
			})
		})
	}
}
