package rpc

import (
	"context"

	"github.com/ebmflow/ebmflow/internal/pb"
	"github.com/ebmflow/ebmflow/internal/wire"
	"github.com/ebmflow/ebmflow/sdk"
)

// Energy returns F(x) per sample.
func (c *Client) Energy(ctx context.Context, x *sdk.Tensor) (*sdk.Tensor, error) {
	msg, err := c.call(ctx, "energy", pb.Energy_Energy_FullMethodName, func(ctx context.Context) (bidi, error) { return c.energy.Energy(ctx) }, nil, wire.Named{Name: "x", Tensor: x})
	if err != nil {
		return nil, err
	}
	f, err := msg.Tensor("f")
	if err != nil {
		return nil, c.fail("energy", err)
	}
	return f, nil
}

// Grad returns F(x) and dF/dx.
func (c *Client) Grad(ctx context.Context, x *sdk.Tensor) (*sdk.Tensor, *sdk.Tensor, error) {
	msg, err := c.call(ctx, "grad", pb.Energy_Grad_FullMethodName, func(ctx context.Context) (bidi, error) { return c.energy.Grad(ctx) }, nil, wire.Named{Name: "x", Tensor: x})
	if err != nil {
		return nil, nil, err
	}
	f, err := msg.Tensor("f")
	if err != nil {
		return nil, nil, c.fail("grad", err)
	}
	g, err := msg.Tensor("dfdx")
	if err != nil {
		return nil, nil, c.fail("grad", err)
	}
	return f, g, nil
}

// GradInto is Grad reading the answer into f and dfdx where they fit
// (sdk.GradIntoer) when the call goes through a channel, straight from the
// shared memory. On gRPC frames the answer is decoded into new tensors
// anyway, and those are returned.
func (c *Client) GradInto(ctx context.Context, x, f, dfdx *sdk.Tensor) (*sdk.Tensor, *sdk.Tensor, error) {
	if c.ch == nil {
		return c.Grad(ctx, x)
	}
	msg, err := c.callChannel(ctx, "grad", pb.Energy_Grad_FullMethodName, nil, []wire.Named{{Name: "x", Tensor: x}},
		map[string]*sdk.Tensor{"f": f, "dfdx": dfdx})
	if err != nil {
		return nil, nil, err
	}
	gf, err := msg.Tensor("f")
	if err != nil {
		return nil, nil, c.fail("grad", err)
	}
	gd, err := msg.Tensor("dfdx")
	if err != nil {
		return nil, nil, c.fail("grad", err)
	}
	return gf, gd, nil
}

// Update takes one learning step.
func (c *Client) Update(ctx context.Context, req sdk.UpdateRequest) (sdk.UpdateResult, error) {
	msg, err := c.call(ctx, "update", pb.Energy_Update_FullMethodName, func(ctx context.Context) (bidi, error) { return c.energy.Update(ctx) }, updateRequestToPB(req),
		wire.Named{Name: "pos", Tensor: req.Pos}, wire.Named{Name: "neg", Tensor: req.Neg})
	if err != nil {
		return sdk.UpdateResult{}, err
	}
	var r pb.UpdateResponse
	if err := msg.Unmarshal(&r); err != nil {
		return sdk.UpdateResult{}, c.fail("update", err)
	}
	return updateResultFromPB(&r), nil
}

// Sample draws negatives.
func (c *Client) Sample(ctx context.Context, req sdk.SampleRequest) (*sdk.SampleResult, error) {
	msg, err := c.call(ctx, "sample", pb.Sampler_Sample_FullMethodName, func(ctx context.Context) (bidi, error) { return c.sampler.Sample(ctx) }, sampleRequestToPB(req),
		wire.Named{Name: "start", Tensor: req.Start})
	if err != nil {
		return nil, err
	}
	var r pb.SampleResponse
	if err := msg.Unmarshal(&r); err != nil {
		return nil, c.fail("sample", err)
	}
	x, err := msg.Tensor("x")
	if err != nil {
		return nil, c.fail("sample", err)
	}
	return sampleResultFromPB(&r, x), nil
}

// Describe returns the data stage's description.
func (c *Client) Describe(ctx context.Context) (sdk.DataInfo, error) {
	if c.ch != nil {
		msg, err := c.callChannel(ctx, "describe", pb.Data_Describe_FullMethodName, nil, nil, nil)
		if err != nil {
			return sdk.DataInfo{}, err
		}
		var r pb.DescribeResponse
		if err := msg.Unmarshal(&r); err != nil {
			return sdk.DataInfo{}, c.fail("describe", err)
		}
		return describeFromPB(&r), nil
	}
	r, err := c.data.Describe(ctx, &pb.Empty{})
	if err != nil {
		return sdk.DataInfo{}, c.fail("describe", err)
	}
	return describeFromPB(r), nil
}

// Next returns a batch of positives.
func (c *Client) Next(ctx context.Context, req sdk.NextRequest) (*sdk.Tensor, error) {
	msg, err := c.call(ctx, "next", pb.Data_Next_FullMethodName, func(ctx context.Context) (bidi, error) { return c.data.Next(ctx) }, nextRequestToPB(req))
	if err != nil {
		return nil, err
	}
	x, err := msg.Tensor("x")
	if err != nil {
		return nil, c.fail("next", err)
	}
	return x, nil
}

// LogDensity returns the true log-density at x.
func (c *Client) LogDensity(ctx context.Context, x *sdk.Tensor) (*sdk.Tensor, error) {
	msg, err := c.call(ctx, "log density", pb.Data_LogDensity_FullMethodName, func(ctx context.Context) (bidi, error) { return c.data.LogDensity(ctx) }, nil, wire.Named{Name: "x", Tensor: x})
	if err != nil {
		return nil, err
	}
	lp, err := msg.Tensor("logp")
	if err != nil {
		return nil, c.fail("log density", err)
	}
	return lp, nil
}

// Observe sends records to a diagnostics stage, with their positives and
// negatives as tensors "pos.I" and "neg.I" when the records carry them.
func (c *Client) Observe(ctx context.Context, recs []sdk.Record) (*sdk.Observation, error) {
	req, tensors := recordsToPB(recs)
	msg, err := c.call(ctx, "observe", pb.Diagnostics_Observe_FullMethodName, func(ctx context.Context) (bidi, error) { return c.diag.Observe(ctx) }, req, tensors...)
	if err != nil {
		return nil, err
	}
	var r pb.ObserveResponse
	if err := msg.Unmarshal(&r); err != nil {
		return nil, c.fail("observe", err)
	}
	return observationFromPB(&r), nil
}

// Report asks a diagnostics stage to write its report.
func (c *Client) Report(ctx context.Context, final bool) (*sdk.Report, error) {
	r, err := c.diag.Report(ctx, &pb.ReportRequest{Final: final})
	if err != nil {
		return nil, c.fail("report", err)
	}
	return reportFromPB(r), nil
}

var (
	_ sdk.EnergyLink  = (*Client)(nil)
	_ sdk.DataLink    = (*Client)(nil)
	_ sdk.SamplerLink = (*Client)(nil)
)
