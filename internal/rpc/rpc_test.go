package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/ebmflow/ebmflow/internal/pb"
	"github.com/ebmflow/ebmflow/internal/testplugins"
	"github.com/ebmflow/ebmflow/sdk"
	"github.com/hashicorp/go-plugin"
)

// dial serves impl in-process over the real gRPC codec.
func dial(t testing.TB, impl sdk.Base) *Client {
	t.Helper()
	c, _ := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{PluginKey: &GRPCPlugin{Impl: impl}})
	t.Cleanup(func() { c.Close() })
	raw, err := c.Dispense(PluginKey)
	if err != nil {
		t.Fatal(err)
	}
	return raw.(*Client)
}

func configure(t testing.TB, c *Client, values map[string]any, links ...Link) sdk.Shapes {
	t.Helper()
	vals := map[string]json.RawMessage{}
	for k, v := range values {
		vals[k], _ = json.Marshal(v)
	}
	shapes, diags, err := c.Configure(context.Background(), ConfigureArgs{Stage: "s", Seed: 1, Values: vals, Links: links,
		Upstream: map[string]sdk.Shapes{"energy": {"input": {2}}}})
	if err != nil {
		t.Fatal(err)
	}
	if diags.HasErrors() {
		t.Fatal(diags.Err())
	}
	return shapes
}

func TestEveryKindRoundTrip(t *testing.T) {
	ctx := context.Background()
	t.Run("energy", func(t *testing.T) {
		c := dial(t, testplugins.NewQuadratic())
		info, err := c.Info(ctx)
		if err != nil || info.Kind != sdk.KindEnergy || info.Protocol != sdk.ProtocolVersion {
			t.Fatalf("info = %+v, %v", info, err)
		}
		if sh := configure(t, c, map[string]any{"shape": []int{3}}); len(sh["input"]) != 1 || sh["input"][0] != 3 {
			t.Fatalf("shapes = %v", sh)
		}
		x := sdk.FromFloat64([]float64{1, 2, 3}, 1, 3)
		f, g, err := c.Grad(ctx, x)
		if err != nil || f.F64[0] != 7 || g.F64[2] != 3 {
			t.Fatalf("grad = %v %v %v", f, g, err)
		}
		if _, err := c.Update(ctx, sdk.UpdateRequest{Pos: x, Neg: x, LR: 1}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("data", func(t *testing.T) {
		c := dial(t, testplugins.NewGaussian())
		configure(t, c, map[string]any{"shape": []int{2}})
		d, err := c.Describe(ctx)
		if err != nil || !d.HasDensity || d.Shape[0] != 2 {
			t.Fatalf("describe = %+v, %v", d, err)
		}
		x, err := c.Next(ctx, sdk.NextRequest{N: 5, Stream: "positives"})
		if err != nil || x.Expect(sdk.Float32, 5, 2) != nil {
			t.Fatalf("next = %v, %v", x, err)
		}
		lp, err := c.LogDensity(ctx, sdk.FromFloat64([]float64{0, 0}, 1, 2))
		if err != nil || lp.F64[0] > -1.837 || lp.F64[0] < -1.838 { // -log(2 pi) = -1.8379
			t.Fatalf("log density = %v, %v", lp, err)
		}
	})
	t.Run("unsupported", func(t *testing.T) {
		// A diagnostics plugin has no Energy service: the call fails with
		// sdk.ErrUnsupported, as a data set without a density does.
		c := dial(t, testplugins.NewRecorder())
		if _, err := c.Energy(ctx, sdk.FromFloat32([]float32{1}, 1, 1)); !errors.Is(err, sdk.ErrUnsupported) {
			t.Fatalf("err = %v, want sdk.ErrUnsupported", err)
		}
	})
	t.Run("diagnostics", func(t *testing.T) {
		c := dial(t, testplugins.NewRecorder())
		configure(t, c, nil)
		obs, err := c.Observe(ctx, []sdk.Record{{T: 1, DST: 1}, {T: 2, DST: -1, Extra: map[string]float64{"k": 2}}})
		if err != nil || obs.Metrics["records"] != 2 || len(obs.Events) != 1 || obs.Events[0].T != 2 {
			t.Fatalf("observe = %+v, %v", obs, err)
		}
		r, err := c.Report(ctx, true)
		if err != nil || !strings.Contains(string(r.Summary), `"final":true`) {
			t.Fatalf("report = %+v, %v", r, err)
		}
	})
	t.Run("sampler", func(t *testing.T) {
		e := dial(t, testplugins.NewQuadratic())
		configure(t, e, nil)
		s := dial(t, testplugins.NewLangevin())
		configure(t, s, map[string]any{"steps": 3, "batch": 4}, Link{Attribute: "energy", Target: e, Kind: sdk.KindEnergy})
		res, err := s.Sample(ctx, sdk.SampleRequest{Start: sdk.FromFloat32(make([]float32, 8), 4, 2), Trace: true})
		if err != nil || res.X.Expect(sdk.Float32, 4, 2) != nil || len(res.Trace) != 3 || res.AcceptRate != -1 {
			t.Fatalf("sample = %+v, %v", res, err)
		}
		// A diagnostics stage linked to the sampler, which is linked to the
		// energy: two brokered hops.
		probe := &samplerProbe{}
		configure(t, dial(t, probe), nil, Link{Attribute: "sampler", Target: s, Kind: sdk.KindSampler})
		if probe.got == nil || probe.got.X.Expect(sdk.Float32, 7, 2) != nil {
			t.Fatalf("sample through link = %+v", probe.got)
		}
	})
}

func TestMalformedTensorRefused(t *testing.T) {
	c := dial(t, testplugins.NewQuadratic())
	configure(t, c, nil)
	s, err := c.energy.Grad(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// A header claiming more bytes than its shape holds.
	s.Send(&pb.Frame{Chunk: &pb.TensorChunk{Start: true, Name: "x", Dtype: pb.DType_FLOAT32, Shape: []int64{2, 2}, ByteLen: 64}})
	s.CloseSend()
	_, err = s.Recv()
	if err == nil || !strings.Contains(err.Error(), `stage "s"`) || !strings.Contains(err.Error(), "claims 64 bytes") {
		t.Fatalf("err = %v", err)
	}
	// A well-formed tensor of the wrong shape: the plugin says what it expected.
	_, _, err = c.Grad(context.Background(), sdk.FromFloat32([]float32{1, 2, 3}, 1, 3))
	if err == nil || !strings.Contains(err.Error(), "expected float32 [? 2], received float32 [1 3]") {
		t.Fatalf("err = %v", err)
	}
}

func TestLinkRefusesUpdate(t *testing.T) {
	e := dial(t, testplugins.NewQuadratic())
	configure(t, e, nil)
	l := dial(t, &linkProbe{})
	configure(t, l, nil, Link{Attribute: "energy", Target: e, Kind: sdk.KindEnergy})
}
