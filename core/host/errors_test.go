//go:build linux

package host

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/ebmflow/ebmflow/internal/rpc"
	"github.com/ebmflow/ebmflow/sdk"
)

// TestSentinelsCrossTheWire: a plugin's sdk.ErrNonFinite and sdk.ErrShape
// come back to the host as errors wrapping the same sentinels, on channels
// and on gRPC frames, from the plugin itself and from a stage it links to
// (the energy a sampler calls), with the message naming the stage.
func TestSentinelsCrossTheWire(t *testing.T) {
	transports(t, func(t *testing.T, opts Options) {
		h, _ := newTestHost(t, opts)
		ctx := context.Background()
		e := start(t, h, "energy", "testenergy", nil)
		nan := sdk.FromFloat32([]float32{1, float32(math.NaN())}, 1, 2)
		_, _, err := e.Grad(ctx, nan)
		if !errors.Is(err, sdk.ErrNonFinite) || errors.Is(err, sdk.ErrShape) || !strings.Contains(err.Error(), `stage "energy": grad: `) {
			t.Errorf("NaN input: err = %v, want sdk.ErrNonFinite naming the stage", err)
		}
		_, _, err = e.Grad(ctx, sdk.FromFloat32([]float32{1, 2, 3}, 1, 3))
		if !errors.Is(err, sdk.ErrShape) || errors.Is(err, sdk.ErrNonFinite) || !strings.Contains(err.Error(), "received float32 [1 3]") {
			t.Errorf("wrong shape: err = %v, want sdk.ErrShape", err)
		}
		s := start(t, h, "sampler", "testsampler", map[string]json.RawMessage{"steps": raw(2), "batch": raw(1)},
			rpc.Link{Attribute: "energy", Target: e.Client, Kind: sdk.KindEnergy})
		_, err = s.Sample(ctx, sdk.SampleRequest{Start: nan})
		if !errors.Is(err, sdk.ErrNonFinite) || !strings.Contains(err.Error(), `stage "sampler"`) || !strings.Contains(err.Error(), `stage "energy"`) {
			t.Errorf("NaN through a link: err = %v, want sdk.ErrNonFinite naming both stages", err)
		}
		// The plugins still work.
		if _, _, err := e.Grad(ctx, sdk.FromFloat32([]float32{1, 2}, 1, 2)); err != nil {
			t.Errorf("energy after the refusals: %v", err)
		}
	})
}
