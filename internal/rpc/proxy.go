package rpc

import (
	"context"
	"errors"
	"io"

	"github.com/ebmflow/ebmflow/internal/pb"
	"github.com/ebmflow/ebmflow/sdk"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// RegisterProxy registers on s the link services of kind, forwarding each
// call to target frame by frame. Frames pass unchanged, shared-memory
// handles and answer regions included: the two plugins share memory
// directly and the host touches no tensor data. Only what a linked stage may call is
// served: Energy and Grad of an energy stage (not Update), Describe, Next
// and LogDensity of a data stage, Sample of a sampler stage.
func RegisterProxy(s *grpc.Server, kind sdk.Kind, target *Client) {
	switch kind {
	case sdk.KindEnergy:
		pb.RegisterEnergyServer(s, &energyProxy{t: target})
	case sdk.KindData:
		pb.RegisterDataServer(s, &dataProxy{t: target})
	case sdk.KindSampler:
		pb.RegisterSamplerServer(s, &samplerProxy{t: target})
	}
}

type serverStream interface {
	Send(*pb.Frame) error
	Recv() (*pb.Frame, error)
	Context() context.Context
}

// forward relays one request-then-response exchange between in and a
// stream that open starts on the target.
func forward(t *Client, method string, in serverStream, open func(context.Context) (bidi, error)) error {
	out, err := open(in.Context())
	if err != nil {
		return proxyFailure(t, method, err)
	}
	for {
		f, err := in.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if err := out.Send(f); err != nil {
			break // the target's status arrives on Recv below
		}
	}
	if err := out.CloseSend(); err != nil {
		return proxyFailure(t, method, err)
	}
	for {
		f, err := out.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if s, ok := status.FromError(err); ok && ownError(s.Code()) {
				return err // the target's own error, naming its stage, with its code
			}
			return proxyFailure(t, method, err)
		}
		if err := in.Send(f); err != nil {
			return err
		}
	}
}

type energyProxy struct {
	pb.UnimplementedEnergyServer
	t *Client
}

func (p *energyProxy) Energy(s pb.Energy_EnergyServer) error {
	return forward(p.t, "energy", s, func(ctx context.Context) (bidi, error) { return p.t.energy.Energy(ctx) })
}

func (p *energyProxy) Grad(s pb.Energy_GradServer) error {
	return forward(p.t, "grad", s, func(ctx context.Context) (bidi, error) { return p.t.energy.Grad(ctx) })
}

func (p *energyProxy) Update(pb.Energy_UpdateServer) error {
	return status.Errorf(codes.PermissionDenied, "stage %q: update is not available through a link", p.t.Stage)
}

type dataProxy struct {
	pb.UnimplementedDataServer
	t *Client
}

func (p *dataProxy) Describe(ctx context.Context, e *pb.Empty) (*pb.DescribeResponse, error) {
	r, err := p.t.data.Describe(ctx, e)
	if err != nil {
		if s, ok := status.FromError(err); ok && ownError(s.Code()) {
			return nil, err
		}
		return nil, proxyFailure(p.t, "describe", err)
	}
	return r, nil
}

func (p *dataProxy) Next(s pb.Data_NextServer) error {
	return forward(p.t, "next", s, func(ctx context.Context) (bidi, error) { return p.t.data.Next(ctx) })
}

func (p *dataProxy) LogDensity(s pb.Data_LogDensityServer) error {
	return forward(p.t, "log density", s, func(ctx context.Context) (bidi, error) { return p.t.data.LogDensity(ctx) })
}

type samplerProxy struct {
	pb.UnimplementedSamplerServer
	t *Client
}

func (p *samplerProxy) Sample(s pb.Sampler_SampleServer) error {
	return forward(p.t, "sample", s, func(ctx context.Context) (bidi, error) { return p.t.sampler.Sample(ctx) })
}

// proxyFailure reports a forwarded call that failed on the target's side
// of the host (its process died, or the host killed it at its deadline) to
// the calling plugin, with a CallFailure naming the target in the details.
func proxyFailure(t *Client, method string, err error) error {
	werr := t.fail(method, err)
	st := status.New(codes.Unavailable, werr.Error())
	var cf *CallFailure
	switch {
	case errors.Is(werr, ErrCrashed):
		cf = &CallFailure{Stage: t.Stage, Method: method, Crashed: true}
	case errors.Is(werr, ErrDeadline):
		cf = &CallFailure{Stage: t.Stage, Method: method}
	}
	if cf != nil {
		if d, derr := st.WithDetails(cf.toPB()); derr == nil {
			st = d
		}
	}
	return st.Err()
}
