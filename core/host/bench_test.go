package host

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/ebmflow/ebmflow/internal/rpc"
	"github.com/ebmflow/ebmflow/internal/testplugins"
	"github.com/ebmflow/ebmflow/sdk"
	"github.com/rs/zerolog"
)

var benchShapes = [][]int{{100, 1, 32, 32}, {100, 2}}

func shapeName(s []int) string {
	name := ""
	for i, d := range s {
		if i > 0 {
			name += "x"
		}
		name += fmt.Sprint(d)
	}
	return name
}

// BenchmarkGradRoundTrip measures one dF/dx call of the quadratic test
// energy three ways: in-process (the compute alone), host -> energy plugin
// (one process boundary), and sampler plugin -> host broker -> energy plugin
// (the link the Langevin sampler uses: a channel from the sampler straight to
// the energy, or with EBMFLOW_SHM=0 frames through the host; one sampler step each,
// with eps = 0 so the sampler adds no noise draws). MB/s counts the tensor
// bytes sent and received per call (x in; F and dF/dx out). info is the
// floor: one unary call with no tensor to the same energy plugin.
func BenchmarkGradRoundTrip(b *testing.B) {
	ctx := context.Background()
	for _, shape := range benchShapes {
		x := sdk.NewTensor(sdk.Float32, shape...)
		for i := range x.F32 {
			x.F32[i] = float32(i%7) * 0.1
		}
		per := shape[1:]
		bytes := int64(4 * (2*x.Len() + shape[0]))
		values := map[string]json.RawMessage{"shape": raw(per)}

		b.Run("inprocess/"+shapeName(shape), func(b *testing.B) {
			q := testplugins.NewQuadratic()
			cfg := &sdk.Config{Stage: "e", Values: values}
			full, _ := rpc.BuildConfig(q.Schema(), "e", 1, "", mustJSON(values), nil)
			cfg.Values = full.Values
			if _, d := q.Configure(ctx, cfg); d.HasErrors() {
				b.Fatal(d.Err())
			}
			b.SetBytes(bytes)
			for b.Loop() {
				if _, _, err := q.Grad(ctx, x); err != nil {
					b.Fatal(err)
				}
			}
		})

		h := New(Options{Logger: zerolog.Nop()})
		e, err := h.Start(ctx, "energy", kitBinary(b, "testenergy"))
		if err != nil {
			b.Fatal(err)
		}
		if _, d, err := e.Configure(ctx, rpc.ConfigureArgs{Stage: "energy", Values: values}); err != nil || d.HasErrors() {
			b.Fatal(err, d.Err())
		}
		if len(shape) == 2 {
			// The floor of one call through the boundary: a unary call
			// carrying no tensor.
			b.Run("info", func(b *testing.B) {
				for b.Loop() {
					if _, err := e.Client.Info(ctx); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		b.Run("direct/"+shapeName(shape), func(b *testing.B) {
			b.SetBytes(bytes)
			for b.Loop() {
				if _, _, err := e.Grad(ctx, x); err != nil {
					b.Fatal(err)
				}
			}
		})
		// As a sampler calls it: the answer read into storage reused
		// from call to call, and written by the energy into storage its
		// lane reuses.
		b.Run("direct-into/"+shapeName(shape), func(b *testing.B) {
			b.SetBytes(bytes)
			var f, g *sdk.Tensor
			for b.Loop() {
				var err error
				if f, g, err = sdk.GradInto(ctx, e, x, f, g); err != nil {
					b.Fatal(err)
				}
			}
		})
		s, err := h.Start(ctx, "sampler", kitBinary(b, "testsampler"))
		if err != nil {
			b.Fatal(err)
		}
		if _, d, err := s.Configure(ctx, rpc.ConfigureArgs{Stage: "sampler",
			Values:   map[string]json.RawMessage{"epsilon": raw(0.0), "batch": raw(shape[0])},
			Links:    []rpc.Link{{Attribute: "energy", Target: e.Client, Kind: sdk.KindEnergy}},
			Upstream: map[string]sdk.Shapes{"energy": {"input": per}}}); err != nil || d.HasErrors() {
			b.Fatal(err, d.Err())
		}
		b.Run("link/"+shapeName(shape), func(b *testing.B) {
			b.SetBytes(bytes)
			b.ResetTimer()
			if _, err := s.Sample(ctx, sdk.SampleRequest{Start: x, Steps: b.N}); err != nil {
				b.Fatal(err)
			}
		})
		h.Close()
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
