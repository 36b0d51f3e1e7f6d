package rpc

import (
	"context"
	"fmt"
	"strings"

	"github.com/ebmflow/ebmflow/sdk"
)

// linkProbe is a sampler whose Configure checks what a link allows: it may
// compute gradients, and it must not be able to update the linked energy.
type linkProbe struct{}

func (*linkProbe) Info() sdk.Info { return sdk.Info{Name: "probe", Version: "0"} }
func (*linkProbe) Schema() sdk.Schema {
	return sdk.Schema{Attributes: []sdk.Attribute{{Name: "energy", Type: sdk.StageRef(sdk.KindEnergy), Required: true}}}
}
func (*linkProbe) Configure(ctx context.Context, cfg *sdk.Config) (sdk.Shapes, sdk.Problems) {
	var d sdk.Problems
	e, err := cfg.Energy("energy")
	if err != nil {
		d.Errorf(nil, "no link", "%v", err)
		return nil, d
	}
	if _, _, err := e.Grad(ctx, sdk.FromFloat32([]float32{1, 1}, 1, 2)); err != nil {
		d.Errorf(nil, "grad through link failed", "%v", err)
	}
	u, ok := e.(interface {
		Update(context.Context, sdk.UpdateRequest) (sdk.UpdateResult, error)
	})
	if !ok {
		d.Errorf(nil, "link has no Update method", "")
		return nil, d
	}
	x := sdk.FromFloat32([]float32{1, 1}, 1, 2)
	if _, err := u.Update(ctx, sdk.UpdateRequest{Pos: x, Neg: x, LR: 1}); err == nil || !strings.Contains(err.Error(), "not available through a link") {
		d.Errorf(nil, "update through a link was not refused", "%v", err)
	}
	return nil, d
}
func (*linkProbe) SaveState(context.Context) (*sdk.State, error) { return &sdk.State{}, nil }
func (*linkProbe) LoadState(context.Context, *sdk.State) error   { return nil }
func (*linkProbe) Sample(context.Context, sdk.SampleRequest) (*sdk.SampleResult, error) {
	return nil, fmt.Errorf("not a sampler")
}

// samplerProbe is a diagnostics stage whose Configure draws samples through
// a linked sampler, as the density diagnostic does.
type samplerProbe struct{ got *sdk.SampleResult }

func (*samplerProbe) Info() sdk.Info { return sdk.Info{Name: "sprobe", Version: "0"} }
func (*samplerProbe) Schema() sdk.Schema {
	return sdk.Schema{Attributes: []sdk.Attribute{{Name: "sampler", Type: sdk.StageRef(sdk.KindSampler), Required: true}}}
}
func (p *samplerProbe) Configure(ctx context.Context, cfg *sdk.Config) (sdk.Shapes, sdk.Problems) {
	var d sdk.Problems
	s, err := cfg.Sampler("sampler")
	if err == nil {
		p.got, err = s.Sample(ctx, sdk.SampleRequest{N: 7, Steps: 2, LeaveBank: true})
	}
	if err != nil {
		d.Errorf([]string{"sampler"}, "sampling through the link failed", "%v", err)
	}
	return nil, d
}
func (*samplerProbe) SaveState(context.Context) (*sdk.State, error) { return &sdk.State{}, nil }
func (*samplerProbe) LoadState(context.Context, *sdk.State) error   { return nil }
func (*samplerProbe) Observe(context.Context, []sdk.Record) (*sdk.Observation, error) {
	return &sdk.Observation{}, nil
}
func (*samplerProbe) Report(context.Context, bool) (*sdk.Report, error) { return &sdk.Report{}, nil }
